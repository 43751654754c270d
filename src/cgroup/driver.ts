/**
 * The cgroup manager interface (crun's cgroup-v1/cgroup-v2 split): create a pod's cgroups with their limits,
 * name the cgroup.procs files a new process joins before exec, read usage, kill everything inside, remove them.
 * The version-specific parts are planWrites (pure: limits → files), the kill and the stats; the rest is here.
 */
import path from 'node:path';
import { fromNodeError } from '../errors.js';
import { cgroupDir, cgroupProcsFiles, type CgroupLayout } from './layout.js';
import type { CgroupLimits } from './resources.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** One write into a cgroup directory, in the order it must happen. */
export interface CgroupWrite {
  hierarchy: string;
  file: string;
  value: string;
}

export interface CgroupStats {
  /** Total CPU time used, in nanoseconds. */
  cpuUsageNs: number;
  /** Working set as kubelet/cAdvisor count it: usage minus inactive file cache. */
  memoryWorkingSet: number;
  memoryUsage: number;
  /** undefined: unlimited. */
  memoryLimit?: number;
  pids: number;
  /** Processes the OOM killer killed in this cgroup. */
  oomKills: number;
  /** Anonymous memory (v1 total_rss, v2 anon), and page faults (all, major), from memory.stat. */
  memoryRss?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface DriverOptions {
  /** Sends a signal; process.kill by default (tests inject a recorder). */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  /** Removes one cgroup directory; rmdir by default (a temp dir standing in for cgroupfs needs rm -r). */
  removeDir?: (dir: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** cgroup v2: attaches a BPF device program to a cgroup directory (the addon's attachDeviceFilter). Without
   *  it a v2 driver cannot apply a device policy and refuses to create a cgroup that asks for one. */
  attachDeviceFilter?: (dir: string, program: Buffer) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (cpu.stat, memory.stat, memory.events, memory.oom_control) as a map. */
export function readKeyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

export function readNumber(file: string): number | undefined {
  const text = readText(file)?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

export abstract class CgroupDriver {
  protected readonly kill: (pid: number, signal: NodeJS.Signals) => void;
  protected readonly removeDir: (dir: string) => void;
  protected readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly layout: CgroupLayout,
    options: DriverOptions = {},
  ) {
    this.kill = options.kill ?? ((pid, sig) => process.kill(pid, sig));
    this.removeDir = options.removeDir ?? ((dir) => fs.rmdirSync(dir));
    this.sleep = options.sleep ?? defaultSleep;
  }

  get hierarchies(): string[] {
    return Object.keys(this.layout.mounts);
  }

  /** The files to write for `limits`, in order; pure. */
  abstract planWrites(limits: CgroupLimits): CgroupWrite[];
  /** Usage of the pod cgroup (leaf undefined) or of a leaf; undefined when the cgroup does not exist. */
  abstract stats(leaf?: string): CgroupStats | undefined;
  /** Kills every process in the pod's cgroups and waits (bounded) until they are empty. */
  abstract killAll(timeoutMs?: number): Promise<void>;
  /** Before a cgroup is made below `dir`'s parent (v2: enable controllers for the children). */
  protected prepareParent(_dir: string): void {}

  dir(hierarchy: string, leaf?: string): string {
    return cgroupDir(this.layout, hierarchy, leaf);
  }

  /** Told of every directory made and file written, with the command a person would type (`--explain`). */
  onStep?: (what: string, command: string) => void;

  /** The directories above the pod cgroup that do not exist yet, per hierarchy (outermost first): create() makes them. */
  missingParents(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const h of this.hierarchies) {
      const missing: string[] = [];
      for (let d = path.dirname(this.dir(h)); d.startsWith(this.layout.mounts[h]!) && d !== this.layout.mounts[h] && !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
      if (missing.length) out[h] = missing;
    }
    return out;
  }

  /** Creates the pod cgroup (leaf undefined) or one leaf in every hierarchy, then writes its limits. */
  create(leaf: string | undefined, limits: CgroupLimits): void {
    for (const h of this.hierarchies) {
      const dir = this.dir(h, leaf);
      this.prepareParent(dir);
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw fromNodeError('cgroup.create', err, `create cgroup "${dir}"`);
      }
      this.onStep?.(`create cgroup ${dir}`, `mkdir -p ${dir}`);
    }
    for (const w of this.planWrites(limits)) this.write(this.dir(w.hierarchy, leaf), w.file, w.value);
  }

  protected write(dir: string, file: string, value: string): void {
    const target = path.join(dir, file);
    try {
      fs.writeFileSync(target, value);
    } catch (err) {
      throw fromNodeError('cgroup.write', err, `write ${JSON.stringify(value)} to "${target}"`);
    }
    this.onStep?.(`cgroup write ${file}`, `echo ${JSON.stringify(value)} > ${target}`);
  }

  /** The files a new process writes "0" to, to join a leaf (SpawnRequest.cgroupProcsFiles; see cgroupProcsFiles). */
  procsFiles(leaf: string): string[] {
    return cgroupProcsFiles(this.layout, leaf);
  }

  /** Pids in the pod cgroup (leaf undefined: the pod cgroup itself and every leaf) in any hierarchy. */
  pids(leaf?: string): number[] {
    const dirs = leaf !== undefined ? [leaf] : ['', ...this.layout.leaves];
    const out = new Set<number>();
    for (const h of this.hierarchies) {
      for (const l of dirs) {
        for (const line of (readText(path.join(this.dir(h, l || undefined), 'cgroup.procs')) ?? '').split('\n')) {
          if (/^\d+$/.test(line)) out.add(Number(line));
        }
      }
    }
    return [...out];
  }

  /** OOM kills recorded in a leaf. */
  oomKills(leaf: string): number {
    return this.stats(leaf)?.oomKills ?? 0;
  }

  /** True when any of the pod's cgroup directories is still there. */
  exists(): boolean {
    return this.hierarchies.some((h) => fs.existsSync(this.dir(h)));
  }

  /**
   * Removes the leaves, then the pod cgroup, in every hierarchy. A cgroup whose last process has just died can
   * answer EBUSY for a moment (the exit is not finished); that is retried for up to `timeoutMs`.
   */
  async remove(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const h of this.hierarchies) {
      for (const leaf of [...this.layout.leaves, undefined]) {
        const dir = this.dir(h, leaf);
        for (;;) {
          try {
            if (fs.existsSync(dir)) this.removeDir(dir);
            break;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') break;
            if (code !== 'EBUSY' || Date.now() > deadline) throw fromNodeError('cgroup.remove', err, `remove cgroup "${dir}"`);
            await this.sleep(20);
          }
        }
      }
      this.removeCreatedParents(h);
    }
  }

  /**
   * The parents made for this pod (createdParents), innermost first, while they are empty: a cgroup with a child
   * or a process refuses rmdir (EBUSY), which is where another pod still needs it. Plain rmdir whatever removeDir
   * is: a parent is never removed with what is below it.
   */
  private removeCreatedParents(h: string): void {
    for (const dir of [...(this.layout.createdParents?.[h] ?? [])].reverse()) {
      try {
        fs.rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
      }
    }
  }

  /** Polls until no process is left in the pod's cgroups; throws after `timeoutMs`. */
  protected async waitEmpty(timeoutMs: number, step: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = this.pids();
      if (left.length === 0) return;
      if (Date.now() > deadline) {
        throw fromNodeError(step, new Error(`processes still in the pod's cgroups: ${left.join(', ')}`), `kill cgroup "${this.dir(this.hierarchies[0]!)}"`);
      }
      for (const pid of left) this.signal(pid);
      await this.sleep(10);
    }
  }

  protected signal(pid: number): void {
    try {
      this.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
