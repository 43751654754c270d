/**
 * What the bench's pods could leave behind once `podns rm -f` has run: pod directories, netns pins of its
 * pods, veths and address leases, hostPort elements, mounts under the root, processes (a supervisor of the
 * root is expected to stay and is not a leftover), and pod cgroups below the bench's cgroup parent. One
 * line per thing found; none means clean.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { BenchNetns } from './bench-netns.js';
import { inCgroupParent, scanSupervision } from './supervision.js';
import { detectCgroups, parseProcCgroup, resolveCgroupParent } from '../cgroup/layout.js';
import { NETNS_DIR, netnsPinPrefix, resolveRoots } from '../state/paths.js';

/** The bench's cgroup parent directory in each hierarchy (absolute paths under the cgroup mounts). */
export function cgroupParentDirs(parent: string): string[] {
  const host = detectCgroups(process.env.PODNS_CGROUP_ROOT ?? '/sys/fs/cgroup');
  const parents = resolveCgroupParent(parent, host, parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8')));
  return Object.entries(parents).map(([hierarchy, rel]) => path.join(host.mounts[hierarchy]!, rel));
}

/** Mount points at or below `dir`, deepest first. */
export function mountsBelow(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readArgv(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  } catch {
    return '(exited)';
  }
}

export interface LeftoverScope {
  root: string;
  /** The netns pin of every pod the bench used. */
  netnsPins: readonly string[];
  netns: BenchNetns;
  cgroupParent: string;
  exclude: ReadonlySet<number>;
}

export function findLeftovers(scope: LeftoverScope): string[] {
  const found: string[] = [];
  const roots = resolveRoots(scope.root);
  for (const dir of [path.join(roots.run, 'pods'), path.join(roots.lib, 'pods')]) {
    for (const e of entries(dir)) found.push(`pod directory ${path.join(dir, e)}`);
  }
  const pinMounts = new Set(mountsBelow(NETNS_DIR));
  // The pods' own pins, and any other pin of this root (`podns-<root hash>-...`).
  const prefix = netnsPinPrefix(roots);
  const pins = new Set([...scope.netnsPins, ...entries(NETNS_DIR).filter((n) => n.startsWith(prefix)).map((n) => path.join(NETNS_DIR, n))]);
  for (const pin of pins) {
    if (fs.existsSync(pin) || pinMounts.has(pin)) found.push(`netns pin ${pin}`);
  }
  for (const m of mountsBelow(scope.root)) found.push(`mount ${m}`);
  const networkDir = path.join(roots.lib, 'network');
  for (const bridge of entries(networkDir)) {
    for (const ip of entries(path.join(networkDir, bridge, 'leases'))) found.push(`lease ${bridge}/${ip}`);
  }
  const links = execFileSync('ip', ['-n', scope.netns.name, '-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
  for (const line of links.split('\n').filter(Boolean)) found.push(`veth ${line.split(': ')[1]?.split('@')[0]} in ${scope.netns.name}`);
  try {
    const nft = execFileSync('nsenter', [`--net=${scope.netns.path}`, 'nft', 'list', 'table', 'ip', 'podns'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (/elements = /.test(nft)) found.push(`nft hostPort elements in ${scope.netns.name}`);
  } catch {
    // no podns table in the bench's namespace: nothing published
  }
  const scan = scanSupervision({ root: scope.root, runDir: roots.run, cgroupParent: scope.cgroupParent, exclude: scope.exclude });
  for (const pid of [...scan.shims, ...scan.otherNode]) found.push(`podns process ${pid} of the root`);
  const parentDirs = cgroupParentDirs(scope.cgroupParent);
  for (const entry of entries('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cgroup = '';
    try {
      cgroup = fs.readFileSync(`/proc/${entry}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (inCgroupParent(cgroup, scope.cgroupParent)) found.push(`process ${entry} in a pod cgroup: ${readArgv(entry)}`);
  }
  for (const dir of parentDirs) {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      if (e.isDirectory()) found.push(`cgroup ${path.join(dir, e.name)}`);
    }
  }
  return found;
}
