/**
 * The pod as the CLI shows it (PodState): the pod manager's record (status.json: phase, conditions, each
 * container's kubelet status) read together with the runtime's (sandbox.json: pause, pin, network, cgroups;
 * containers/*.json: each run's process, namespaces, held fds, directories, process spec). Reading only: cheap
 * enough for `podns ps` with a hundred pods (a few small JSON files each).
 */
import path from 'node:path';
import { readJsonIfExists } from '../state/atomic-file.js';
import type { ContainerState, PodState, PodStatusRecord, ProcessSpec } from '../state/pod-state.js';
import { readContainers, readSandbox, type ContainerRecord, type SandboxRecord } from '../runtime/records.js';

export function statusFile(runDir: string): string {
  return path.join(runDir, 'status.json');
}

/** The pod manager's record alone (what follows a container's runs needs nothing else). */
export function readPodStatus(runDir: string): PodStatusRecord | undefined {
  return readJsonIfExists<PodStatusRecord>(statusFile(runDir));
}

/**
 * The pod in `runDir` as the CLI shows it; undefined before its supervisor wrote its status. `planned`: each
 * container's process as `podns run` planned it (spec.json), shown for a container that has not run yet.
 */
export function readPodView(runDir: string, planned: Record<string, ProcessSpec> = {}): PodState | undefined {
  const status = readJsonIfExists<PodStatusRecord>(statusFile(runDir));
  if (!status) return undefined;
  return composePodState(status, readSandbox(runDir), readContainers(runDir), planned);
}

export function composePodState(status: PodStatusRecord, sandbox: SandboxRecord | undefined, runs: ContainerRecord[], planned: Record<string, ProcessSpec> = {}): PodState {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const withRun = (c: PodStatusRecord['containers'][number]): ContainerState => {
    const run = c.containerId ? byId.get(c.containerId) : undefined;
    const { containerId: _id, ...rest } = c;
    return {
      ...rest,
      ...(run?.process ? { process: run.process } : {}),
      ...(run?.mntNs !== undefined ? { mntNs: run.mntNs } : {}),
      ...(run?.heldFds ? { heldFds: run.heldFds } : {}),
      ...(run?.seccompFilterFile ? { seccompFilterFile: run.seccompFilterFile } : {}),
      upperDir: run?.dirs.upper ?? '',
      spec: run?.config.process ?? planned[c.name]!,
    };
  };
  const { volumeMounts, initContainers, containers, ...pod } = status;
  return {
    ...pod,
    ...(sandbox?.pause ? { pause: sandbox.pause } : {}),
    ...(sandbox?.pauseStartedWith ? { pauseStartedWith: sandbox.pauseStartedWith } : {}),
    ...(sandbox?.fdStore ? { fdStore: sandbox.fdStore } : {}),
    ...(sandbox?.netnsPin ? { netnsPin: sandbox.netnsPin } : {}),
    ...(sandbox?.network ? { network: sandbox.network } : {}),
    ...(sandbox?.podIP ? { podIP: sandbox.podIP } : {}),
    ...(sandbox?.cgroups ? { cgroups: sandbox.cgroups } : {}),
    hostMounts: [...(sandbox?.hostMounts ?? []), ...volumeMounts],
    ...(initContainers ? { initContainers: initContainers.map(withRun) } : {}),
    containers: containers.map(withRun),
  };
}
