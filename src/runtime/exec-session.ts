/**
 * CRI Exec's process: a command run in a running container from the supervisor, its stdio as Node streams for
 * the streaming server (src/cri/streaming) to copy to and from a client — the same spawn as `podns exec` and
 * ExecSync (planExecSpawn: the container's namespaces, cgroup, user, cwd, env, confinement), with either
 *   tty     a terminal made in the container's devpts (TERM=xterm, as containerd sets it for a tty exec); its
 *           master is our stdout and stdin; resize is TIOCSWINSZ on it
 *   pipes   stdout and stderr pipes, and a stdin pipe when asked (else /dev/null)
 *
 * As containerd's exec: the client's end of input closes the command's stdin (not a terminal's: a pty cannot be
 * half-closed and containerd leaves it open); the session is over when the command has exited and its output
 * has been read to the end; kill() is for a client that went away (SIGKILL to the command, as containerd's
 * execInternal does when the stream's context ends).
 *
 * Output a child of the command still holds after the exit (`sh -c 'sleep 60 &'`) would keep the session open
 * for as long as that child lives; as `podns exec` gives it 200 ms, the output is cut once it has been silent for
 * that long after the exit while nobody was waiting on the client.
 */
import fs from 'node:fs';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import tty from 'node:tty';
import type { Kernel } from '../kernel/kernel.js';
import { planExecSpawn } from './exec-plan.js';
import type { ExecTarget } from './exec-sync.js';
import { TerminalWriter } from './terminal-writer.js';

export interface ExecSessionOptions {
  tty: boolean;
  /** The command reads what the client sends (else its stdin is /dev/null; a terminal always takes input). */
  stdin: boolean;
  /** The container's cgroup.procs files: the command joins them before it execs. */
  cgroupProcsFiles?: string[];
}

export interface ExecSession {
  readonly pid: number;
  /** The command's input: ending it closes the command's stdin (pipes only). Absent without stdin. */
  readonly stdin?: Writable;
  /** The command's stdout, or its terminal's output. */
  readonly stdout: Readable;
  /** Absent with a terminal (one stream for both). */
  readonly stderr?: Readable;
  /** The terminal's size (TIOCSWINSZ; the command gets SIGWINCH); ignored without a terminal. */
  resize(rows: number, cols: number): void;
  /** SIGKILL, for a client that went away; the session then ends as any other. */
  kill(): void;
  /** The exit code (128 + signal for a killed command) once it exited and its output ended. */
  readonly done: Promise<number>;
}

/** How long output may stay silent after the exit before it is taken as ended (a child of the command holds it). */
const LINGER_MS = 200;

/** Starts `argv` in the container. Rejects (SysError naming the step) when the spawn fails: nothing runs then. */
export async function startExecSession(kernel: Kernel, target: ExecTarget, argv: string[], options: ExecSessionOptions): Promise<ExecSession> {
  return options.tty ? startWithTerminal(kernel, target, argv, options) : startWithPipes(kernel, target, argv, options);
}

async function startWithPipes(kernel: Kernel, target: ExecTarget, argv: string[], options: ExecSessionOptions): Promise<ExecSession> {
  const opened: number[] = [];
  const pipe = () => {
    const ends = kernel.pipe();
    opened.push(...ends);
    return ends;
  };
  let pid: number;
  let ours: { stdin?: number; stdout: number; stderr: number };
  try {
    const [inRead, inWrite] = options.stdin ? pipe() : [fs.openSync('/dev/null', 'r'), undefined];
    if (!options.stdin) opened.push(inRead);
    const [outRead, outWrite] = pipe();
    const [errRead, errWrite] = pipe();
    ours = { stdin: inWrite, stdout: outRead, stderr: errRead };
    const request = planExecSpawn(target.process.pid, target.spec, argv, [inRead, outWrite, errWrite], [], target.seccompFilter);
    if (options.cgroupProcsFiles) request.cgroupProcsFiles = options.cgroupProcsFiles;
    pid = await kernel.spawn(request, `exec in container "${target.name}"`);
    // The child has its ends: ours of them go.
    for (const fd of [inRead, outWrite, errWrite]) fs.closeSync(fd);
  } catch (err) {
    for (const fd of opened) closeQuietly(fd);
    throw err;
  }
  const stdout = new net.Socket({ fd: ours.stdout, readable: true, writable: false });
  const stderr = new net.Socket({ fd: ours.stderr, readable: true, writable: false });
  let stdin: net.Socket | undefined;
  if (ours.stdin !== undefined) {
    stdin = new net.Socket({ fd: ours.stdin, readable: false, writable: true });
    // EPIPE: the command closed its stdin or exited; input has nowhere to go.
    stdin.on('error', () => stdin!.destroy());
  }
  for (const s of [stdout, stderr]) s.on('error', () => s.destroy());
  const exited = watch(kernel, pid);
  const done = exited.then(async (code) => {
    await outputEnded([stdout, stderr]);
    stdin?.destroy();
    return code;
  });
  return {
    pid,
    stdin,
    stdout,
    stderr,
    resize: () => {},
    kill: killer(kernel, pid, exited),
    done,
  };
}

async function startWithTerminal(kernel: Kernel, target: ExecTarget, argv: string[], options: ExecSessionOptions): Promise<ExecSession> {
  const request = planExecSpawn(target.process.pid, target.spec, argv, [-1, -1, -1], ['TERM=xterm'], target.seccompFilter);
  if (options.cgroupProcsFiles) request.cgroupProcsFiles = options.cgroupProcsFiles;
  const { pid, master } = await kernel.spawnWithTerminal(request, `exec in container "${target.name}"`);
  const output = new tty.ReadStream(master);
  const writer = new TerminalWriter(master);
  // EIO once the command and everything it started have closed the terminal: its end of file.
  output.on('error', () => output.destroy());
  // The fd closes with the stream: from then on its number may belong to something else.
  output.once('close', () => writer.close());
  const stdin = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writer.write(chunk);
      callback();
    },
  });
  const exited = watch(kernel, pid);
  const done = exited.then(async (code) => {
    await outputEnded([output]);
    writer.close();
    output.destroy();
    return code;
  });
  return {
    pid,
    stdin: options.stdin ? stdin : undefined,
    stdout: output,
    resize: (rows, cols) => {
      if (rows > 0 && cols > 0 && !output.destroyed) {
        try {
          kernel.setWindowSize(master, rows, cols);
        } catch {
          // the terminal is closing
        }
      }
    },
    kill: killer(kernel, pid, exited),
    done,
  };
}

function watch(kernel: Kernel, pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    try {
      kernel.watchExit(pid, (status) => resolve(status.exitCode ?? 128 + (status.signal ?? 0)));
    } catch (err) {
      kernel.killAndReap(pid);
      reject(err);
    }
  });
}

function killer(kernel: Kernel, pid: number, exited: Promise<number>): () => void {
  let over = false;
  void exited.finally(() => (over = true));
  return () => {
    // Never a signal to a pid that is no longer ours: it is reaped by watchExit before `over` is set.
    if (!over) kernel.signal(pid, 'SIGKILL');
  };
}

/**
 * Resolves once every output stream ended or closed. Called after the exit: a stream that has been silent for
 * LINGER_MS while not held back by its reader (paused: the client is slow) is cut — a child holds it.
 */
function outputEnded(streams: Readable[]): Promise<void> {
  const open = streams.filter((s) => !s.readableEnded && !s.destroyed);
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let remaining = open.length;
    const moved = new Map<Readable, number>();
    const onData = (s: Readable) => () => moved.set(s, (moved.get(s) ?? 0) + 1);
    const timer = setInterval(() => {
      for (const s of open) {
        if (s.destroyed || s.readableEnded) continue;
        if (!moved.get(s) && !s.isPaused()) s.destroy();
        moved.set(s, 0);
      }
    }, LINGER_MS);
    for (const s of open) {
      s.on('data', onData(s));
      let counted = false;
      const finished = () => {
        if (counted) return;
        counted = true;
        if (--remaining === 0) {
          clearInterval(timer);
          resolve();
        }
      };
      s.once('end', finished);
      s.once('close', finished);
    }
  });
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
