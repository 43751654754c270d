/**
 * A sandbox's teardown from its records alone (sandbox.json, containers/*.json): it works whether the
 * supervisor stops the sandbox itself or removes one nobody supervises (`podns rm -f` of a pod a supervisor
 * could not adopt, `podns gc`). Every step is idempotent, and each failure is collected rather than allowed to
 * stop the rest, so a sandbox never ends half-removed.
 */
import fs from 'node:fs';
import type { Kernel } from '../kernel/kernel.js';
import { PodnsError } from '../errors.js';
import { openCgroupDriver } from '../cgroup/open-driver.js';
import { tearDownPodNetwork } from '../network/bridge-network.js';
import { tearDownCni } from '../network/cni.js';
import { SpawnRunner, type CommandRunner } from '../sys/command.js';
import { containerPids, isAlive } from './proc.js';
import type { ContainerRecord, SandboxRecord } from './records.js';
import { unmountAll, unpinNetworkNamespace } from './sandbox.js';
import { releaseRange } from './userns-ranges.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every live process of the sandbox: each container's processes, and the pause. */
export function sandboxProcessPids(sandbox: SandboxRecord, containers: ContainerRecord[], procRoot = '/proc'): number[] {
  const pids = new Set<number>();
  for (const c of containers) for (const pid of containerPids(c, procRoot)) pids.add(pid);
  if (sandbox.pause && isAlive(sandbox.pause, procRoot)) pids.add(sandbox.pause.pid);
  return [...pids];
}

/** SIGKILLs every process of the sandbox and waits (up to `timeoutMs`) until none is left. */
export async function killSandboxProcesses(kernel: Pick<Kernel, 'signal'>, sandbox: SandboxRecord, containers: ContainerRecord[], timeoutMs = 5000, procRoot = '/proc'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The cgroups hold every process of the pod, forks and exec sessions included (v2 cgroup.kill, v1 freeze + kill).
  if (sandbox.cgroups) await openCgroupDriver(sandbox.cgroups).killAll(timeoutMs);
  for (;;) {
    const pids = sandboxProcessPids(sandbox, containers, procRoot);
    if (pids.length === 0) return;
    for (const pid of pids) kernel.signal(pid, 'SIGKILL');
    if (Date.now() > deadline) {
      throw new PodnsError('teardown.kill', `pod "${sandbox.config.metadata.name}": processes still alive after SIGKILL: ${pids.join(', ')}`);
    }
    await sleep(5);
  }
}

/** Takes the sandbox off the network, unpins its network namespace and unmounts its host mounts; updates the record. */
export async function releaseSandbox(kernel: Pick<Kernel, 'umount'>, sandbox: SandboxRecord, libRoot: string, runner: CommandRunner = new SpawnRunner()): Promise<void> {
  if (sandbox.network) {
    if (sandbox.network.mode === 'cni') await tearDownCni(sandbox.network, runner);
    else await tearDownPodNetwork(sandbox.network, runner, libRoot, sandbox.id);
    sandbox.network = undefined;
  }
  if (sandbox.netnsPin) {
    unpinNetworkNamespace(kernel, sandbox.netnsPin);
    sandbox.netnsPin = undefined;
  }
  unmountAll(kernel, sandbox.hostMounts);
  sandbox.hostMounts = [];
}

/** Gives the pod's user namespace range back (on removal, once nothing of the pod runs); idempotent. */
export function releaseUserNamespace(sandbox: SandboxRecord): void {
  const u = sandbox.userNamespace;
  if (u?.leaseDir && u.owner) releaseRange(u.leaseDir, u, u.owner);
}

/** Removes the sandbox's cgroups (leaves, the pod cgroup, then the parents made for it while empty); idempotent. */
export async function removeSandboxCgroups(sandbox: SandboxRecord): Promise<void> {
  if (sandbox.cgroups) await openCgroupDriver(sandbox.cgroups).remove();
}

/** Never recurse into a mounted directory (kubernetes#60987): a mount left below would be wiped. */
export function assertNoMountsBelow(dir: string): void {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const mounted = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)));
  if (mounted.length) throw new PodnsError('teardown.remove', `refusing to delete "${dir}": still mounted: ${mounted.join(', ')}`);
}

/** Deletes directories (none may have a mount below it). */
export function removeDirs(dirs: string[]): void {
  for (const dir of dirs) {
    assertNoMountsBelow(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
