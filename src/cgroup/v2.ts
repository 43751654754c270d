/**
 * cgroup v2 (unified hierarchy). Limits as runc/crun write them: cpu.weight (from shares by the new
 * conversion, see sharesToWeight), cpu.max "quota period", memory.max, memory.swap.max = 0, pids.max.
 * Controllers are enabled top-down in cgroup.subtree_control of every ancestor ("no internal processes":
 * the caller's own cgroup must not hold processes unless it is the root, which is why the VM tests run there).
 *
 * Devices: v2 has no devices.* files; as runc and crun do, a BPF_PROG_TYPE_CGROUP_DEVICE program generated from
 * the same rules (device-filter.ts) is attached to the cgroup, through the injected attachDeviceFilter.
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
import { buildDeviceFilter } from './device-filter.js';
import { CgroupDriver, readKeyed, readNumber, readText, type CgroupStats, type CgroupWrite, type DriverOptions } from './driver.js';
import type { CgroupLayout } from './layout.js';
import { UNIFIED } from './layout.js';
import { sharesToWeight, type CgroupLimits } from './resources.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

const WANTED = ['cpu', 'memory', 'pids'];

export class CgroupV2 extends CgroupDriver {
  private readonly attachDeviceFilter?: (dir: string, program: Buffer) => void;

  constructor(layout: CgroupLayout, options: DriverOptions = {}) {
    super(layout, options);
    this.attachDeviceFilter = options.attachDeviceFilter;
  }

  /** memory.swap.max exists only with swap accounting (CONFIG_MEMCG_SWAP); without it there is no swap to deny. */
  protected override write(dir: string, file: string, value: string): void {
    if (file === 'memory.swap.max' && fs.existsSync(path.join(dir, 'memory.current')) && !fs.existsSync(path.join(dir, file))) return;
    super.write(dir, file, value);
  }

  /** The files, then the device program when the limits ask for a device policy. */
  override create(leaf: string | undefined, limits: CgroupLimits): void {
    super.create(leaf, limits);
    if (!limits.devices) return;
    const dir = this.dir(UNIFIED, leaf);
    if (!this.attachDeviceFilter) throw new PodnsError('cgroup.devices', `cgroup "${dir}": no way to attach a device program`);
    this.attachDeviceFilter(dir, buildDeviceFilter(limits.devices));
  }

  planWrites(limits: CgroupLimits): CgroupWrite[] {
    const out: CgroupWrite[] = [];
    const w = (file: string, value: string | number) => out.push({ hierarchy: UNIFIED, file, value: String(value) });
    if (limits.cpuShares !== undefined) w('cpu.weight', sharesToWeight(limits.cpuShares));
    if (limits.cpuQuota !== undefined) w('cpu.max', `${limits.cpuQuota} ${limits.cpuPeriod ?? 100000}`);
    if (limits.memoryLimit !== undefined) {
      w('memory.max', limits.memoryLimit);
      if (limits.noSwap) w('memory.swap.max', 0);
    }
    if (limits.pidsLimit !== undefined) w('pids.max', limits.pidsLimit);
    return out;
  }

  /** Enables cpu, memory and pids for the children of every ancestor of `dir`, from the top down. */
  protected override prepareParent(dir: string): void {
    const root = this.layout.mounts[UNIFIED]!;
    const parts = path.relative(root, path.dirname(dir)).split(path.sep).filter(Boolean);
    let current = root;
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) current = path.join(current, parts[i - 1]!);
      if (i > 0 && !fs.existsSync(current)) fs.mkdirSync(current);
      const available = readText(path.join(current, 'cgroup.controllers'))?.trim().split(/\s+/) ?? WANTED;
      const enabled = readText(path.join(current, 'cgroup.subtree_control'))?.trim().split(/\s+/) ?? [];
      const missing = WANTED.filter((c) => available.includes(c) && !enabled.includes(c));
      if (missing.length) this.write(current, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    }
  }

  stats(leaf?: string): CgroupStats | undefined {
    const dir = this.dir(UNIFIED, leaf);
    if (!fs.existsSync(dir)) return undefined;
    const usage = readNumber(path.join(dir, 'memory.current')) ?? 0;
    const stat = readKeyed(path.join(dir, 'memory.stat'));
    const inactive = stat.get('inactive_file') ?? 0;
    return {
      cpuUsageNs: (readKeyed(path.join(dir, 'cpu.stat')).get('usage_usec') ?? 0) * 1000,
      memoryUsage: usage,
      memoryWorkingSet: Math.max(0, usage - inactive),
      memoryLimit: readNumber(path.join(dir, 'memory.max')),
      pids: readNumber(path.join(dir, 'pids.current')) ?? 0,
      oomKills: readKeyed(path.join(dir, 'memory.events')).get('oom_kill') ?? 0,
      memoryRss: stat.get('anon'),
      pageFaults: stat.get('pgfault'),
      majorPageFaults: stat.get('pgmajfault'),
    };
  }

  /** cgroup.kill (Linux 5.14) kills the whole subtree at once, forks in flight included; else SIGKILL each pid. */
  async killAll(timeoutMs = 5000): Promise<void> {
    const dir = this.dir(UNIFIED);
    if (fs.existsSync(path.join(dir, 'cgroup.kill'))) this.write(dir, 'cgroup.kill', '1');
    else for (const pid of this.pids()) this.signal(pid);
    await this.waitEmpty(timeoutMs, 'cgroup.kill');
  }
}
