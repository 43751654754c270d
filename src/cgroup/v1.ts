/**
 * cgroup v1 (legacy and hybrid hosts): one hierarchy per controller. Limits as runc writes them
 * (libcontainer/cgroups/fs): cpu.shares, cpu.cfs_period_us then cpu.cfs_quota_us; memory.limit_in_bytes then
 * memory.memsw.limit_in_bytes = the same value (no swap), or memory.swappiness = 0 when the kernel has no swap
 * accounting; pids.max; devices.deny "a" then devices.allow for each allowed device.
 */
import path from 'node:path';
import { CgroupDriver, readKeyed, readNumber, readText, type CgroupStats, type CgroupWrite, type DriverOptions } from './driver.js';
import type { CgroupLayout } from './layout.js';
import type { CgroupLimits } from './resources.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** memory.limit_in_bytes reads back as PAGE_COUNTER_MAX * page size (9223372036854771712) when unlimited. */
const V1_UNLIMITED = 2 ** 62;

export class CgroupV1 extends CgroupDriver {
  /** memory.memsw.* exists only with swap accounting (CONFIG_MEMCG_SWAP and swapaccount=1). */
  readonly swapAccounting: boolean;

  constructor(layout: CgroupLayout, options: DriverOptions & { swapAccounting?: boolean } = {}) {
    super(layout, options);
    this.swapAccounting =
      options.swapAccounting ?? (layout.mounts.memory !== undefined && fs.existsSync(path.join(layout.mounts.memory, 'memory.memsw.limit_in_bytes')));
  }

  planWrites(limits: CgroupLimits): CgroupWrite[] {
    const out: CgroupWrite[] = [];
    const has = (h: string) => this.layout.mounts[h] !== undefined;
    const w = (hierarchy: string, file: string, value: string | number) => {
      if (has(hierarchy)) out.push({ hierarchy, file, value: String(value) });
    };
    if (limits.cpuShares !== undefined) w('cpu', 'cpu.shares', limits.cpuShares);
    if (limits.cpuQuota !== undefined) {
      w('cpu', 'cpu.cfs_period_us', limits.cpuPeriod ?? 100000);
      w('cpu', 'cpu.cfs_quota_us', limits.cpuQuota);
    }
    if (limits.memoryLimit !== undefined) {
      w('memory', 'memory.limit_in_bytes', limits.memoryLimit);
      if (limits.noSwap) {
        if (this.swapAccounting) w('memory', 'memory.memsw.limit_in_bytes', limits.memoryLimit);
        else w('memory', 'memory.swappiness', 0);
      }
    }
    if (limits.pidsLimit !== undefined) w('pids', 'pids.max', limits.pidsLimit);
    if (limits.devices) {
      w('devices', 'devices.deny', 'a');
      for (const rule of limits.devices) w('devices', 'devices.allow', rule);
    }
    return out;
  }

  stats(leaf?: string): CgroupStats | undefined {
    const mem = this.layout.mounts.memory ? this.dir('memory', leaf) : undefined;
    if (!mem || !fs.existsSync(mem)) return undefined;
    const usage = readNumber(path.join(mem, 'memory.usage_in_bytes')) ?? 0;
    const stat = readKeyed(path.join(mem, 'memory.stat'));
    const inactive = stat.get('total_inactive_file') ?? 0;
    const limit = readNumber(path.join(mem, 'memory.limit_in_bytes'));
    const oom = readKeyed(path.join(mem, 'memory.oom_control'));
    return {
      cpuUsageNs: this.layout.mounts.cpuacct ? (readNumber(path.join(this.dir('cpuacct', leaf), 'cpuacct.usage')) ?? 0) : 0,
      memoryUsage: usage,
      memoryWorkingSet: Math.max(0, usage - inactive),
      memoryLimit: limit !== undefined && limit < V1_UNLIMITED ? limit : undefined,
      pids: this.layout.mounts.pids ? (readNumber(path.join(this.dir('pids', leaf), 'pids.current')) ?? 0) : 0,
      // oom_kill is in memory.oom_control since Linux 4.13; older kernels only say under_oom.
      oomKills: oom.get('oom_kill') ?? oom.get('under_oom') ?? 0,
      memoryRss: stat.get('total_rss'),
      pageFaults: stat.get('total_pgfault'),
      majorPageFaults: stat.get('total_pgmajfault'),
    };
  }

  /**
   * Freeze the pod cgroup (freezing a v1 cgroup freezes its descendants), SIGKILL every pid in it, thaw: a
   * frozen process cannot fork, so nothing escapes between reading cgroup.procs and the kill (runc's signalAllProcesses).
   */
  async killAll(timeoutMs = 5000): Promise<void> {
    // Nothing left (the usual case after the containers were stopped): no freeze and thaw round trip.
    if (this.pids().length === 0) return;
    const freezer = this.layout.mounts.freezer ? this.dir('freezer') : undefined;
    const frozen = freezer !== undefined && fs.existsSync(freezer) && (await this.freeze(freezer, Math.min(1000, timeoutMs)));
    try {
      for (const pid of this.pids()) this.signal(pid);
    } finally {
      if (frozen) this.write(freezer, 'freezer.state', 'THAWED');
    }
    await this.waitEmpty(timeoutMs, 'cgroup.kill');
  }

  private async freeze(dir: string, timeoutMs: number): Promise<boolean> {
    try {
      this.write(dir, 'freezer.state', 'FROZEN');
    } catch {
      return false;
    }
    const deadline = Date.now() + timeoutMs;
    // FREEZING until every task has stopped; a task in an uninterruptible sleep can keep it there a while.
    while (readText(path.join(dir, 'freezer.state'))?.trim() === 'FREEZING' && Date.now() < deadline) await this.sleep(5);
    return true;
  }
}
