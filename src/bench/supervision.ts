/**
 * Which processes supervise the bench's pods, whatever podns's process model is, and what memory they use.
 *
 * Supervision is every long-running podns process of the bench's --root plus the pause of each of its pods:
 *   - the supervisor: the pid in `<run>/supervisor.pid` ("<pid> <starttime>"), when that process still runs;
 *   - any Node process of that root: its command line names the root (`main.js --root <dir> serve`), or, as a
 *     per-pod shim whose process title has overwritten its argv (`podns shim <pod>`), it holds a file under
 *     the root open (shim.log, the CRI logs). Titles tell a shim from a supervisor;
 *   - a pause: a process whose executable is named `pause` in a cgroup below the bench's own cgroup parent,
 *     which no one but this bench's pods uses.
 * The proc root is a parameter, so unit tests point it at a directory that stands in for /proc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { memoryUse, type MemoryUse } from './smaps.js';
import { isAlive } from '../runtime/proc.js';

export interface ProcFacts {
  pid: number;
  /** Target of /proc/PID/exe ('' when unreadable). */
  exe: string;
  /** argv, or the process title that overwrote it. */
  argv: string[];
  /** /proc/PID/cgroup as read. */
  cgroup: string;
  /** Targets of /proc/PID/fd/*; read for Node processes only (undefined otherwise). */
  openFiles?: string[];
}

export interface ScanScope {
  /** The bench's --root. */
  root: string;
  /** The cgroup parent of the bench's pods, as given to podns (a name unique to the bench). */
  cgroupParent: string;
  /** The supervisor's pid, from `<run>/supervisor.pid`, when it names a live process. */
  supervisorPid?: number;
  /** Pids never counted: the bench and its helpers. */
  exclude: ReadonlySet<number>;
}

export type SupervisionModel = 'supervisor' | 'per-pod shims' | 'unrecognised podns processes' | 'none running';

export interface SupervisionScan {
  model: SupervisionModel;
  supervisors: number[];
  shims: number[];
  /** Node processes of the root that are neither (a CLI still running, or a model this bench does not know). */
  otherNode: number[];
  pauses: number[];
}

const isNode = (exe: string) => /node/.test(path.basename(exe));

/** Whether /proc/PID/cgroup text puts the process below the cgroup parent (given as podns takes it). */
export function inCgroupParent(cgroupText: string, parent: string): boolean {
  const name = parent.replace(/^\/+|\/+$/g, '');
  return cgroupText.split('\n').some((l) => l.includes(`/${name}/`));
}

function namesRoot(argv: string[], root: string): boolean {
  // A process title is one string with spaces; real argv entries may hold the root anywhere.
  return argv.flatMap((a) => a.split(' ')).some((a) => a === root || a.startsWith(`${root}/`));
}

/** Sorts processes into supervisors, shims, other podns Node processes and pauses. Pure. */
export function classifyProcesses(procs: readonly ProcFacts[], scope: ScanScope): SupervisionScan {
  const scan: SupervisionScan = { model: 'none running', supervisors: [], shims: [], otherNode: [], pauses: [] };
  for (const p of procs) {
    if (scope.exclude.has(p.pid)) continue;
    const title = p.argv.join(' ');
    if (p.pid === scope.supervisorPid) {
      scan.supervisors.push(p.pid);
    } else if (isNode(p.exe) && (namesRoot(p.argv, scope.root) || (p.openFiles ?? []).some((f) => f.startsWith(`${scope.root}/`)))) {
      if (/^podns supervisor\b/.test(title) || /\/dist\/cli\/main\.js .*\bserve$/.test(title)) scan.supervisors.push(p.pid);
      else if (/^podns shim\b/.test(title) || /\/dist\/cli\/main\.js shim\b/.test(title)) scan.shims.push(p.pid);
      else scan.otherNode.push(p.pid);
    } else if (path.basename(p.exe) === 'pause' && inCgroupParent(p.cgroup, scope.cgroupParent)) {
      scan.pauses.push(p.pid);
    }
  }
  scan.model = scan.supervisors.length
    ? 'supervisor'
    : scan.shims.length
      ? 'per-pod shims'
      : scan.otherNode.length
        ? 'unrecognised podns processes'
        : 'none running';
  return scan;
}

function readLink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '';
  }
}

/** What classification needs of one process; undefined when it is gone. */
export function readProcFacts(pid: number, procRoot = '/proc'): ProcFacts | undefined {
  const dir = path.join(procRoot, String(pid));
  let argv: string[];
  let cgroup: string;
  try {
    argv = fs.readFileSync(path.join(dir, 'cmdline'), 'utf8').replace(/\0+$/, '').split('\0');
    cgroup = fs.readFileSync(path.join(dir, 'cgroup'), 'utf8');
  } catch {
    return undefined;
  }
  // A process title leaves the rest of the old argv area blank: trim it.
  argv = argv.map((a) => a.trimEnd());
  const exe = readLink(path.join(dir, 'exe'));
  let openFiles: string[] | undefined;
  if (isNode(exe)) {
    try {
      openFiles = fs.readdirSync(path.join(dir, 'fd')).map((fd) => readLink(path.join(dir, 'fd', fd)));
    } catch {
      openFiles = [];
    }
  }
  return { pid, exe, argv, cgroup, openFiles };
}

/** The pid in `<runDir>/supervisor.pid` when that process (same start time) still runs. */
export function readSupervisorPid(runDir: string, procRoot = '/proc'): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, 'supervisor.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, startTime] = text.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(pid) || !Number.isFinite(startTime)) return undefined;
  return isAlive({ pid: pid!, startTime: startTime! }, procRoot) ? pid : undefined;
}

export function scanSupervision(scope: Omit<ScanScope, 'supervisorPid'> & { runDir: string }, procRoot = '/proc'): SupervisionScan {
  const supervisorPid = readSupervisorPid(scope.runDir, procRoot);
  const procs: ProcFacts[] = [];
  for (const entry of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const facts = readProcFacts(Number(entry), procRoot);
    if (facts) procs.push(facts);
  }
  return classifyProcesses(procs, { ...scope, supervisorPid });
}

export interface SupervisionMemory {
  rssKb: number;
  pssKb: number;
  /** By kind: supervisors, shims, otherNode, pauses (n: how many were measured). */
  byKind: Record<'supervisors' | 'shims' | 'otherNode' | 'pauses', { n: number } & MemoryUse>;
  /** Processes of the scan that had exited by the time their memory was read (not counted). */
  vanished: number;
}

/** Sums RSS and PSS (smaps_rollup) over a scan's processes. */
export function measureSupervision(scan: SupervisionScan, procRoot = '/proc'): SupervisionMemory {
  const out: SupervisionMemory = { rssKb: 0, pssKb: 0, byKind: {} as SupervisionMemory['byKind'], vanished: 0 };
  for (const kind of ['supervisors', 'shims', 'otherNode', 'pauses'] as const) {
    const sum = { n: 0, rssKb: 0, pssKb: 0 };
    for (const pid of scan[kind]) {
      let m: MemoryUse;
      try {
        // A process that exited in between has no file, or (a zombie) an empty one.
        m = memoryUse(fs.readFileSync(path.join(procRoot, String(pid), 'smaps_rollup'), 'utf8'));
      } catch {
        out.vanished++;
        continue;
      }
      sum.n++;
      sum.rssKb += m.rssKb;
      sum.pssKb += m.pssKb;
    }
    out.byKind[kind] = sum;
    out.rssKb += sum.rssKb;
    out.pssKb += sum.pssKb;
  }
  return out;
}

/** One look at the bench's supervision: which processes, which model, their memory. */
export interface SupervisionSample {
  scan: SupervisionScan;
  memory: SupervisionMemory;
}

export function sampleSupervision(scope: Omit<ScanScope, 'supervisorPid'> & { runDir: string }, procRoot = '/proc'): SupervisionSample {
  const scan = scanSupervision(scope, procRoot);
  return { scan, memory: measureSupervision(scan, procRoot) };
}
