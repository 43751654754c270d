/**
 * One container run's standard streams, as containerd's shim keeps them for CRI: the output goes to the CRI
 * log and to every attached session; stdin, when the container asked for it (`stdin: true`), stays open in the
 * supervisor so that `podns attach -i` can write to it; with `tty: true` all three are one terminal, made inside
 * the container (the addon's console step), whose master the supervisor holds.
 *
 *   stdin  false, tty false   0 = /dev/null,   1 and 2 = pipes to the supervisor (stdout and stderr records)
 *   stdin  true,  tty false   0 = a pipe from the supervisor, 1 and 2 as above
 *   tty    true               0, 1, 2 = the pty's peer; the master reads as stdout and takes stdin
 *
 * stdinOnce: the first attach session that used stdin closes it when it ends (EOF to the container; with a
 * terminal, the EOF character, since a pty cannot be half-closed).
 *
 * The pause's fd store holds a copy of every fd of ours the run depends on (heldFds): the output pipes' read
 * ends (1 MiB pipes), stdin's write end, the terminal's master. So when the supervisor dies the container writes
 * on into its pipes, keeps its stdin open (no EOF) and its terminal (no hang-up); a new supervisor makes the run's IO
 * again from the copies it takes back (ContainerIO.takenOver). A stdin closed on purpose (stdinOnce) is first
 * taken back from the store (`release`), or the container would never see its EOF.
 */
import fs from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import type { Kernel } from '../kernel/kernel.js';
import type { CriLogWriter } from '../logs/cri-log-writer.js';
import { OUTPUT_PIPE_BYTES } from './fd-store.js';
import { TerminalWriter } from './terminal-writer.js';

export type OutputStream = 'stdout' | 'stderr';

/** What each fd the pause holds for a run is (the keys of state.json's heldFds). */
export type HeldRole = OutputStream | 'stdin' | 'tty';

export interface StdioOptions {
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

/** Called with stdin's write end just before it is closed on purpose: the pause must let go of its copy. */
export type ReleaseStdin = (fd: number) => void;

/** What an attached client gets: output as it comes, and the end of the run. */
export interface AttachListener {
  output(stream: OutputStream, chunk: Buffer): void;
  /** The run is over (its output drained); the exit code when known. */
  ended(exitCode?: number): void;
}

/** VEOF in a terminal's default settings (^D): a read on the terminal returns 0, as at the end of a file. */
const TERMINAL_EOF = Buffer.from([0x04]);

export class ContainerIO {
  readonly terminal: boolean;
  readonly stdinOpen: boolean;
  private readonly once: boolean;
  /** The child's ends (closed once it has them) and ours. */
  private childFds: number[] = [];
  private stdio?: [number, number, number];
  private outputs: { fd: number; stream: OutputStream }[] = [];
  private stdinPipe?: number;
  private stdinSocket?: net.Socket;
  private master?: tty.ReadStream;
  private masterFd?: number;
  private terminalWriter?: TerminalWriter;
  private readonly listeners = new Set<AttachListener>();
  private stdinClosed = false;
  private stdinUsed = false;
  private finished = false;

  /** `taken`: the fds of a run a dead supervisor started, taken back from the pause (see takenOver). */
  private constructor(
    kernel: Pick<Kernel, 'pipe'> | undefined,
    options: StdioOptions,
    private readonly release?: ReleaseStdin,
    taken?: Partial<Record<HeldRole, number>>,
  ) {
    this.terminal = options.tty === true;
    this.stdinOpen = options.stdin === true;
    this.once = options.stdinOnce === true;
    if (taken) {
      for (const stream of ['stdout', 'stderr'] as const) {
        const fd = taken[stream];
        if (fd !== undefined) this.outputs.push({ fd, stream });
      }
      this.stdinPipe = taken.stdin;
      // No copy of stdin's write end in the pause: it was closed on purpose (stdinOnce) before the takeover.
      if (!this.terminal && this.stdinPipe === undefined) this.stdinClosed = true;
      this.masterFd = taken.tty;
      return;
    }
    if (this.terminal) return; // the addon makes the terminal inside the container
    // Large: what the container writes while no supervisor reads (after one died) waits here.
    const [outRead, outWrite] = kernel!.pipe(OUTPUT_PIPE_BYTES);
    const [errRead, errWrite] = kernel!.pipe(OUTPUT_PIPE_BYTES);
    this.outputs = [
      { fd: outRead, stream: 'stdout' },
      { fd: errRead, stream: 'stderr' },
    ];
    let stdin: number;
    if (this.stdinOpen) {
      const [inRead, inWrite] = kernel!.pipe();
      this.stdinPipe = inWrite;
      stdin = inRead;
    } else {
      stdin = fs.openSync('/dev/null', 'r');
    }
    this.childFds = [stdin, outWrite, errWrite];
    this.stdio = [stdin, outWrite, errWrite];
  }

  /** A new run's IO. */
  static create(kernel: Pick<Kernel, 'pipe'>, options: StdioOptions, release?: ReleaseStdin): ContainerIO {
    return new ContainerIO(kernel, options, release);
  }

  /**
   * The IO of a run a dead supervisor started, from the fds taken back from the pause (a missing one: the pause no
   * longer had it, its writers being gone): output is read on into `logs` (appended), stdin and the terminal
   * take input again.
   */
  static takenOver(options: StdioOptions, taken: Partial<Record<HeldRole, number>>, logs: CriLogWriter, release?: ReleaseStdin): ContainerIO {
    const io = new ContainerIO(undefined, options, release, taken);
    // A terminal's master the pause no longer had: the terminal is gone, and its output with it.
    if (io.terminal && io.masterFd === undefined) io.stdinClosed = true;
    else io.started(logs, io.masterFd);
    return io;
  }

  /**
   * The fds the pause's fd store holds for this run: the output pipes' read ends and stdin's write end before
   * the spawn, or the terminal's master once it is started.
   */
  heldFds(): Partial<Record<HeldRole, number>> {
    const held: Partial<Record<HeldRole, number>> = Object.fromEntries(this.outputs.map((o) => [o.stream, o.fd]));
    if (this.stdinPipe !== undefined) held.stdin = this.stdinPipe;
    if (this.masterFd !== undefined) held.tty = this.masterFd;
    return held;
  }

  /** The fds that become the child's 0, 1, 2 (not with a terminal). */
  childStdio(): [number, number, number] {
    if (!this.stdio) throw new Error('a container with a terminal has no stdio fds');
    return this.stdio;
  }

  /** The spawn failed: nothing of this run is left open (started() was never called). */
  abandon(): void {
    for (const fd of [...this.childFds, ...this.outputs.map((o) => o.fd), ...(this.stdinPipe === undefined ? [] : [this.stdinPipe])]) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.childFds = [];
    this.outputs = [];
    this.stdinPipe = undefined;
  }

  /**
   * The child runs: our copies of its ends go, and its output is copied into the log (and to attached
   * sessions). `master` is the terminal's master, with a terminal.
   */
  started(logs: CriLogWriter, master?: number): void {
    for (const fd of this.childFds) fs.closeSync(fd);
    this.childFds = [];
    if (this.terminal) {
      if (master === undefined) throw new Error('a container with a terminal needs its master');
      this.masterFd = master;
      this.master = new tty.ReadStream(master);
      this.terminalWriter = new TerminalWriter(master);
      // The peer's last close makes reads fail with EIO: that is the terminal's end of file.
      this.master.on('error', () => {});
      // The fd is closed with the stream: from then on its number may belong to something else.
      this.master.on('close', () => this.terminalWriter?.close());
      this.master.on('data', (chunk: Buffer) => this.broadcast('stdout', chunk));
      logs.attach(this.master, 'stdout');
      return;
    }
    for (const { fd, stream } of this.outputs) {
      const socket = new net.Socket({ fd, readable: true, writable: false });
      socket.on('data', (chunk: Buffer) => this.broadcast(stream, chunk));
      logs.attach(socket, stream);
    }
    if (this.stdinPipe !== undefined) {
      this.stdinSocket = new net.Socket({ fd: this.stdinPipe, readable: false, writable: true });
      // EPIPE once the container has closed its stdin or exited: input then has nowhere to go.
      this.stdinSocket.on('error', () => this.closeStdin());
    }
  }

  /** Input from an attached session. */
  writeStdin(data: Buffer): void {
    if (!this.stdinOpen || this.stdinClosed) return;
    this.stdinUsed = true;
    if (this.terminalWriter) this.terminalWriter.write(data);
    else this.stdinSocket?.write(data);
  }

  /** The session's own stdin ended: with stdinOnce that is the container's end of input too. */
  stdinEnded(): void {
    if (this.once) this.closeStdin();
  }

  /** The container's terminal size (TIOCSWINSZ; the kernel sends it SIGWINCH). */
  resize(rows: number, cols: number, setWindowSize: (fd: number, rows: number, cols: number) => void): void {
    if (this.masterFd === undefined || this.finished || rows <= 0 || cols <= 0) return;
    try {
      setWindowSize(this.masterFd, rows, cols);
    } catch {
      // the terminal is closing
    }
  }

  /** stdinOnce and the container's exit: no more input, ever, for this run. */
  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    if (this.terminalWriter) {
      this.terminalWriter.write(TERMINAL_EOF);
      return;
    }
    if (this.stdinSocket && this.stdinPipe !== undefined && !this.finished) {
      try {
        this.release?.(this.stdinPipe);
      } catch {
        // The pause is gone: it holds nothing any more.
      }
    }
    this.stdinSocket?.end();
  }

  /** A session joins; returns its leave function (which closes stdin under stdinOnce, if it used it). */
  attach(listener: AttachListener, usesStdin: boolean): () => void {
    if (this.finished) {
      listener.ended();
      return () => {};
    }
    this.listeners.add(listener);
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (usesStdin && this.once && this.stdinUsed) this.closeStdin();
    };
  }

  get attached(): number {
    return this.listeners.size;
  }

  /** The run is over and its log is closed: sessions end, our ends of stdin and the terminal close. */
  ended(exitCode: number): void {
    this.finished = true;
    this.stdinClosed = true;
    this.terminalWriter?.close();
    this.stdinSocket?.destroy();
    this.master?.destroy();
    for (const l of this.listeners) l.ended(exitCode);
    this.listeners.clear();
  }

  private broadcast(stream: OutputStream, chunk: Buffer): void {
    for (const l of this.listeners) l.output(stream, chunk);
  }
}
