/**
 * A pod torn down from its records alone, for a pod nobody supervises (one a supervisor could not adopt,
 * a pod whose sandbox died while no supervisor ran, `podns gc`'s orphans): the runtime's part from
 * sandbox.json and containers/*.json, then the pod manager's volume mounts from status.json. Idempotent.
 */
import path from 'node:path';
import type { Kernel } from '../kernel/kernel.js';
import { writeJsonAtomic } from '../state/atomic-file.js';
import type { PodPaths } from '../state/paths.js';
import type { CommandRunner } from '../sys/command.js';
import { readContainers, readSandbox } from '../runtime/records.js';
import { killSandboxProcesses, releaseSandbox, releaseUserNamespace, removeDirs, removeSandboxCgroups, sandboxProcessPids } from '../runtime/pod-teardown.js';
import { unmountAll } from '../runtime/sandbox.js';
import { readPodStatus } from './pod-view.js';

type TeardownKernel = Pick<Kernel, 'signal' | 'umount'>;

/** Every live process of the pod, by its records. */
export function podProcessPids(runDir: string): number[] {
  const sandbox = readSandbox(runDir);
  return sandbox ? sandboxProcessPids(sandbox, readContainers(runDir)) : [];
}

/** Kills, unmounts and releases everything the pod's records name; the records stay (the sandbox notready). */
export async function stopPodFromDisk(kernel: TeardownKernel, paths: PodPaths, runner?: CommandRunner): Promise<void> {
  const sandbox = readSandbox(paths.runDir);
  if (sandbox) {
    await killSandboxProcesses(kernel, sandbox, readContainers(paths.runDir));
    await removeSandboxCgroups(sandbox);
    await releaseSandbox(kernel, sandbox, paths.libRoot, runner);
    sandbox.state = 'notready';
    writeJsonAtomic(path.join(paths.runDir, 'sandbox.json'), sandbox);
  }
  const status = readPodStatus(paths.runDir);
  if (status?.volumeMounts.length) {
    unmountAll(kernel, status.volumeMounts);
    writeJsonAtomic(paths.statusFile, { ...status, volumeMounts: [] });
  }
}

/** The whole of `rm -f` without a supervisor: stopped from disk, then every directory of the pod. */
export async function removePodFromDisk(kernel: TeardownKernel, paths: PodPaths, runner?: CommandRunner): Promise<void> {
  await stopPodFromDisk(kernel, paths, runner);
  const sandbox = readSandbox(paths.runDir);
  removeDirs([paths.libDir, paths.logDir, paths.runDir]);
  if (sandbox) releaseUserNamespace(sandbox);
}
