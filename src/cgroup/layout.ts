/**
 * Where a pod's cgroups live: which cgroup version the host mounts, the pod cgroup's path in each hierarchy
 * (v1 hierarchies may place the caller differently: on this host memory is at /process_api/<id>, the others
 * at /), and the leaves under it. The layout is recorded in state.json before any cgroup exists, so teardown
 * (also `podns rm -f` without a supervisor) needs nothing else.
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** The v1 hierarchies podns uses: limits (cpu, memory, pids, devices), accounting (cpuacct), killing (freezer). */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids', 'devices', 'freezer'] as const;
/** On v2 every path is in the one hierarchy, named so. */
export const UNIFIED = 'unified';

export interface CgroupLayout {
  version: 1 | 2;
  /** Hierarchy → its mount point: v1 `{memory: '/sys/fs/cgroup/memory', ...}`, v2 `{unified: '/sys/fs/cgroup'}`. */
  mounts: Record<string, string>;
  /** Hierarchy → the pod cgroup's path inside it (`/podns/web`). */
  pod: Record<string, string>;
  /** Leaf names under the pod cgroup: `pause`, and `ctr-<container>` for each container. */
  leaves: string[];
  /**
   * Hierarchy → the directories above the pod cgroup that did not exist when it was made (outermost first), so
   * made for it (`mkdir -p`): removed with it when empty. A parent that was there before (kubelet's, an
   * administrator's with limits for every pod) is never removed.
   */
  createdParents?: Record<string, string[]>;
}

export const PAUSE_LEAF = 'pause';
export function containerLeaf(name: string): string {
  return `ctr-${name}`;
}

export interface CgroupHost {
  version: 1 | 2;
  mounts: Record<string, string>;
}

/**
 * Which cgroup version `root` (normally /sys/fs/cgroup) holds: v2 when it is itself a cgroup2 mount (it has
 * cgroup.controllers), v1 when it holds per-controller hierarchies (a hybrid host's `unified` mount, with only
 * hugetlb or nothing in it, does not count). Missing v1 controllers are left out; cpu and memory are required.
 */
export function detectCgroups(root = '/sys/fs/cgroup'): CgroupHost {
  if (fs.existsSync(path.join(root, 'cgroup.controllers'))) return { version: 2, mounts: { [UNIFIED]: root } };
  const mounts: Record<string, string> = {};
  for (const c of V1_CONTROLLERS) {
    const dir = path.join(root, c);
    if (fs.existsSync(path.join(dir, 'cgroup.procs'))) mounts[c] = dir;
  }
  for (const required of ['cpu', 'memory']) {
    if (!mounts[required]) throw new PodnsError('cgroup.detect', `no cgroup v2 at "${root}" and no v1 "${required}" hierarchy under it`);
  }
  return { version: 1, mounts };
}

/** /proc/self/cgroup as hierarchy → path: `4:memory:/x` gives memory → /x; `0::/y` gives unified → /y. */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers, p] = m;
    if (id === '0' && controllers === '') out[UNIFIED] = p!;
    else for (const c of controllers!.split(',')) if (c) out[c] = p!;
  }
  return out;
}

/**
 * The cgroup parent in each hierarchy. An absolute parent (`/podns`, the default) is the same path in every
 * hierarchy; a relative one is taken below the caller's own cgroup in each (`podns-kt-1` → `/process_api/<id>/
 * podns-kt-1` for memory here), which is how the kernel tests nest everything under their own cgroup.
 */
export function resolveCgroupParent(parent: string, host: CgroupHost, self: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of Object.keys(host.mounts)) {
    const base = parent.startsWith('/') ? '/' : (self[h] ?? '/');
    out[h] = path.posix.join(base, parent);
  }
  return out;
}

/** The layout of one pod: `<parent>/<pod id>` with a leaf for the pause and one per container. */
export function planLayout(host: CgroupHost, parents: Record<string, string>, podId: string, containers: string[]): CgroupLayout {
  const pod: Record<string, string> = {};
  for (const h of Object.keys(host.mounts)) pod[h] = path.posix.join(parents[h] ?? '/podns', podId);
  return { version: host.version, mounts: { ...host.mounts }, pod, leaves: [PAUSE_LEAF, ...containers.map(containerLeaf)] };
}

/** Absolute directory of the pod cgroup (leaf undefined) or of one leaf, in hierarchy `h`. */
export function cgroupDir(layout: CgroupLayout, h: string, leaf?: string): string {
  return path.join(layout.mounts[h]!, layout.pod[h]!, leaf ?? '');
}

/**
 * The files a new process writes "0" to, to join a leaf in every hierarchy (SpawnRequest.cgroupProcsFiles):
 * cgroup.procs on v2; on v1 each hierarchy's `tasks`. The writer is the addon's final process, single-threaded,
 * so moving its one thread (tasks) moves the process (cgroup.procs), and what it forks follows. The difference is
 * the kernel's lock: a cgroup.procs write takes cgroup_threadgroup_rwsem for writing, which waits out an RCU
 * grace period (8–17 ms measured here, on every exec and container start after a quiet moment), while a write of
 * "0" to `tasks` moves only the current thread and skips that lock (kernel/cgroup/cgroup.c,
 * cgroup_procs_write_start: "If we migrate a single thread ... we can skip the global lock"; 0.2 ms here).
 * Here rather than only on the driver, so that `podns exec` need not load the drivers.
 */
export function cgroupProcsFiles(layout: CgroupLayout, leaf: string): string[] {
  const file = layout.version === 1 ? 'tasks' : 'cgroup.procs';
  return Object.keys(layout.mounts).map((h) => path.join(cgroupDir(layout, h, leaf), file));
}
