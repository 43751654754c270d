/**
 * The pod's namespace map (issue 8): one row per process — the pause, each container's processes, exec
 * sessions — and one column per namespace type, each inode marked as the pod's shared one (the pause has it),
 * the host's (podns itself is in it) or the process's own. `-o dot` draws processes → namespaces for Graphviz.
 */
import { commandLine, containerPids, innermostPid, isAlive, namespaceInodes, NAMESPACE_KINDS, pidsByMountNamespace, type NamespaceName } from '../../runtime/proc.js';
import type { PodState } from '../../state/pod-state.js';
import { formatColumns } from '../columns.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

export type Sharing = 'pod' | 'host' | 'own';

export interface NamespaceRow {
  /** `pause`, `container/NAME`, or `exec/NAME` for a process no container process started. */
  role: string;
  pid: number;
  podPid?: number;
  command: string;
  namespaces: Partial<Record<NamespaceName, { inode: number; sharing: Sharing }>>;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function namespaceMap(state: PodState, procRoot = '/proc', index = pidsByMountNamespace(procRoot)): NamespaceRow[] {
  // "The host" is where podns itself runs: its own namespaces (PID 1 of a VM or container may be elsewhere).
  const host = namespaceInodes(process.pid, procRoot);
  // The pod's namespaces are the pause's; with --infra=none, the first container's.
  const holder = state.infra === 'none' ? state.containers[0]?.process : state.pause;
  const pause = holder && isAlive(holder, procRoot) ? namespaceInodes(holder.pid, procRoot) : {};
  const row = (role: string, pid: number): NamespaceRow => {
    const inodes = namespaceInodes(pid, procRoot);
    const namespaces: NamespaceRow['namespaces'] = {};
    for (const kind of NAMESPACE_KINDS) {
      const inode = inodes[kind];
      if (inode === undefined) continue;
      // The pod's own namespaces first: with hostNetwork the pause holds the host's, and they are the pod's too.
      const sharing: Sharing = inode === pause[kind] && inode !== host[kind] ? 'pod' : inode === host[kind] ? 'host' : 'own';
      namespaces[kind] = { inode, sharing };
    }
    return { role, pid, podPid: innermostPid(pid, procRoot), command: commandLine(pid, procRoot).join(' '), namespaces };
  };
  const rows: NamespaceRow[] = [];
  if (state.pause && isAlive(state.pause, procRoot)) rows.push(row('pause', state.pause.pid));
  for (const c of state.containers) {
    const pids = containerPids(c, procRoot, index);
    const members = new Set(pids);
    for (const pid of pids) {
      // A process whose parent is outside the container was started from outside it: an exec session.
      const parent = parentOf(pid);
      const fromOutside = pid !== c.process?.pid && parent !== undefined && !members.has(parent);
      rows.push(row(`${fromOutside ? 'exec' : 'container'}/${c.name}`, pid));
    }
  }
  return rows;
}

const MARK: Record<Sharing, string> = { pod: ' P', host: ' H', own: '' };

export function namespaceTable(rows: NamespaceRow[]): string {
  const header = ['PROCESS', 'PID', 'POD-PID', ...NAMESPACE_KINDS.map((k) => k.toUpperCase()), 'COMMAND'];
  const body = rows.map((r) => [
    r.role,
    String(r.pid),
    r.podPid === undefined ? '-' : String(r.podPid),
    ...NAMESPACE_KINDS.map((k) => (r.namespaces[k] ? `${r.namespaces[k]!.inode}${MARK[r.namespaces[k]!.sharing]}` : '-')),
    r.command,
  ]);
  return formatColumns([header, ...body]) + 'P: the pod\'s shared namespace (the pause holds it)   H: the host\'s   unmarked: the process\'s own\n';
}

export function namespaceDot(podName: string, rows: NamespaceRow[]): string {
  const lines = [`digraph "${podName}" {`, '  rankdir=LR;', '  node [fontname="monospace"];'];
  const seen = new Set<string>();
  const color: Record<Sharing, string> = { pod: 'lightblue', host: 'lightgrey', own: 'white' };
  for (const r of rows) {
    const proc = `p${r.pid}`;
    lines.push(`  ${proc} [shape=box, label="${r.role}\\npid ${r.pid}${r.podPid !== undefined ? ` (${r.podPid} in pod)` : ''}\\n${r.command.replace(/["\\]/g, '').slice(0, 40)}"];`);
    for (const [kind, ns] of Object.entries(r.namespaces)) {
      const id = `${kind}_${ns!.inode}`;
      if (!seen.has(id)) {
        seen.add(id);
        lines.push(`  ${id} [shape=ellipse, style=filled, fillcolor=${color[ns!.sharing]}, label="${kind}:[${ns!.inode}]\\n${ns!.sharing}"];`);
      }
      lines.push(`  ${proc} -> ${id};`);
    }
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
