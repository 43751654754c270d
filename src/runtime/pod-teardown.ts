/**
 * Teardown from the state on disk alone: it works whether the shim is alive (it calls this after stopping
 * its containers) or was SIGKILLed (`podns rm -f` calls it). Every step is idempotent, and each failure is
 * collected rather than allowed to stop the rest, so a pod never ends half-removed.
 */
import fs from 'node:fs';
import type { PodPaths } from '../state/paths.js';
import type { PodState } from '../state/pod-state.js';
import { PodnsError } from '../errors.js';
import { openCgroupDriver } from '../cgroup/open-driver.js';
import { tearDownPodNetwork } from '../network/bridge-network.js';
import { tearDownCni } from '../network/cni.js';
import { SpawnRunner, type CommandRunner } from '../sys/command.js';
import { containerPids, isAlive } from './proc.js';
import { unmountPodFilesystems, unpinNetworkNamespace } from './sandbox.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Every live process of the pod: each container's processes, and the pause. */
export function podProcessPids(state: PodState): number[] {
  const pids = new Set<number>();
  for (const c of state.containers) for (const pid of containerPids(c)) pids.add(pid);
  if (state.pause && isAlive(state.pause)) pids.add(state.pause.pid);
  return [...pids];
}

/** SIGKILLs every process of the pod and waits (up to `timeoutMs`) until none is left. */
export async function killPodProcesses(state: PodState, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The cgroups hold every process of the pod, forks and exec sessions included (v2 cgroup.kill, v1 freeze + kill).
  if (state.cgroups) await openCgroupDriver(state.cgroups).killAll(timeoutMs);
  for (;;) {
    const pids = podProcessPids(state);
    if (pids.length === 0) return;
    for (const pid of pids) signal(pid, 'SIGKILL');
    if (Date.now() > deadline) {
      throw new PodnsError('teardown.kill', `pod "${state.name}": processes still alive after SIGKILL: ${pids.join(', ')}`);
    }
    await sleep(5);
  }
}

/** Takes the pod off the network, unpins its network namespace and unmounts the pod's host mounts. */
export async function releasePodResources(state: PodState, libRoot: string, runner: CommandRunner = new SpawnRunner()): Promise<void> {
  if (state.network) {
    if (state.network.mode === 'cni') await tearDownCni(state.network, runner);
    else await tearDownPodNetwork(state.network, runner, libRoot, state.id);
    state.network = undefined;
  }
  if (state.netnsPin) {
    unpinNetworkNamespace(state.netnsPin);
    state.netnsPin = undefined;
  }
  unmountPodFilesystems(state);
}

function assertNoMountsBelow(dir: string): void {
  // Never recurse into a mounted volume (kubernetes#60987): a mount left below would be wiped.
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const mounted = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)));
  if (mounted.length) throw new PodnsError('teardown.remove', `refusing to delete "${dir}": still mounted: ${mounted.join(', ')}`);
}

/** Removes the pod's cgroups (leaves, then the pod cgroup); idempotent. The parent stays, like kubepods. */
export async function removePodCgroups(state: PodState): Promise<void> {
  if (state.cgroups) await openCgroupDriver(state.cgroups).remove();
}

/** Deletes the pod's directories: runtime state, data (volumes, upper dirs) and logs. */
export function removePodFiles(paths: PodPaths): void {
  for (const dir of [paths.libDir, paths.logDir, paths.runDir]) {
    assertNoMountsBelow(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole of `rm -f` without a shim. */
export async function teardownPod(state: PodState, paths: PodPaths): Promise<void> {
  await killPodProcesses(state);
  await removePodCgroups(state);
  await releasePodResources(state, paths.libRoot);
  removePodFiles(paths);
}
