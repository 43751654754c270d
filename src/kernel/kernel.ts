/**
 * The kernel seam: everything the runtime service and the pod manager ask of the kernel through the addon —
 * spawning into namespaces, watching exits, signals, mounts, the pause's fd store — as one interface, passed in
 * (never imported), so that the logic above it runs on a recording fake in unit tests (youki's Syscall trait).
 * src/sys/native.ts is its one real implementation (`nativeKernel`); test/unit/support/fake-kernel.ts records
 * the calls and plays the processes.
 *
 * File-based kernel interfaces stay outside it and take a root path instead (/proc reads: runtime/proc.ts;
 * cgroupfs: the cgroup drivers); commands (`ip`, `nft`, CNI plugins) go through sys/command.ts's runner.
 */
import type { ExitStatus, ProcessIdentity, SpawnRequest } from './types.js';

/** The addon's account of a spawn, step by step (for `--explain`), with the pid it made. */
export type SpawnTrace = (steps: { step: string; index: number }[], pid: number) => void;

export interface Kernel {
  /**
   * Starts a process as `request` describes; resolves with its pid once it has exec'd, rejects with a SysError
   * naming the failed step. The caller's event loop goes on while the child sets itself up.
   */
  spawn(request: SpawnRequest, what: string, onSteps?: SpawnTrace): Promise<number>;
  /** spawn with a terminal made in the process's own devpts: its pid and the master (ours to close). */
  spawnWithTerminal(request: SpawnRequest, what: string, onSteps?: SpawnTrace): Promise<{ pid: number; master: number }>;
  /** Calls back once when our child `pid` has exited, and reaps it. */
  watchExit(pid: number, onExit: (status: ExitStatus) => void): void;
  /**
   * Calls back once when `target` — not our child (a dead supervisor started it) — has exited; the status when
   * the kernel still knows it. Throws ESRCH when the pid no longer names that process.
   */
  watchForeignExit(target: ProcessIdentity, onExit: (status: ExitStatus) => void): void;
  /** SIGKILL and a blocking wait, for a child that cannot be watched (it must never stay a zombie). */
  killAndReap(pid: number): void;
  /** kill(2); false when there is no such process. */
  signal(pid: number, signal: NodeJS.Signals | number): boolean;
  /** A copy of fd `fd` of `target` (pidfd_getfd), after checking the pid still names it. */
  takeFd(target: ProcessIdentity, fd: number): number;
  /** A connected SOCK_SEQPACKET pair, close-on-exec: the pause's fd store. */
  socketPair(): [number, number];
  /** One message to the pause's fd store: hold `fds`, or drop the held fds that are the same open files. */
  sendFds(socket: number, fds: number[], what: string, verb?: 'hold' | 'drop'): void;
  /** pipe2(O_CLOEXEC), its buffer raised to `size` where allowed. */
  pipe(size?: number): [number, number];
  /** TIOCSWINSZ on a terminal's master. */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** PR_SET_CHILD_SUBREAPER: orphans of our descendants come to us. */
  becomeChildSubreaper(): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount(target: string, flags?: number): void;
  /** Loads and attaches a cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE) to `dir`. */
  attachDeviceFilter(dir: string, program: Buffer): void;
  /**
   * A TCP connection to localhost:`port` (127.0.0.1, else ::1) inside the network namespace at `nsPath` (a pod's
   * netns pin), made without our own namespaces ever changing and without holding up the event loop; resolves
   * with the connected fd (ours to close), rejects with a SysError naming the step (setns, connect: ECONNREFUSED).
   */
  connectInNetworkNamespace(nsPath: string, port: number, timeoutMs: number): Promise<number>;
}
