/**
 * The pod's phase and conditions from its containers, as kubelet computes them (pkg/kubelet/kubelet_pods.go
 * getPhase, pkg/kubelet/status/generate.go). Pure: the pod manager calls it on every save.
 */
import type { ContainerState, PodCondition, PodPhase } from '../state/pod-state.js';

/** What the phase and conditions look at of a container. */
type ContainerLike = Pick<ContainerState, 'name' | 'status' | 'waiting' | 'exitCode'>;

export interface PodStatusInput {
  /** Every init container has exited 0 (true when there are none). */
  initialized: boolean;
  /** An init container failed and will not be retried (restartPolicy Never). */
  initFailed: boolean;
  containers: ContainerLike[];
  /** Sidecars (restartable init containers): not part of the phase, but of the Ready condition. */
  sidecars?: ContainerLike[];
  /** A restart of this container is pending (back-off running). */
  restarting: (name: string) => boolean;
  /** Readiness from a probe; undefined: no probe, ready while running. */
  ready?: (name: string) => boolean | undefined;
}

/**
 * Pending until the app containers have started; Running while any runs or will be restarted; then
 * Succeeded when all exited 0, else Failed.
 */
export function computePhase(input: PodStatusInput): PodPhase {
  if (input.initFailed) return 'Failed';
  if (!input.initialized) return 'Pending';
  const cs = input.containers;
  if (cs.some((c) => c.status === 'created' && !c.waiting)) return 'Pending';
  if (cs.some((c) => c.status === 'running' || input.restarting(c.name))) return 'Running';
  return cs.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
}

export function computeConditions(input: PodStatusInput): PodCondition[] {
  const notReady = [...(input.sidecars ?? []), ...input.containers].filter((c) => c.status !== 'running' || c.waiting !== undefined || input.ready?.(c.name) === false).map((c) => c.name);
  const ready: PodCondition = notReady.length
    ? { type: 'ContainersReady', status: 'False', reason: `ContainersNotReady: ${notReady.join(', ')}` }
    : { type: 'ContainersReady', status: 'True' };
  return [
    input.initialized ? { type: 'Initialized', status: 'True' } : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' },
    ready,
    { ...ready, type: 'Ready' },
  ];
}
