/**
 * A recording fake of the kernel seam (src/kernel/kernel.ts), after youki's recording Syscall: every call is kept
 * in order (`calls`, or `trace()` as short lines for assertions), and the processes are played rather than run.
 *
 * - spawn / spawnWithTerminal return fake pids (above the kernel's PID_MAX_LIMIT, so one never names a real
 *   process) and write the process into a proc tree of its own (`procRoot`: `<pid>/stat` with its state and start
 *   time, `<pid>/ns/mnt`, `<pid>/fd/<n>`), which the runtime service reads through its `procRoot` option.
 * - The test decides when a process exits (`exit`, or FakeProcess.exit): its stat turns to Z, the fds it was given
 *   close (so whoever reads its pipes sees their end), and the watchExit / watchForeignExit callback comes on a
 *   later turn of the event loop, as the addon's does. SIGKILL makes a process exit with signal 9; any other
 *   signal is only recorded unless the process was told to obey it (FakeProcess.obey).
 * - A failure can be injected into the nth call of a kind (`failOn`): a spawn fails at the step given, with the
 *   addon's own message (describeSpawnFailure); mount, umount, sendFds and takeFd fail with the errno given. A spawn
 *   that joins the namespaces of a played process that has exited fails as the addon's does (ENOENT opening them).
 * - Each call is stamped with Date.now(): under fake timers, `timeline()` says when a signal was sent.
 * - Real fds where the code needs them: pipe and socketPair are the addon's (they need no root), so ContainerIO and
 *   the CRI log writer work unchanged. A process holds duplicates of the fds it was given (its stdio, extraFds;
 *   pidfd_getfd on ourselves), so it can write log lines into its stdout pipe (FakeProcess.write), and the pause
 *   really holds what is sent to its fd store, so a new supervisor takes the pipes back from it (takeFd).
 * - `supervisorDied()` plays the supervisor's death for a takeover: its exit watches are gone, every process is an
 *   orphan from then on (reaped by init when it exits, its status lost) until a new runtime service watches it.
 *
 * What it does not play: a terminal (spawnWithTerminal's master is a pipe's read end: output only, since Node cannot
 * unlock a pty without the addon), the pause's dropping of drained fds (a nudge is only recorded), and mount tables
 * (mounts are recorded; /proc/self/mountinfo is the host's, so the runtime's unmount-if-mounted checks see none).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SysError } from '../../../src/errors.js';
import type { Kernel, SpawnTrace } from '../../../src/kernel/kernel.js';
import { CLONE, JOIN_ORDER, type ExitStatus, type ProcessIdentity, type SpawnRequest } from '../../../src/kernel/types.js';
import { processRef } from '../../../src/runtime/proc.js';
import { describeSpawnFailure, nativeKernel } from '../../../src/sys/native.js';

/** Taken before a test can install fake timers: exits are delivered on real turns of the event loop. */
const realSetImmediate = globalThis.setImmediate;

/** Above PID_MAX_LIMIT (4 194 304 on 64-bit): a fake pid is never a real process's, in /proc or for kill(2). */
const FIRST_PID = 5_000_000;

export type KernelCall = (
  | { call: 'spawn'; what: string; request: SpawnRequest; terminal: boolean; pid?: number; failed?: string }
  | { call: 'watchExit'; pid: number }
  | { call: 'watchForeignExit'; pid: number; startTime: number }
  | { call: 'killAndReap'; pid: number }
  | { call: 'signal'; pid: number; signal: string; delivered: boolean }
  | { call: 'takeFd'; pid: number; fd: number; failed?: string }
  | { call: 'socketPair' }
  | { call: 'sendFds'; what: string; verb: 'hold' | 'drop'; count: number; failed?: string }
  | { call: 'pipe'; size?: number }
  | { call: 'setWindowSize'; fd: number; rows: number; cols: number }
  | { call: 'becomeChildSubreaper' }
  | { call: 'mount'; source: string | null; target: string; fstype: string | null; flags: number; data?: string | null; failed?: string }
  | { call: 'umount'; target: string; flags?: number; failed?: string }
  | { call: 'attachDeviceFilter'; dir: string }
  | { call: 'connectInNetworkNamespace'; nsPath: string; port: number }
) & {
  /** Date.now() when it was made: the test's fake time, so that a test can check when a signal was sent. */
  at?: number;
};

export type CallKind = KernelCall['call'];

/** A failure for the nth matching call from now on (1: the next one); one-shot. */
export interface InjectedFailure {
  /** An errno name: EACCES, EBUSY, ... */
  code: string;
  nth?: number;
  /** spawn: the addon's step (exec, mount, setns, chdir, ...) and its index where the step has one. */
  step?: string;
  index?: number;
  /** Only calls this accepts count toward nth (e.g. spawns of one container). */
  match?: (call: KernelCall) => boolean;
}

interface Watch {
  onExit: (status: ExitStatus) => void;
  /** Our child (watchExit: reaped by us) or not (watchForeignExit). */
  child: boolean;
}

export type ProcessState = 'running' | 'zombie' | 'reaped';

/** One played process. */
export class FakeProcess {
  state: ProcessState = 'running';
  status?: ExitStatus;
  /** Our child: false once its supervisor died (it was started by another, or that one is gone). */
  child = true;
  /** Its fd table: the fd number it sees → a real fd of this test process (a duplicate of what it was given). */
  readonly fds = new Map<number, number>();
  private readonly obeyed = new Map<string, ExitStatus>();

  constructor(
    private readonly kernel: FakeKernel,
    readonly pid: number,
    readonly startTime: number,
    readonly what: string,
    readonly request: SpawnRequest,
  ) {}

  get identity(): ProcessIdentity {
    return { pid: this.pid, startTime: this.startTime };
  }

  /** pause, a container's main process, or an exec in a container (hooks, probes). */
  get kind(): 'pause' | 'container' | 'exec' | 'other' {
    if (this.what === 'pause') return 'pause';
    if (this.what.startsWith('exec in container')) return 'exec';
    if (this.what.startsWith('container ')) return 'container';
    return 'other';
  }

  /** The container it belongs to: `app` for `container "app"` and `exec in container "app"`. */
  get container(): string | undefined {
    return /container "([^"]+)"/.exec(this.what)?.[1];
  }

  get argv(): string[] {
    return this.request.argv;
  }

  /** Output, as the process would write it: into the pipe that is its stdout (or stderr). */
  write(stream: 'stdout' | 'stderr', text: string): void {
    const fd = this.fds.get(stream === 'stdout' ? 1 : 2);
    if (fd === undefined) throw new Error(`${this.what} (pid ${this.pid}) has no ${stream}`);
    fs.writeSync(fd, text);
  }

  /** From now on `signal` makes it exit with `status` (by default: killed by that signal). */
  obey(signal: NodeJS.Signals, status?: ExitStatus): this {
    this.obeyed.set(signal, status ?? { exitCode: null, signal: os.constants.signals[signal] });
    return this;
  }

  exitStatusFor(signal: string): ExitStatus | undefined {
    if (signal === 'SIGKILL') return { exitCode: null, signal: 9 };
    return this.obeyed.get(signal);
  }

  exit(status: Partial<ExitStatus> = {}): void {
    this.kernel.exit(this.pid, { exitCode: status.exitCode ?? (status.signal ? null : 0), signal: status.signal ?? null });
  }
}

export class FakeKernel implements Kernel {
  readonly calls: KernelCall[] = [];
  /** The fake /proc: `<procRoot>/<pid>/{stat,ns/mnt,fd/}`. */
  readonly procRoot: string;
  private readonly base: string;
  private readonly table = new Map<number, FakeProcess>();
  private readonly watches = new Map<number, Watch>();
  private readonly failures: { kind: CallKind; failure: InjectedFailure; seen: number }[] = [];
  private readonly spawnHandlers: ((p: FakeProcess) => void)[] = [];
  /** Each socket pair's ends by identity: what is sent on one end arrives at the other. */
  private readonly peers = new Map<string, string>();
  private readonly self: ProcessIdentity;
  private nextPid = FIRST_PID;
  private nextStartTime = 1000;

  constructor() {
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-fake-kernel-'));
    this.procRoot = path.join(this.base, 'proc');
    fs.mkdirSync(this.procRoot);
    // The mount namespace of everything spawned without CLONE_NEWNS (as a container's exec joins its own).
    fs.writeFileSync(path.join(this.base, 'host-mnt'), '');
    this.self = processRef(process.pid) ?? { pid: process.pid, startTime: 0 };
  }

  // -----------------------------------------------------------------------------------------------------------
  // The test's side

  /**
   * Called for every process at its spawn, before spawn returns: a handler may set it up (obey) or end it at once
   * (exit: a process that exits right after its exec; its caller's watch then finds a zombie).
   */
  onSpawn(handler: (p: FakeProcess) => void): void {
    this.spawnHandlers.push(handler);
  }

  /** Makes the nth next call of `kind` fail (see InjectedFailure). */
  failOn(kind: 'spawn' | 'mount' | 'umount' | 'sendFds' | 'takeFd', failure: InjectedFailure): void {
    this.failures.push({ kind, failure, seen: 0 });
  }

  /** Every process spawned, in order. */
  get processes(): FakeProcess[] {
    return [...this.table.values()];
  }

  process(pid: number): FakeProcess {
    const p = this.table.get(pid);
    if (!p) throw new Error(`fake kernel: no process ${pid}`);
    return p;
  }

  /** The last process spawned as `what` (`container "app"`, `pause`), whatever its state. */
  last(what: string): FakeProcess {
    const p = this.processes.findLast((q) => q.what === what);
    if (!p) throw new Error(`fake kernel: nothing was spawned as ${what}`);
    return p;
  }

  /** The running process spawned as `what`; throws unless exactly one runs. */
  running(what: string): FakeProcess {
    const found = this.processes.filter((q) => q.what === what && q.state === 'running');
    if (found.length !== 1) throw new Error(`fake kernel: ${found.length} running processes are ${what}`);
    return found[0]!;
  }

  /**
   * The process exits: its stat shows Z, the fds it was given close, and its watcher is told on a later turn (an
   * orphan nobody watches is reaped by init at once, and its status is lost with it).
   */
  exit(pid: number, status: ExitStatus): void {
    const p = this.process(pid);
    if (p.state !== 'running') throw new Error(`fake kernel: ${p.what} (pid ${pid}) has already exited`);
    p.state = 'zombie';
    p.status = status;
    this.writeStat(p, 'Z');
    // A process that has exited has no namespace links any more.
    fs.rmSync(path.join(this.procRoot, String(pid), 'ns', 'mnt'));
    for (const fd of p.fds.keys()) this.closeFd(p, fd);
    const watch = this.watches.get(pid);
    if (watch) this.deliver(p, watch);
    else if (!p.child) this.reap(p);
  }

  /**
   * The supervisor died: the exits it watched will never reach it, and every process is an orphan from now on
   * (what exited and was not reaped yet is reaped by init). A new runtime service on this kernel is the next one.
   */
  supervisorDied(): void {
    this.watches.clear();
    for (const p of this.table.values()) {
      p.child = false;
      if (p.state === 'zombie') this.reap(p);
    }
  }

  /** The calls of the given kinds (all without) as short lines: `spawn container "app"`, `signal SIGTERM container "app"`. */
  trace(...kinds: CallKind[]): string[] {
    return this.calls.filter((c) => kinds.length === 0 || kinds.includes(c.call)).map((c) => this.describe(c));
  }

  /** trace() with the time of each call in seconds since `t0` (Date.now() then): `10s signal SIGTERM container "app"`. */
  timeline(t0: number, ...kinds: CallKind[]): string[] {
    return this.calls.filter((c) => kinds.length === 0 || kinds.includes(c.call)).map((c) => `${(c.at! - t0) / 1000}s ${this.describe(c)}`);
  }

  /** Closes every fd the processes still hold and removes the proc tree. */
  dispose(): void {
    for (const p of this.table.values()) for (const fd of p.fds.keys()) this.closeFd(p, fd);
    fs.rmSync(this.base, { recursive: true, force: true });
  }

  // -----------------------------------------------------------------------------------------------------------
  // The Kernel interface

  spawn(request: SpawnRequest, what: string, onSteps?: SpawnTrace): number {
    const p = this.start(request, what, false);
    onSteps?.([], p.pid);
    return p.pid;
  }

  spawnWithTerminal(request: SpawnRequest, what: string, onSteps?: SpawnTrace): { pid: number; master: number } {
    // The terminal's stand-in: a pipe whose write end is the process's 0, 1 and 2 (output only).
    const [master, peer] = nativeKernel.pipe();
    let p: FakeProcess;
    try {
      p = this.start({ ...request, stdio: [peer, peer, peer] }, what, true);
    } catch (err) {
      fs.closeSync(master);
      throw err;
    } finally {
      fs.closeSync(peer);
    }
    onSteps?.([], p.pid);
    return { pid: p.pid, master };
  }

  watchExit(pid: number, onExit: (status: ExitStatus) => void): void {
    this.record({ call: 'watchExit', pid });
    const p = this.table.get(pid);
    if (!p || p.state === 'reaped' || !p.child) throw new SysError('native.watchExit', 'pidfd_open', 3, 'ESRCH', `watch pid ${pid}`);
    const watch = { onExit, child: true };
    this.watches.set(pid, watch);
    if (p.state === 'zombie') this.deliver(p, watch);
  }

  watchForeignExit(target: ProcessIdentity, onExit: (status: ExitStatus) => void): void {
    this.record({ call: 'watchForeignExit', pid: target.pid, startTime: target.startTime });
    const p = this.table.get(target.pid);
    if (!p || p.state === 'reaped' || p.startTime !== target.startTime) {
      throw new SysError('native.watchForeignExit', 'pidfd_open', 3, 'ESRCH', `watch pid ${target.pid}`);
    }
    const watch = { onExit, child: false };
    this.watches.set(target.pid, watch);
    if (p.state === 'zombie') this.deliver(p, watch);
  }

  killAndReap(pid: number): void {
    this.record({ call: 'killAndReap', pid });
    const p = this.table.get(pid);
    if (!p || p.state === 'reaped') return;
    this.watches.delete(pid);
    if (p.state === 'running') this.exit(pid, { exitCode: null, signal: 9 });
    this.reap(p);
  }

  signal(pid: number, signal: NodeJS.Signals | number): boolean {
    const name = typeof signal === 'number' ? signalName(signal) : signal;
    const p = this.table.get(pid);
    const delivered = !!p && p.state !== 'reaped';
    this.record({ call: 'signal', pid, signal: name, delivered });
    if (!p || !delivered) return false;
    const status = p.state === 'running' ? p.exitStatusFor(name) : undefined;
    if (status) this.exit(pid, status);
    return true;
  }

  takeFd(target: ProcessIdentity, fd: number): number {
    const call: KernelCall = { call: 'takeFd', pid: target.pid, fd };
    this.record(call);
    this.injected('takeFd', call, `take fd ${fd} of pid ${target.pid}`, 'pidfd_getfd');
    const p = this.table.get(target.pid);
    if (!p || p.state !== 'running' || p.startTime !== target.startTime) {
      throw new SysError('native.takeFd', 'pidfd_open', 3, 'ESRCH', `take fd ${fd} of pid ${target.pid}`);
    }
    const real = p.fds.get(fd);
    if (real === undefined) throw new SysError('native.takeFd', 'pidfd_getfd', 9, 'EBADF', `take fd ${fd} of pid ${target.pid}`);
    return this.dup(real);
  }

  socketPair(): [number, number] {
    this.record({ call: 'socketPair' });
    const pair = nativeKernel.socketPair();
    const [a, b] = pair.map((fd) => identityKey(fd)) as [string, string];
    this.peers.set(a, b);
    this.peers.set(b, a);
    return pair;
  }

  sendFds(socket: number, fds: number[], what: string, verb: 'hold' | 'drop' = 'hold'): void {
    const call: KernelCall = { call: 'sendFds', what, verb, count: fds.length };
    this.record(call);
    this.injected('sendFds', call, what, 'sendmsg');
    const peer = this.peers.get(identityKey(socket));
    const holder = this.processes.find((p) => p.state === 'running' && [...p.fds.values()].some((fd) => identityKey(fd) === peer));
    // Nobody holds the other end any more (the pause is gone): sendmsg on a SOCK_SEQPACKET without a peer.
    if (!holder) throw new SysError('native.sendFds', 'sendmsg', 32, 'EPIPE', what);
    if (verb === 'hold') {
      for (const fd of fds) this.giveFd(holder, this.dup(fd));
      return;
    }
    const dropped = new Set(fds.map(identityKey));
    for (const [n, real] of holder.fds) if (n > 4 && dropped.has(identityKey(real))) this.closeFd(holder, n);
  }

  pipe(size?: number): [number, number] {
    this.record({ call: 'pipe', size });
    return nativeKernel.pipe(size);
  }

  setWindowSize(fd: number, rows: number, cols: number): void {
    this.record({ call: 'setWindowSize', fd, rows, cols });
  }

  becomeChildSubreaper(): void {
    this.record({ call: 'becomeChildSubreaper' });
  }

  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void {
    const call: KernelCall = { call: 'mount', source, target, fstype, flags, data };
    this.record(call);
    // The addon's wording (sys/native.ts mount).
    this.injected('mount', call, `mount ${fstype ?? 'bind'}${source ? ` "${source}"` : ''} on "${target}"`, 'mount', target);
  }

  umount(target: string, flags?: number): void {
    const call: KernelCall = { call: 'umount', target, flags };
    this.record(call);
    this.injected('umount', call, `unmount "${target}"`, 'umount2', target);
  }

  attachDeviceFilter(dir: string): void {
    this.record({ call: 'attachDeviceFilter', dir });
  }

  /** Recorded; nothing listens in a fake namespace (ECONNREFUSED, as the addon words it). */
  connectInNetworkNamespace(nsPath: string, port: number): Promise<number> {
    this.record({ call: 'connectInNetworkNamespace', nsPath, port });
    return Promise.reject(new SysError('native.connectInNetns', 'connect', 111, 'ECONNREFUSED', `connect to localhost:${port} in network namespace ${nsPath}`, nsPath));
  }

  // -----------------------------------------------------------------------------------------------------------
  // Playing the processes

  private start(request: SpawnRequest, what: string, terminal: boolean): FakeProcess {
    const call: KernelCall = { call: 'spawn', what, request, terminal };
    this.record(call);
    const failure = this.takeFailure('spawn', call) ?? this.goneNamespace(request);
    if (failure) {
      call.failed = failure.code;
      throw describeSpawnFailure(request, { step: failure.step ?? 'exec', index: failure.index ?? -1, errno: errnoOf(failure.code), code: failure.code }, what);
    }
    const p = new FakeProcess(this, this.nextPid++, this.nextStartTime++, what, request);
    call.pid = p.pid;
    this.table.set(p.pid, p);
    const dir = path.join(this.procRoot, String(p.pid));
    fs.mkdirSync(path.join(dir, 'ns'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'fd'));
    this.writeStat(p, 'S');
    this.placeInMountNamespace(p);
    // What the child gets: its stdio as 0, 1, 2 and extraFds as 3, 4, ... (a copy each, as fork and dup2 make).
    (request.stdio ?? []).forEach((fd, n) => fd >= 0 && this.giveFd(p, this.dup(fd), n));
    (request.extraFds ?? []).forEach((fd, i) => this.giveFd(p, this.dup(fd), 3 + i));
    for (const handler of this.spawnHandlers) if (p.state === 'running') handler(p);
    return p;
  }

  /**
   * A namespace to join that belongs to a played process that is no longer running: the addon opens each
   * `/proc/<pid>/ns/<kind>` before it forks, and an exited process has none (ENOENT), as an exec into a container
   * that has just died finds.
   */
  private goneNamespace(request: SpawnRequest): InjectedFailure | undefined {
    for (const [index, kind] of JOIN_ORDER.entries()) {
      const file = request.joinNamespaces?.[kind];
      const pid = Number(/^\/proc\/(\d+)\/ns\//.exec(file ?? '')?.[1]);
      if (pid >= FIRST_PID && this.table.get(pid)?.state !== 'running') return { code: 'ENOENT', step: `open ${file}`, index };
    }
    return undefined;
  }

  /** Its own namespace (CLONE_NEWNS), the one it joins (`/proc/<pid>/ns/mnt` of a played process), or the host's. */
  private placeInMountNamespace(p: FakeProcess): void {
    const mine = path.join(this.procRoot, String(p.pid), 'ns', 'mnt');
    const joined = /^\/proc\/(\d+)\/ns\/mnt$/.exec(p.request.joinNamespaces?.mnt ?? '')?.[1];
    if (joined !== undefined && fs.existsSync(path.join(this.procRoot, joined, 'ns', 'mnt'))) fs.linkSync(path.join(this.procRoot, joined, 'ns', 'mnt'), mine);
    else if ((p.request.cloneFlags ?? 0) & CLONE.NEWNS) fs.writeFileSync(mine, '');
    else fs.linkSync(path.join(this.base, 'host-mnt'), mine);
  }

  /** /proc/<pid>/stat as the kernel writes it: state (field 3), ppid, flags (field 9, 0), start time (field 22). */
  private writeStat(p: FakeProcess, state: 'S' | 'Z'): void {
    const comm = path.basename(p.request.execFile ?? p.request.argv[0] ?? 'x').slice(0, 15);
    const fields = [state, '1', ...Array.from({ length: 17 }, () => '0'), String(p.startTime), '0', '0'];
    fs.writeFileSync(path.join(this.procRoot, String(p.pid), 'stat'), `${p.pid} (${comm}) ${fields.join(' ')}\n`);
  }

  private deliver(p: FakeProcess, watch: Watch): void {
    realSetImmediate(() => {
      if (this.watches.get(p.pid) !== watch) return; // the watching supervisor died meanwhile
      this.watches.delete(p.pid);
      this.reap(p);
      watch.onExit(p.status!);
    });
  }

  private reap(p: FakeProcess): void {
    p.state = 'reaped';
    fs.rmSync(path.join(this.procRoot, String(p.pid)), { recursive: true, force: true });
  }

  /** A copy of one of our fds (pidfd_getfd on ourselves: the same open file, as dup(2) makes it). */
  private dup(fd: number): number {
    return nativeKernel.takeFd(this.self, fd);
  }

  /** `real` becomes fd `n` of the process (the lowest free one from 5 without `n`), seen in its /proc fd dir. */
  private giveFd(p: FakeProcess, real: number, n?: number): void {
    let fd = n ?? 5;
    while (n === undefined && p.fds.has(fd)) fd++;
    p.fds.set(fd, real);
    // stat() through the link reaches the open file itself, as through /proc/<pid>/fd/<n>.
    fs.symlinkSync(`/proc/self/fd/${real}`, path.join(this.procRoot, String(p.pid), 'fd', String(fd)));
  }

  private closeFd(p: FakeProcess, fd: number): void {
    const real = p.fds.get(fd);
    if (real === undefined) return;
    p.fds.delete(fd);
    fs.closeSync(real);
    fs.rmSync(path.join(this.procRoot, String(p.pid), 'fd', String(fd)), { force: true });
  }

  private record(call: KernelCall): void {
    call.at = Date.now();
    this.calls.push(call);
  }

  private takeFailure(kind: CallKind, call: KernelCall): InjectedFailure | undefined {
    const i = this.failures.findIndex((f) => f.kind === kind && (!f.failure.match || f.failure.match(call)) && ++f.seen === (f.failure.nth ?? 1));
    return i < 0 ? undefined : this.failures.splice(i, 1)[0]!.failure;
  }

  private injected(kind: CallKind, call: KernelCall & { failed?: string }, detail: string, syscall: string, target?: string): void {
    const failure = this.takeFailure(kind, call);
    if (!failure) return;
    call.failed = failure.code;
    throw new SysError(`native.${kind}`, syscall, errnoOf(failure.code), failure.code, detail, target);
  }

  private describe(c: KernelCall): string {
    const who = (pid: number) => this.table.get(pid)?.what ?? `pid ${pid}`;
    const failed = 'failed' in c && c.failed ? ` failed ${c.failed}` : '';
    switch (c.call) {
      case 'spawn':
        return `spawn ${c.what}${failed}`;
      case 'signal':
        return `signal ${c.signal} ${who(c.pid)}`;
      case 'watchExit':
      case 'watchForeignExit':
      case 'killAndReap':
        return `${c.call} ${who(c.pid)}`;
      case 'takeFd':
        return `takeFd ${c.fd} of ${who(c.pid)}${failed}`;
      case 'sendFds':
        return `sendFds ${c.verb} ${c.count}${failed}`;
      case 'mount':
        return `mount ${c.fstype ?? 'bind'} ${c.target}${failed}`;
      case 'umount':
        return `umount ${c.target}${failed}`;
      default:
        return c.call;
    }
  }
}

function identityKey(fd: number): string {
  const st = fs.fstatSync(fd);
  return `${st.dev}:${st.ino}`;
}

function errnoOf(code: string): number {
  const errno = (os.constants.errno as Record<string, number>)[code];
  if (errno === undefined) throw new Error(`fake kernel: unknown errno ${code}`);
  return errno;
}

function signalName(signal: number): string {
  return Object.entries(os.constants.signals).find(([, n]) => n === signal)?.[0] ?? String(signal);
}
