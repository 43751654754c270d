/**
 * The pod sandbox's kernel pieces: the pause process that creates and holds the pod's namespaces, the pin of its
 * network namespace at /run/netns/<pod> (so `ip netns` sees it and it outlives the pause), and host-side tmpfs
 * mounts (the sandbox's /dev/shm; the pod manager's memory-backed volumes use the same helpers).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PodPaths } from '../state/paths.js';
import type { Kernel } from '../kernel/kernel.js';
import { CLONE, MNT_DETACH, MS, type SpawnRequest, type UserNamespaceMap } from '../kernel/types.js';
import { describeSpawn } from '../explain/describe-spawn.js';
import { describePauseDrop, pauseHasDropped } from '../explain/describe-pause.js';
import type { Step } from '../explain/step-log.js';
import type { ProcessPrivileges } from '../state/pod-state.js';
import { isAlive, processPrivileges, processRef } from './proc.js';
import { projectPath } from '../sys/project-path.js';
import { fromNodeError } from '../errors.js';

export function pauseBinary(): string {
  return process.env.PODNS_PAUSE ?? projectPath('build/Release/pause');
}

export interface HostNamespaces {
  network: boolean;
  ipc: boolean;
  pid: boolean;
}

/**
 * Starts pause as PID 1 of new pid/net/ipc/uts/mnt namespaces, in an empty tmpfs root. hostNetwork keeps the
 * host's network and UTS namespaces (as containerd does), hostIPC the IPC one, hostPID the PID one. With
 * `fdStore` (the two ends of FdStore.create) it is also the pod's fd store. With `userns` (hostUsers: false) the
 * clone makes a user namespace too — first, so that the kernel makes the others owned by it — whose uid_map and
 * gid_map the addon writes before the pause goes on as its root (host uid <base>); after its execve the pause drops
 * to 65535, host uid <base> + 65535, as it drops to 65535 without one.
 */
export function startPause(
  kernel: Pick<Kernel, 'spawn'>,
  paths: Pick<PodPaths, 'pauseRoot'>,
  hostname: string,
  sysctls: { path: string; value: string }[],
  host: HostNamespaces,
  cgroupProcsFiles: string[] = [],
  explain?: (steps: Step[]) => void,
  fdStore?: [number, number],
  userns?: UserNamespaceMap,
): Promise<number> {
  fs.mkdirSync(paths.pauseRoot, { recursive: true });
  const request: SpawnRequest = {
    ...(userns ? { userns } : {}),
    cloneFlags:
      (userns ? CLONE.NEWUSER : 0) |
      CLONE.NEWNS |
      (host.network ? 0 : CLONE.NEWNET | CLONE.NEWUTS) |
      (host.ipc ? 0 : CLONE.NEWIPC) |
      (host.pid ? 0 : CLONE.NEWPID),
    newSession: true,
    // Into the pause's cgroup (one cgroup.procs per v1 hierarchy) before it execs.
    cgroupProcsFiles,
    ...(host.network ? {} : { hostname, loopbackUp: true }),
    // The pod's namespaced sysctls, written by the pause itself inside the new net and IPC namespaces.
    sysctls,
    mounts: [{ source: 'tmpfs', target: paths.pauseRoot, fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV, data: 'size=64k,mode=755' }],
    rootfs: paths.pauseRoot,
    cwd: '/',
    execFile: pauseBinary(),
    argv: ['/pause'],
    // The fd store's two ends become its fds 3 and 4 (native/README.md, "The fd store"); asked for in the
    // environment, so that its command line stays Kubernetes' pause's.
    ...(fdStore ? { extraFds: fdStore } : {}),
    env: fdStore ? ['PODNS_FD_STORE=1'] : [],
  };
  return kernel.spawn(request, 'pause', explain && ((steps, pid) => explain(describeSpawn(request, steps, 'pause', pid))));
}

/**
 * The pause drops every privilege itself, first thing after its execve (native/pause.c), so the spawn's return
 * does not mean it is done. Waits until /proc/<pid>/status shows it done (a few hundred microseconds after the
 * exec; `timeoutMs` for a pause that never drops: another binary in PODNS_PAUSE) and returns the pause's steps
 * as /proc shows them then; none when the pause is gone (its death is the sandbox watcher's to report).
 * `startedWith`: the supervisor's privileges before the spawn, which the clone copied.
 */
export async function pauseDropSteps(pid: number, startedWith: ProcessPrivileges | undefined, procRoot = '/proc', timeoutMs = 1000): Promise<Step[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = processPrivileges(pid, procRoot);
    if (!now || !isAlive(processRef(pid, procRoot), procRoot)) return [];
    if (pauseHasDropped(now) || Date.now() >= deadline) return describePauseDrop(pid, startedWith, now);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Bind-mounts the pause's network namespace at the pin path; the caller records the pin first. */
export function pinNetworkNamespace(kernel: Pick<Kernel, 'mount'>, pausePid: number, pin: string): void {
  fs.mkdirSync(path.dirname(pin), { recursive: true, mode: 0o755 });
  try {
    fs.closeSync(fs.openSync(pin, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDONLY, 0o444));
  } catch (err) {
    throw fromNodeError('sandbox.pinNetns', err, `create network namespace pin "${pin}"`);
  }
  kernel.mount(`/proc/${pausePid}/ns/net`, pin, null, MS.BIND);
}

export function isMountPoint(target: string): boolean {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === target);
}

/** Undoes a pin; idempotent (a missing pin or file is fine). */
export function unpinNetworkNamespace(kernel: Pick<Kernel, 'umount'>, pin: string): void {
  if (isMountPoint(pin)) kernel.umount(pin, MNT_DETACH);
  fs.rmSync(pin, { force: true });
}

/** A tmpfs on `target` (nosuid, nodev, noexec), recorded by `record` before it is made. */
export function mountTmpfs(kernel: Pick<Kernel, 'mount'>, target: string, data: string, record: (target: string) => void, source = 'tmpfs'): void {
  fs.mkdirSync(target, { recursive: true });
  record(target);
  kernel.mount(source, target, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, data);
}

/** Unmounts recorded host mounts, last first; idempotent. */
export function unmountAll(kernel: Pick<Kernel, 'umount'>, targets: string[]): void {
  for (const target of [...targets].reverse()) {
    if (isMountPoint(target)) kernel.umount(target, MNT_DETACH);
  }
}

