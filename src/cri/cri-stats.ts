/**
 * The CRI's stats (ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats), from the cgroups
 * as containerd reads them: CPU time used and, between two calls, the rate (usage_nano_cores: containerd keeps
 * the previous sample per container for it); memory usage, working set (usage minus inactive file), rss, page
 * faults and what is left below the limit; the writable layer's bytes and inodes; for a sandbox also its
 * processes and the pod's interfaces from /proc/<pause>/net/dev (read in the pod's network namespace).
 */
import type { CgroupStats } from '../cgroup/driver.js';
import { diskUsage } from '../sys/disk-usage.js';
import type { ContainerRecord, SandboxRecord } from '../runtime/records.js';

type U64 = { value: string } | null;
const u64 = (n: number | undefined): U64 => (n === undefined ? null : { value: String(Math.max(0, Math.floor(n))) });
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** eth0 and the rest of the pod's interfaces from a /proc/<pid>/net/dev text (lo left out, as cAdvisor does). */
export function parseNetDev(text: string): { name: string; rx_bytes: U64; rx_errors: U64; tx_bytes: U64; tx_errors: U64 }[] {
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, rest] = line.split(':');
      const f = rest!.trim().split(/\s+/).map(Number);
      return { name: name!.trim(), rx_bytes: u64(f[0]), rx_errors: u64(f[2]), tx_bytes: u64(f[8]), tx_errors: u64(f[10]) };
    })
    .filter((i) => i.name !== 'lo');
}

export class CriStats {
  /** The last CPU sample per container or sandbox id, for usage_nano_cores. */
  private readonly lastCpu = new Map<string, { at: bigint; usage: number }>();

  private cpu(key: string, stats: CgroupStats | undefined, at: bigint) {
    if (!stats) return null;
    const previous = this.lastCpu.get(key);
    this.lastCpu.set(key, { at, usage: stats.cpuUsageNs });
    const rate = previous && at > previous.at ? Math.max(0, ((stats.cpuUsageNs - previous.usage) * 1e9) / Number(at - previous.at)) : undefined;
    return { timestamp: at.toString(), usage_core_nano_seconds: u64(stats.cpuUsageNs), usage_nano_cores: u64(rate) };
  }

  private memory(stats: CgroupStats | undefined, at: bigint) {
    if (!stats) return null;
    return {
      timestamp: at.toString(),
      working_set_bytes: u64(stats.memoryWorkingSet),
      available_bytes: stats.memoryLimit !== undefined ? u64(stats.memoryLimit - stats.memoryWorkingSet) : null,
      usage_bytes: u64(stats.memoryUsage),
      rss_bytes: u64(stats.memoryRss),
      page_faults: u64(stats.pageFaults),
      major_page_faults: u64(stats.majorPageFaults),
    };
  }

  container(record: ContainerRecord, stats: CgroupStats | undefined) {
    const at = nowNs();
    const layer = diskUsage(record.dirs.upper);
    return {
      attributes: { id: record.id, metadata: { name: record.config.name, attempt: record.config.attempt }, labels: record.config.labels ?? {}, annotations: record.config.annotations ?? {} },
      cpu: this.cpu(record.id, stats, at),
      memory: this.memory(stats, at),
      writable_layer: { timestamp: at.toString(), fs_id: { mountpoint: record.dirs.upper }, used_bytes: u64(layer.bytes), inodes_used: u64(layer.inodes) },
    };
  }

  sandbox(record: SandboxRecord, stats: CgroupStats | undefined, containers: object[]) {
    const at = nowNs();
    let interfaces: ReturnType<typeof parseNetDev> = [];
    if (record.pause && record.config.namespaces.network !== 'node') {
      try {
        interfaces = parseNetDev(process.getBuiltinModule('node:fs').readFileSync(`/proc/${record.pause.pid}/net/dev`, 'utf8'));
      } catch {
        // the pause is gone: no figures
      }
    }
    const { config } = record;
    return {
      attributes: { id: record.id, metadata: config.metadata, labels: config.labels, annotations: config.annotations },
      linux: {
        cpu: this.cpu(record.id, stats, at),
        memory: this.memory(stats, at),
        network: interfaces.length ? { timestamp: at.toString(), default_interface: interfaces.find((i) => i.name === 'eth0') ?? interfaces[0], interfaces } : null,
        process: stats ? { timestamp: at.toString(), process_count: u64(stats.pids) } : null,
        containers,
      },
    };
  }

  /** Forgets the samples of ids that are gone. */
  prune(live: Set<string>): void {
    for (const id of this.lastCpu.keys()) if (!live.has(id)) this.lastCpu.delete(id);
  }
}
