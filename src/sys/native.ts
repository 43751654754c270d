/**
 * The only module that loads the addon (build/Release/podns.node), and the kernel seam's one real
 * implementation (`nativeKernel`, src/kernel/kernel.ts). It turns the addon's raw errors into SysErrors that
 * name the step, the object and the errno.
 */
import { createRequire } from 'node:module';
// Not `import fs from 'node:fs'` or node:os: their ESM facades load fs/promises and streams (~3 ms of every
// `podns exec`, which loads this module); only an idmapped-mount failure's message needs them.
const fs = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
import { SysError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import {
  FD_STORE_MAX_PER_MESSAGE,
  JOIN_ORDER,
  type ExitStatus,
  type ProcessIdentity,
  type SeccompFilterSpec,
  type SpawnRequest,
} from '../kernel/types.js';
import { projectPath } from './project-path.js';

export { FD_STORE_MAX_PER_MESSAGE };
export type { ExitStatus, ProcessIdentity, SeccompFilterSpec, SpawnRequest };

type SpawnOutput = number | { pid: number; console?: number; steps?: { step: string; index: number }[] };

interface Addon {
  spawn(request: SpawnRequest): SpawnOutput;
  spawnAsync(request: SpawnRequest, callback: (error: RawAddonError | null, out: SpawnOutput) => void): void;
  setWindowSize(fd: number, rows: number, cols: number): void;
  watchExit(pid: number, callback: (status: ExitStatus) => void): void;
  watchForeignExit(pid: number, startTime: number, callback: (status: ExitStatus) => void): void;
  takeFd(pid: number, startTime: number, targetFd: number): number;
  socketPair(): [number, number];
  sendFds(socket: number, fds: number[], verb?: 'h' | 'd'): void;
  pipe(size?: number): [number, number];
  setChildSubreaper(): void;
  killAndReap(pid: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags: number): void;
  buildSeccompFilter(profile: SeccompFilterSpec): Buffer;
  attachDeviceFilter(cgroupDir: string, program: Buffer): void;
  connectInNetns(nsPath: string, port: number, timeoutMs: number, callback: (error: RawAddonError | null, fd: number | null) => void): void;
}

interface RawAddonError extends Error {
  step: string;
  errno: number;
  code: string;
  index: number;
}

let addon: Addon | undefined;
function load(): Addon {
  addon ??= createRequire(import.meta.url)(projectPath('build/Release/podns.node')) as Addon;
  return addon;
}

function isRaw(err: unknown): err is RawAddonError {
  return err instanceof Error && typeof (err as RawAddonError).errno === 'number';
}

/** statfs(2) magic numbers of the file systems a mount source is likely on (linux/magic.h). */
const FS_MAGIC: Record<number, string> = {
  0xef53: 'ext4',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021997: '9p',
  0x6969: 'nfs',
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x65735546: 'fuse',
};

/** The file system `path` lies on, by name, for a message: which one could not be idmapped. */
function filesystemOf(path: string): string {
  try {
    const type = fs.statfsSync(path).type;
    return FS_MAGIC[type] ?? `file system 0x${type.toString(16)}`;
  } catch {
    return 'file system unknown';
  }
}

/**
 * Describes a spawn failure in runc's words: which step, on which object. `what` names the process
 * (`container "nginx"`), the rest comes from the failing step and, for mounts and setns, its index. Exported for
 * the unit tests' fake kernel, so that a failure it injects reads exactly as the addon's would.
 */
export function describeSpawnFailure(request: SpawnRequest, err: Pick<RawAddonError, 'step' | 'errno' | 'code' | 'index'>, what: string): SysError {
  const { step, index } = err;
  let detail: string;
  if ((step === 'mount_setattr-idmap' || (step === 'open_tree' && request.mounts?.[index]?.idmap)) && index >= 0) {
    // The kernel or the filesystem cannot do idmapped mounts (hostUsers: false): say which.
    const m = request.mounts?.[index];
    const call = step === 'open_tree' ? 'open_tree(OPEN_TREE_CLONE)' : 'mount_setattr(MOUNT_ATTR_IDMAP)';
    detail = `${what}: idmapped mount of "${m?.source}" (${filesystemOf(m?.source ?? '/')}, Linux ${os.release()}) on "${m?.target}": ${call}`;
  } else if (step === 'userns-map') {
    const u = request.userns;
    detail = `${what}: write ${index === 1 ? 'gid_map' : 'uid_map'} "0 ${index === 1 ? u?.gidBase : u?.uidBase} ${u?.size}" of the new user namespace`;
  } else if (['mount', 'remount', 'mkdir', 'resolve', 'symlink', 'mask', 'readonly-path', 'propagation', 'recursive-readonly', 'open_tree', 'move_mount'].includes(step) && index >= 0) {
    const m = request.mounts?.[index];
    const target = m?.target ?? '?';
    const type = m?.fstype ?? (m?.kind === 'symlink' ? 'symlink' : 'bind');
    detail =
      step === 'mkdir' || step === 'resolve'
        ? `${what}: create mount point "${target}"`
        : step === 'symlink'
          ? `${what}: symlink "${target}" -> "${m?.source}"`
          : `${what}: ${step} ${type}${m?.source && type === 'bind' ? ` "${m.source}"` : ''} on "${target}"`;
  } else if (step === 'sysctl' && index >= 0) {
    const sysctl = request.sysctls?.[index];
    detail = `${what}: write sysctl ${sysctl?.path} = ${JSON.stringify(sysctl?.value)}`;
  } else if (step === 'setns' && index >= 0) {
    const kind = JOIN_ORDER[index]!;
    detail = `${what}: setns ${request.joinNamespaces?.[kind] ?? kind}`;
  } else if (step === 'exec') {
    detail = `${what}: exec "${request.execFile ?? request.path ?? request.argv[0]}"`;
  } else if (step === 'cgroup-join') {
    const files = [...(request.cgroupProcsFile ? [request.cgroupProcsFile] : []), ...(request.cgroupProcsFiles ?? [])];
    detail = `${what}: join cgroup ${index >= 0 ? files[index] : files.join(', ')}`;
  } else if (step === 'console' && index >= 0) {
    const what2 = ['open /dev/ptmx', 'unlock the pty', 'open the pty peer', 'send the pty master', 'dup2 the pty peer', 'make the pty the controlling terminal'][index];
    detail = `${what}: terminal: ${what2 ?? 'console'}`;
  } else if (step === 'chdir') {
    detail = `${what}: chdir "${request.cwd}"`;
  } else {
    detail = `${what}: ${step}`;
  }
  return new SysError(`native.${step}`, step, err.errno, err.code, detail);
}

/**
 * Starts a process as described; returns its pid in our PID namespace. With `onSteps`, the addon also reports
 * every step that succeeded, in the order it happened (for `--explain`).
 */
export function spawnProcess(request: SpawnRequest, what: string, onSteps?: (steps: { step: string; index: number }[], pid: number) => void): number {
  return spawnRaw({ ...request, terminal: false }, what, onSteps).pid;
}

/**
 * spawnProcess with a terminal: the process gets a pty made in its own /dev/pts as stdin, stdout, stderr and
 * controlling terminal (it must start a new session); returns the pid and the master, which is ours to close.
 */
export function spawnWithTerminal(
  request: SpawnRequest,
  what: string,
  onSteps?: (steps: { step: string; index: number }[], pid: number) => void,
): { pid: number; master: number } {
  const { pid, console } = spawnRaw({ ...request, terminal: true, newSession: true }, what, onSteps);
  return { pid, master: console! };
}

function spawnRaw(request: SpawnRequest, what: string, onSteps?: (steps: { step: string; index: number }[], pid: number) => void): { pid: number; console?: number } {
  try {
    return spawnOutput(load().spawn(onSteps ? { ...request, trace: true } : request), onSteps);
  } catch (err) {
    if (isRaw(err)) throw describeSpawnFailure(request, err, what);
    throw err;
  }
}

function spawnOutput(out: SpawnOutput, onSteps?: (steps: { step: string; index: number }[], pid: number) => void): { pid: number; console?: number } {
  if (typeof out === 'number') return { pid: out };
  if (onSteps) onSteps(out.steps ?? [], out.pid);
  return out;
}

/**
 * spawnProcess without blocking: the fork happens now, and the promise settles once the process has exec'd (or
 * its setup failed) while the event loop goes on — a container's mounts, cgroup moves and seccomp load take
 * milliseconds, and a mount on a dead network file system forever; none of that may hold up the supervisor.
 */
function spawnRawAsync(request: SpawnRequest, what: string, onSteps?: (steps: { step: string; index: number }[], pid: number) => void): Promise<{ pid: number; console?: number }> {
  const sent = onSteps ? { ...request, trace: true } : request;
  return new Promise((resolve, reject) => {
    try {
      load().spawnAsync(sent, (error, out) => {
        if (error) reject(isRaw(error) ? describeSpawnFailure(request, error, what) : error);
        else resolve(spawnOutput(out, onSteps));
      });
    } catch (err) {
      reject(isRaw(err) ? describeSpawnFailure(request, err, what) : err);
    }
  });
}

/** TIOCSWINSZ on a pty master: the program on the terminal gets SIGWINCH and the new size. */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  try {
    load().setWindowSize(fd, rows, cols);
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.setWindowSize', 'ioctl', err.errno, err.code, `set the window size of terminal fd ${fd}`);
    throw err;
  }
}

/** Calls back once when the child `pid` has exited, and reaps it. Keeps the event loop alive until then. */
export function watchExit(pid: number, callback: (status: ExitStatus) => void): void {
  try {
    load().watchExit(pid, callback);
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.watchExit', 'pidfd_open', err.errno, err.code, `watch pid ${pid}`);
    throw err;
  }
}

/** SIGKILL and a blocking waitpid, for a child that cannot be watched (it must not stay a zombie). */
export function killAndReap(pid: number): void {
  load().killAndReap(pid);
}

/**
 * Calls back once when `target` — not our child: started by a supervisor that died — has exited. The status comes
 * from the pidfd (Linux 6.15+) or the zombie's /proc entry; when both are gone it is lost (`error` set, exit
 * code and signal null). Throws ESRCH when the pid no longer names that process (it exited, or was recycled).
 */
export function watchForeignExit(target: ProcessIdentity, callback: (status: ExitStatus) => void): void {
  try {
    load().watchForeignExit(target.pid, target.startTime, callback);
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.watchForeignExit', 'pidfd_open', err.errno, err.code, `watch pid ${target.pid}`);
    throw err;
  }
}

/** A copy of fd `targetFd` of `target` (pidfd_getfd(2)), after checking the pid still names it. */
export function takeFd(target: ProcessIdentity, targetFd: number): number {
  try {
    return load().takeFd(target.pid, target.startTime, targetFd);
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.takeFd', err.step, err.errno, err.code, `take fd ${targetFd} of pid ${target.pid}`);
    throw err;
  }
}

/** A connected AF_UNIX SOCK_SEQPACKET pair, close-on-exec: the pause's fd store. */
export function makeSocketPair(): [number, number] {
  try {
    return load().socketPair();
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.socketPair', 'socketpair', err.errno, err.code, 'create the fd store socket pair');
    throw err;
  }
}

/**
 * One message carrying `fds` (SCM_RIGHTS; none: a bare message) to the pause's fd store: `hold` them, or `drop`
 * the held fds that are the same open files. Never blocks (EAGAIN when the receiver is full).
 */
export function sendFds(socket: number, fds: number[], what: string, verb: 'hold' | 'drop' = 'hold'): void {
  try {
    load().sendFds(socket, fds, verb === 'drop' ? 'd' : 'h');
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.sendFds', 'sendmsg', err.errno, err.code, what);
    throw err;
  }
}

/** pipe2(O_CLOEXEC); with `size`, its buffer raised to that many bytes where the kernel allows (F_SETPIPE_SZ). */
export function makePipe(size?: number): [number, number] {
  return load().pipe(size);
}

export function becomeChildSubreaper(): void {
  load().setChildSubreaper();
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  try {
    load().mount(source, target, fstype, flags, data);
  } catch (err) {
    if (isRaw(err)) {
      throw new SysError('native.mount', 'mount', err.errno, err.code, `mount ${fstype ?? 'bind'}${source ? ` "${source}"` : ''} on "${target}"`, target);
    }
    throw err;
  }
}

export function umount(target: string, flags = 0): void {
  try {
    load().umount(target, flags);
  } catch (err) {
    if (isRaw(err)) throw new SysError('native.umount', 'umount2', err.errno, err.code, `unmount "${target}"`, target);
    throw err;
  }
}

/** Compiles a seccomp policy with libseccomp, in this process, into a BPF program (struct sock_filter[]) for
 *  SecuritySpec.seccompFilter. Throws an Error naming the rule or the field that is wrong. */
export function buildSeccompFilter(profile: SeccompFilterSpec): Buffer {
  return load().buildSeccompFilter(profile);
}

/**
 * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[], 8 bytes each) and attaches it to a cgroup v2
 * directory (BPF_F_ALLOW_MULTI): the cgroup v2 device policy. The verifier's log is in the error's message.
 */
export function attachDeviceFilter(cgroupDir: string, program: Buffer): void {
  try {
    load().attachDeviceFilter(cgroupDir, program);
  } catch (err) {
    if (isRaw(err)) {
      const log = String((err as { verifierLog?: string }).verifierLog ?? '').trim().split('\n').pop();
      throw new SysError('native.attachDeviceFilter', 'bpf', err.errno, err.code, `attach device filter to "${cgroupDir}"${log ? ` (verifier: ${log})` : ''}`, cgroupDir);
    }
    throw err;
  }
}

/**
 * A TCP connection to localhost:`port` inside the network namespace at `nsPath` (port-forward into a pod): the
 * addon connects on a thread of its own that enters the namespace and ends (native/netns-connect.c), so the
 * supervisor's threads never change namespace and its event loop never waits for the connect.
 */
export function connectInNetworkNamespace(nsPath: string, port: number, timeoutMs: number): Promise<number> {
  const what = `connect to localhost:${port} in network namespace ${nsPath}`;
  return new Promise((resolve, reject) => {
    const fail = (err: RawAddonError) => reject(new SysError('native.connectInNetns', err.step, err.errno, err.code, what, nsPath));
    try {
      load().connectInNetns(nsPath, port, timeoutMs, (error, fd) => (error ? fail(error) : resolve(fd!)));
    } catch (err) {
      if (isRaw(err)) fail(err);
      else reject(err);
    }
  });
}

/** The kernel seam over the addon: what the runtime service and the pod manager are given. */
export const nativeKernel: Kernel = {
  spawn: async (request, what, onSteps) => (await spawnRawAsync({ ...request, terminal: false }, what, onSteps)).pid,
  async spawnWithTerminal(request, what, onSteps) {
    const { pid, console } = await spawnRawAsync({ ...request, terminal: true, newSession: true }, what, onSteps);
    return { pid, master: console! };
  },
  watchExit,
  watchForeignExit,
  killAndReap,
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw err;
    }
  },
  takeFd,
  socketPair: makeSocketPair,
  sendFds,
  pipe: makePipe,
  setWindowSize,
  becomeChildSubreaper,
  mount,
  umount,
  attachDeviceFilter,
  connectInNetworkNamespace,
};
