/**
 * `podns stats [POD] [--watch]`: CPU, memory and pids of each pod and container, read from their cgroups, like
 * `podman stats` / `kubectl top`. CPU% is the CPU time used between two samples over the wall time between them
 * (100% = one core); memory is the working set (usage minus inactive file cache, as kubelet and cAdvisor count it).
 */
import { containerLeaf } from '../../cgroup/layout.js';
import { openCgroupDriver } from '../../cgroup/open-driver.js';
import type { CgroupStats } from '../../cgroup/driver.js';
import type { Roots } from '../../state/paths.js';
import type { PodState } from '../../state/pod-state.js';
import { formatColumns } from '../columns.js';
import { findPod, listPods } from '../pod-lookup.js';

export interface StatsRow {
  pod: string;
  /** undefined: the pod cgroup as a whole. */
  container?: string;
  cpuPercent: number;
  memory: number;
  memoryLimit?: number;
  pids: number;
  oomKills: number;
}

interface Sample {
  at: number;
  stats: Map<string, CgroupStats>;
}

function podLabel(state: PodState): string {
  return state.namespace === 'default' ? state.name : `${state.namespace}/${state.name}`;
}

function takeSample(pods: PodState[]): Sample {
  const stats = new Map<string, CgroupStats>();
  for (const state of pods) {
    if (!state.cgroups) continue;
    const driver = openCgroupDriver(state.cgroups);
    const pod = driver.stats();
    if (pod) stats.set(`${state.id}/`, pod);
    for (const c of state.containers) {
      const s = driver.stats(containerLeaf(c.name));
      if (s) stats.set(`${state.id}/${c.name}`, s);
    }
  }
  return { at: performance.now(), stats };
}

/** Rows from two samples of the same pods. */
export function statsRows(pods: PodState[], before: Sample, after: Sample): StatsRow[] {
  const rows: StatsRow[] = [];
  const wallNs = Math.max(1, (after.at - before.at) * 1e6);
  for (const state of pods) {
    for (const container of [undefined, ...state.containers.map((c) => c.name)]) {
      const key = `${state.id}/${container ?? ''}`;
      const now = after.stats.get(key);
      if (!now) continue;
      const then = before.stats.get(key);
      const cpu = then ? ((now.cpuUsageNs - then.cpuUsageNs) / wallNs) * 100 : 0;
      rows.push({
        pod: podLabel(state),
        ...(container ? { container } : {}),
        cpuPercent: Math.max(0, cpu),
        memory: now.memoryWorkingSet,
        ...(now.memoryLimit !== undefined ? { memoryLimit: now.memoryLimit } : {}),
        pids: now.pids,
        oomKills: now.oomKills,
      });
    }
  }
  return rows;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}

export function statsTable(rows: StatsRow[]): string {
  const out = [['POD', 'CONTAINER', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS']];
  for (const r of rows) {
    out.push([
      r.pod,
      r.container ?? '(pod)',
      `${r.cpuPercent.toFixed(2)}%`,
      `${formatBytes(r.memory)} / ${r.memoryLimit !== undefined ? formatBytes(r.memoryLimit) : '-'}`,
      r.memoryLimit ? `${((r.memory / r.memoryLimit) * 100).toFixed(2)}%` : '-',
      String(r.pids),
    ]);
  }
  return formatColumns(out);
}

function selectPods(roots: Roots, namespace: string, name: string | undefined): PodState[] {
  if (name) {
    const { state } = findPod(roots, namespace, name);
    return state ? [state] : [];
  }
  return listPods(roots).flatMap((r) => (r.state ? [r.state] : []));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One-shot: two samples `intervalMs` apart. --watch: a new table every interval until interrupted. */
export async function showStats(
  roots: Roots,
  namespace: string,
  name: string | undefined,
  opts: { watch?: boolean; output?: string; intervalMs?: number },
  write: (text: string) => void,
): Promise<void> {
  const interval = opts.intervalMs ?? 1000;
  let pods = selectPods(roots, namespace, name);
  let before = takeSample(pods);
  for (;;) {
    await sleep(interval);
    const after = takeSample(pods);
    const rows = statsRows(pods, before, after);
    const text = opts.output === 'json' ? JSON.stringify(rows, null, 2) + '\n' : statsTable(rows);
    write(opts.watch && process.stdout.isTTY ? `\x1b[H\x1b[2J${text}` : text);
    if (!opts.watch) return;
    pods = selectPods(roots, namespace, name);
    before = after;
  }
}

/** The figures `podns inspect` shows for a pod: its cgroup paths and current usage, per container too. */
export function cgroupFigures(state: PodState): object | undefined {
  if (!state.cgroups) return undefined;
  const driver = openCgroupDriver(state.cgroups);
  return {
    version: state.cgroups.version,
    paths: Object.fromEntries(driver.hierarchies.map((h) => [h, driver.dir(h)])),
    pod: driver.stats(),
    containers: Object.fromEntries(state.containers.map((c) => [c.name, driver.stats(containerLeaf(c.name))])),
  };
}
