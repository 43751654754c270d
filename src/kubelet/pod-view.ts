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
  if (!status) {
    // A sandbox of kubelet's (CRI): the runtime's records are all there is.
    const sandbox = readSandbox(runDir);
    return sandbox?.config.origin === 'cri' ? composeCriPodState(sandbox, readContainers(runDir)) : undefined;
  }
  return composePodState(status, readSandbox(runDir), readContainers(runDir), planned);
}

/**
 * A CRI sandbox as the CLI shows a pod: Running while its sandbox is ready, Stopped after; each container at its
 * latest attempt (kubelet's attempt is the restart count), its state as the runtime recorded it. What kubelet
 * alone knows (readiness, waiting reasons, the pod's phase) is not here.
 */
export function composeCriPodState(sandbox: SandboxRecord, runs: ContainerRecord[]): PodState {
  const { config } = sandbox;
  const latest = new Map<string, ContainerRecord>();
  for (const r of runs) if ((latest.get(r.config.name)?.config.attempt ?? -1) < r.config.attempt) latest.set(r.config.name, r);
  const containers: ContainerState[] = [...latest.values()].map((r) => ({
    name: r.config.name,
    image: r.config.imageSpec ?? r.config.image.name,
    imageId: r.config.image.id,
    status: r.state,
    ...(r.process ? { process: r.process } : {}),
    ...(r.mntNs !== undefined ? { mntNs: r.mntNs } : {}),
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    ...(r.signal !== undefined ? { signal: r.signal } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.message ? { message: r.message } : {}),
    ...(r.seccompFilterFile ? { seccompFilterFile: r.seccompFilterFile } : {}),
    restartCount: r.config.attempt,
    logPath: r.config.logPath,
    upperDir: r.dirs.upper,
    spec: r.config.process,
  }));
  return {
    id: sandbox.id,
    origin: 'cri',
    name: config.metadata.name,
    namespace: config.metadata.namespace,
    uid: config.metadata.uid,
    createdAt: sandbox.createdAt,
    hostname: config.hostname,
    phase: sandbox.state === 'ready' ? 'Running' : 'Stopped',
    ...(sandbox.supervisor ? { supervisor: sandbox.supervisor } : {}),
    ...(sandbox.pause ? { pause: sandbox.pause } : {}),
    ...(sandbox.fdStore ? { fdStore: sandbox.fdStore } : {}),
    ...(sandbox.netnsPin ? { netnsPin: sandbox.netnsPin } : {}),
    ...(sandbox.network ? { network: sandbox.network } : {}),
    ...(sandbox.podIP ? { podIP: sandbox.podIP } : {}),
    ...(sandbox.cgroups ? { cgroups: sandbox.cgroups } : {}),
    hostMounts: sandbox.hostMounts,
    shareProcessNamespace: config.namespaces.pid === 'pod',
    infra: config.infra,
    containers,
  };
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
