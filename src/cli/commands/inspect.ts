/**
 * `podns inspect POD`: the recorded state plus what /proc says now — the pause pid and its privileges (what it
 * started with, what it has now), every process of every container with its pid inside the pod and its namespace
 * inodes, the paths of everything on disk, and the pod's cgroups with their current usage.
 */
import { commandLine, containerPids, innermostPid, isAlive, namespaceInodes, pidsByMountNamespace, processPrivileges } from '../../runtime/proc.js';
import type { Roots } from '../../state/paths.js';
import { kubeContainerState } from '../../state/pod-state.js';
import { findPod, requireState } from '../pod-lookup.js';
import { cgroupFigures } from './stats.js';
import { namespaceMap, type NamespaceRow } from './namespace-map.js';

function describeProcess(pid: number) {
  return { pid, podPid: innermostPid(pid), cmdline: commandLine(pid), namespaces: namespaceInodes(pid) };
}

export function inspectPod(roots: Roots, namespace: string, name: string): object {
  const record = findPod(roots, namespace, name);
  const state = requireState(record);
  const pauseAlive = isAlive(state.pause);
  // One pass over /proc for every container's processes (and the namespace map's).
  const index = pidsByMountNamespace();
  const { pauseStartedWith, ...rest } = state;
  return {
    ...rest,
    supervisorAlive: isAlive(state.supervisor),
    pause: state.pause && {
      ...state.pause,
      alive: pauseAlive,
      ...(pauseAlive ? describeProcess(state.pause.pid) : {}),
      // /proc/<pid>/status's lines before (the supervisor's, which the clone copied) and now (after its drop).
      privileges: { startedWith: pauseStartedWith, ...(pauseAlive ? { now: processPrivileges(state.pause.pid) } : {}) },
    },
    // kubelet's view beside podns's record: state (waiting/running/terminated with reason, exitCode, message),
    // lastState, restartCount.
    ...(state.initContainers ? { initContainers: state.initContainers.map((c) => ({ ...c, state: kubeContainerState(c), processes: containerPids(c, '/proc', index).map(describeProcess) })) } : {}),
    containers: state.containers.map((c) => ({
      ...c,
      state: kubeContainerState(c),
      processes: containerPids(c, '/proc', index).map(describeProcess),
    })),
    paths: record.paths,
    /** The cgroups' directories and usage now (CPU ns, memory bytes, pids, OOM kills). */
    resources: cgroupFigures(state),
    /** Every process with each namespace marked pod-shared, host or its own (`inspect --namespaces`). */
    namespaceMap: namespaceMap(state, '/proc', index),
  };
}

export function namespaceMapOf(roots: Roots, namespace: string, name: string): NamespaceRow[] {
  return namespaceMap(requireState(findPod(roots, namespace, name)));
}
