/**
 * What /proc says about processes: start times (to tell a live process from a reused pid), namespace inodes,
 * and the processes that belong to a container. File-based, with the proc root as a parameter.
 */
import { PRIVILEGE_FIELDS, type ContainerState, type ProcessPrivileges, type ProcessRef } from '../state/pod-state.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

export const NAMESPACE_KINDS = ['net', 'ipc', 'uts', 'pid', 'mnt', 'cgroup', 'user', 'time'] as const;
export type NamespaceName = (typeof NAMESPACE_KINDS)[number];

interface Stat {
  state: string;
  ppid: number;
  startTime: number;
}

function readStat(pid: number, procRoot: string): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

export function processRef(pid: number, procRoot = '/proc'): ProcessRef | undefined {
  const stat = readStat(pid, procRoot);
  return stat ? { pid, startTime: stat.startTime } : undefined;
}

/** True while the recorded process runs (a zombie counts as gone). */
export function isAlive(ref: ProcessRef | undefined, procRoot = '/proc'): boolean {
  if (!ref) return false;
  const stat = readStat(ref.pid, procRoot);
  return !!stat && stat.startTime === ref.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

export function namespaceInode(pid: number, kind: NamespaceName, procRoot = '/proc'): number | undefined {
  try {
    return fs.statSync(`${procRoot}/${pid}/ns/${kind}`).ino;
  } catch {
    return undefined;
  }
}

export function namespaceInodes(pid: number, procRoot = '/proc'): Partial<Record<NamespaceName, number>> {
  const out: Partial<Record<NamespaceName, number>> = {};
  for (const kind of NAMESPACE_KINDS) {
    const ino = namespaceInode(pid, kind, procRoot);
    if (ino !== undefined) out[kind] = ino;
  }
  return out;
}

/** Every live pid whose mount namespace is `mntNs`: a container's processes and its exec sessions. */
export function pidsInMountNamespace(mntNs: number, procRoot = '/proc'): number[] {
  return pidsByMountNamespace(procRoot, mntNs).get(mntNs) ?? [];
}

/**
 * Live pids by mount namespace, from one pass over /proc (only `only`'s when given). A command that lists
 * several containers' processes builds it once (one stat per host process, not one per host process and
 * container) and passes it to containerPids.
 */
export function pidsByMountNamespace(procRoot = '/proc', only?: number): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (const entry of fs.readdirSync(procRoot)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const mntNs = namespaceInode(pid, 'mnt', procRoot);
    if (mntNs === undefined || (only !== undefined && mntNs !== only)) continue;
    const stat = readStat(pid, procRoot);
    if (!stat || stat.state === 'Z') continue;
    const pids = index.get(mntNs);
    if (pids) pids.push(pid);
    else index.set(mntNs, [pid]);
  }
  return index;
}

export function commandLine(pid: number, procRoot = '/proc'): string[] {
  try {
    return fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').filter((s, i, a) => s || i < a.length - 1);
  } catch {
    return [];
  }
}

/** The pid as the process's innermost PID namespace sees it (NSpid's last field). */
export function innermostPid(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const line = fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
    const fields = line?.split(/\s+/).slice(1).filter(Boolean);
    return fields?.length ? Number(fields[fields.length - 1]) : undefined;
  } catch {
    return undefined;
  }
}

/** What the process may do, from /proc/<pid>/status (`self` works too); undefined when there is no such process. */
export function processPrivileges(pid: number | 'self', procRoot = '/proc'): ProcessPrivileges | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const privileges: ProcessPrivileges = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    const field = line.slice(0, colon) as (typeof PRIVILEGE_FIELDS)[number];
    if (colon > 0 && PRIVILEGE_FIELDS.includes(field)) privileges[field] = line.slice(colon + 1).trim().split(/\s+/).join(' ');
  }
  return privileges;
}

/**
 * A container's live processes: its main process and everything else in its mount namespace. The recorded
 * namespace inode is trusted only while the main process still holds it: the kernel reuses nsfs inode
 * numbers once a namespace is freed, and another pod's namespace may carry the number by now. When the main
 * process is gone, so is the rest (its PID namespace died with it, or the pause is killed with the pod).
 */
export function containerPids(c: Pick<ContainerState, 'process' | 'mntNs'>, procRoot = '/proc', index?: Map<number, number[]>): number[] {
  if (!c.process || !isAlive(c.process, procRoot)) return [];
  if (c.mntNs === undefined || namespaceInode(c.process.pid, 'mnt', procRoot) !== c.mntNs) return [c.process.pid];
  return index ? (index.get(c.mntNs) ?? []) : pidsInMountNamespace(c.mntNs, procRoot);
}
