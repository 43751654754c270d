/** `podns ps`: one line for each pod's sandbox and each of its containers, like crictl pods + ps. */
import { isAlive } from '../../runtime/proc.js';
import { formatAge, formatColumns } from '../columns.js';
import { kubeContainerState, type PodState } from '../../state/pod-state.js';
import type { PodRecord } from '../pod-lookup.js';

/** The pod's status as a person needs it: the recorded phase, corrected by what is alive now. */
export function podStatus(state: PodState): string {
  // Nothing holds a starting or running pod whose supervisor is gone (the next command's supervisor adopts it).
  if ((state.phase === 'Running' || state.phase === 'Pending') && (!state.supervisor || !isAlive(state.supervisor))) return 'NoSupervisor';
  // kubectl shows a pod's reason in place of its phase (DeadlineExceeded, Evicted).
  if (state.reason) return state.reason;
  if (state.phase === 'Running' && state.infra !== 'none' && (!state.pause || !isAlive(state.pause))) return 'SandboxDead';
  // While init containers run, as kubectl shows it: Init:1/2, Init:CrashLoopBackOff, Init:Error.
  const inits = state.initContainers ?? [];
  // A sidecar counts once it has started (kubectl: Started), a plain init container once it exited 0.
  const done = inits.filter((c) => (c.sidecar ? c.status === 'running' && c.started : c.status === 'exited' && c.exitCode === 0)).length;
  if (state.phase === 'Pending' && inits.length && done < inits.length) {
    const current = inits[done]!;
    if (current.waiting) return `Init:${current.waiting.reason}`;
    if (current.status === 'exited') return `Init:${current.reason ?? 'Error'}`;
    return `Init:${done}/${inits.length}`;
  }
  return state.phase;
}

/**
 * kubectl's words: Running, ContainerCreating, CrashLoopBackOff, Completed, Error (n), OOMKilled (n). A
 * container podns stopped on request (stop -c, stop POD), or that died with the pod's namespaces (--infra=none),
 * reads `Exited (n)`: kubelet has no such state.
 */
export function containerStatus(c: PodState['containers'][number]): string {
  if (c.status === 'running' && c.waiting) return c.waiting.reason; // its postStart still runs
  if (c.status === 'running') return c.process && isAlive(c.process) ? 'Running' : 'Unknown';
  const state = kubeContainerState(c);
  if ('waiting' in state) return state.waiting.reason;
  if ('running' in state) return 'Running';
  const t = state.terminated;
  if ((c.stoppedByUser || c.endedWithSandbox) && t.reason !== 'OOMKilled') return `Exited (${t.exitCode})`;
  if (t.reason === 'Completed' || (!t.reason && t.exitCode === 0)) return 'Completed';
  return `${t.reason ?? 'Error'} (${t.exitCode})`;
}

/** The table of `pods` (listPods: read once, for the table and the hints). */
export function psTable(pods: PodRecord[], now = Date.now(), wide = false): string {
  // RESTARTS goes last, so that scripts reading the older columns by position keep working.
  const rows: string[][] = [['POD', 'CONTAINER', 'STATUS', 'PID', 'IMAGE', 'AGE', ...(wide ? ['IP'] : []), 'RESTARTS']];
  for (const { state, spec } of pods) {
    if (!state) {
      rows.push([spec?.pod.metadata.name ?? '?', '(pause)', 'Creating', '-', '-', '-', ...(wide ? ['-'] : []), '-']);
      continue;
    }
    const pod = state.namespace === 'default' ? state.name : `${state.namespace}/${state.name}`;
    rows.push([pod, state.infra === 'none' ? '(no pause)' : '(pause)', podStatus(state), state.pause && isAlive(state.pause) ? String(state.pause.pid) : '-', '-', formatAge(state.createdAt, now), ...(wide ? [state.podIP ?? '-'] : []), String(state.containers.reduce((n, c) => n + c.restartCount, 0))]);
    for (const c of [...(state.initContainers ?? []), ...state.containers]) {
      const alive = c.status === 'running' && c.process && isAlive(c.process);
      rows.push([pod, c.name, containerStatus(c), alive ? String(c.process!.pid) : '-', c.image, formatAge(c.startedAt, now), ...(wide ? [state.podIP ?? '-'] : []), String(c.restartCount)]);
    }
  }
  // No pods: the header as it was before RESTARTS (docs/walkthrough.md shows an empty listing).
  if (rows.length === 1) rows[0]!.pop();
  return formatColumns(rows);
}

/**
 * What to do about each pod no supervisor holds (one that could not be adopted: SupervisorLost, or none runs):
 * one line each, for stderr (the table stays as scripts read it).
 */
export function unsupervisedHints(pods: PodRecord[]): string[] {
  const hints: string[] = [];
  for (const { state } of pods) {
    const status = state && podStatus(state);
    if (!state || (status !== 'NoSupervisor' && status !== 'SupervisorLost')) continue;
    const ns = state.namespace === 'default' ? '' : ` -n ${state.namespace}`;
    const why = status === 'SupervisorLost' ? (state.message ?? 'it could not be adopted') : 'no supervisor runs (see podns info)';
    hints.push(`hint: pod "${state.name}": ${why}; remove it with podns${ns} rm -f ${state.name}`);
  }
  return hints;
}
