/** `podns ps`: one line for each pod's sandbox and each of its containers, like crictl pods + ps. */
import { isAlive } from '../../runtime/proc.js';
import { formatColumns } from '../columns.js';
import type { Roots } from '../../state/paths.js';
import type { PodState } from '../../state/pod-state.js';
import { listPods } from '../pod-lookup.js';

export function formatAge(since: string | undefined, now = Date.now()): string {
  if (!since) return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  if (s < 2 * 31_536_000) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / 31_536_000)}y`;
}

/** The pod's status as a person needs it: the recorded phase, corrected by what is alive now. */
export function podStatus(state: PodState): string {
  if (state.phase === 'Running' && (!state.shim || !isAlive(state.shim))) return 'ShimDead';
  if (state.phase === 'Running' && state.infra !== 'none' && (!state.pause || !isAlive(state.pause))) return 'SandboxDead';
  return state.phase;
}

function containerStatus(c: PodState['containers'][number]): string {
  if (c.status === 'running') return c.process && isAlive(c.process) ? 'Running' : 'Unknown';
  // Killed by the OOM killer in its cgroup: `OOMKilled (137)`, as kubectl shows the reason.
  if (c.status === 'exited' && c.reason === 'OOMKilled') return `OOMKilled (${c.exitCode})`;
  if (c.status === 'exited') return `Exited (${c.exitCode})${c.stoppedByUser ? ' stopped' : ''}`;
  return 'Created';
}

export function psTable(roots: Roots, now = Date.now(), wide = false): string {
  const rows: string[][] = [['POD', 'CONTAINER', 'STATUS', 'PID', 'IMAGE', 'AGE', ...(wide ? ['IP'] : [])]];
  for (const { state, spec } of listPods(roots)) {
    if (!state) {
      rows.push([spec.pod.metadata.name, '(pause)', 'Creating', '-', '-', '-', ...(wide ? ['-'] : [])]);
      continue;
    }
    const pod = state.namespace === 'default' ? state.name : `${state.namespace}/${state.name}`;
    rows.push([pod, state.infra === 'none' ? '(no pause)' : '(pause)', podStatus(state), state.pause && isAlive(state.pause) ? String(state.pause.pid) : '-', '-', formatAge(state.createdAt, now), ...(wide ? [state.podIP ?? '-'] : [])]);
    for (const c of state.containers) {
      const alive = c.status === 'running' && c.process && isAlive(c.process);
      rows.push([pod, c.name, containerStatus(c), alive ? String(c.process!.pid) : '-', c.image, formatAge(c.startedAt, now), ...(wide ? [state.podIP ?? '-'] : [])]);
    }
  }
  return formatColumns(rows);
}
