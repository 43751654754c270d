/**
 * A pod's resources as Kubernetes sums them (component-helpers resource.PodRequests / PodLimits): the app
 * containers and the sidecars run together; each plain init container runs alone beside the sidecars started
 * before it; the pod needs the larger of the two (KEP-753). Used by validation (pod-level resources must cover
 * the containers' requests, KEP-2837) and by the pod cgroup's limits.
 */
import type { ContainerSpec, PodSpec } from './types.js';

export function aggregateOverContainers(pod: Pick<PodSpec, 'containers' | 'initContainers'>, amount: (c: ContainerSpec) => number): number {
  let sidecars = 0;
  let initPeak = 0;
  for (const c of pod.initContainers ?? []) {
    if (c.restartPolicy === 'Always') {
      sidecars += amount(c);
      initPeak = Math.max(initPeak, sidecars);
    } else {
      initPeak = Math.max(initPeak, sidecars + amount(c));
    }
  }
  const running = pod.containers.reduce((n, c) => n + amount(c), 0) + sidecars;
  return Math.max(running, initPeak);
}

/**
 * The pod's memory limit as kubelet takes it for the pod cgroup and for sizing Memory emptyDirs: the pod-level
 * limit, else the containers' aggregate when every one of them has a limit; undefined when unlimited.
 */
export function podMemoryLimit(pod: Pick<PodSpec, 'containers' | 'initContainers' | 'resources'>): number | undefined {
  if (pod.resources?.limits.memory !== undefined) return Math.floor(pod.resources.limits.memory);
  const all = [...(pod.initContainers ?? []), ...pod.containers];
  if (all.length === 0 || !all.every((c) => c.resources?.limits.memory !== undefined)) return undefined;
  return aggregateOverContainers(pod, (c) => Math.floor(c.resources?.limits.memory ?? 0));
}

/** A cpu amount in cores as Kubernetes prints it: whole cores, else millicores (1500m). */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes as Kubernetes prints a memory quantity: the largest binary suffix that divides it (64Mi), else bytes. */
export function formatMemory(bytes: number): string {
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
  for (let i = 0; i < units.length; i++) {
    const size = 1024 ** (units.length - i);
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${units[i]}`;
  }
  return String(bytes);
}
