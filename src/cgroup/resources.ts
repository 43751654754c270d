/**
 * Kubernetes' mapping of a Pod's resources to cgroup limits, pure. The constants and formulas are kubelet's
 * (pkg/kubelet/cm/helpers_linux.go: MilliCPUToShares, MilliCPUToQuota, ResourceConfigForPod) and the runtime's
 * (runc/crun: shares → cpu.weight, the device allow list).
 */
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import { aggregateOverContainers, podMemoryLimit } from '../manifest/pod-resources.js';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const SHARES_PER_CPU = 1024;
export const QUOTA_PERIOD = 100000;
export const MIN_QUOTA_PERIOD = 1000;
/**
 * pids.max of a pod cgroup. kubelet's podPidsLimit defaults to -1 (no limit beyond the node's); podns sets one
 * by default so that a fork bomb in one pod cannot exhaust the host's pids (PODNS_POD_PIDS_LIMIT,
 * `run --pod-pids-limit`; 0 or -1 for none).
 */
export const DEFAULT_POD_PIDS_LIMIT = 4096;

/** A device cgroup rule as devices.allow takes it: `c 1:3 rwm`, `c *:* m`. */
export type DeviceRule = string;

/**
 * runc's default allowed devices (libcontainer/specconv AllowedDevices, as containerd's CRI gives every
 * non-privileged container): mknod of any char/block device, and read/write/mknod of null, zero, full, random,
 * urandom, tty, console, ptmx, the pts devices and /dev/net/tun.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 136:* rwm',
  'c 10:200 rwm',
];

/** What a cgroup gets, independent of the cgroup version. */
export interface CgroupLimits {
  /** cpu.shares (v1); converted to cpu.weight on v2. */
  cpuShares?: number;
  /** CFS quota in µs per `cpuPeriod`; undefined: no CPU limit. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** Bytes; undefined: no memory limit. */
  memoryLimit?: number;
  /** No swap for this cgroup: a limited container may not escape its limit into swap (kubelet's NoSwap). */
  noSwap?: boolean;
  pidsLimit?: number;
  /** Present: deny every device but these (non-privileged containers and the pause). */
  devices?: readonly DeviceRule[];
}

/** Cores → kubelet's milli-CPU (a Quantity's MilliValue rounds up). */
export function milliCpu(cores: number | undefined): number {
  if (!cores) return 0;
  return Math.ceil(Math.round(cores * 1e6) / 1000);
}

/** kubelet MilliCPUToShares: 0 → 2, else max(2, milli*1024/1000), at most 262144. */
export function milliCpuToShares(milli: number): number {
  if (milli === 0) return MIN_SHARES;
  const shares = Math.floor((milli * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** kubelet MilliCPUToQuota: 0 → no limit, else max(1000, milli*period/1000) µs. */
export function milliCpuToQuota(milli: number, period = QUOTA_PERIOD): number | undefined {
  if (milli === 0) return undefined;
  return Math.max(MIN_QUOTA_PERIOD, Math.floor((milli * period) / 1000));
}

/**
 * cpu.shares → cpu.weight by the NEW conversion (opencontainers/cgroups utils.go ConvertCPUSharesToCgroupV2Value,
 * runc ≥ 1.4, crun ≥ 1.23 convert_shares_to_weight): a quadratic fit in log2(shares) through (2, 1), (1024, 100)
 * and (262144, 10000), so that the v1 default 1024 maps to the v2 default 100. The old linear formula
 * (1 + (shares-2)*9999/262142) gave 1024 → 39 (kubernetes#131216, runc#4772).
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= MAX_SHARES) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(10 ** exponent);
}

/** The limits of one container's cgroup, as kubelet asks the runtime for them. */
export function containerLimits(container: ContainerSpec, privileged: boolean): CgroupLimits {
  const { limits = {}, requests = {} } = container.resources ?? {};
  const limits_: CgroupLimits = { cpuShares: milliCpuToShares(milliCpu(requests.cpu)) };
  const quota = milliCpuToQuota(milliCpu(limits.cpu));
  if (quota !== undefined) Object.assign(limits_, { cpuQuota: quota, cpuPeriod: QUOTA_PERIOD });
  if (limits.memory !== undefined) Object.assign(limits_, { memoryLimit: Math.floor(limits.memory), noSwap: true });
  if (!privileged) limits_.devices = DEFAULT_DEVICE_RULES;
  return limits_;
}

/** The pause's cgroup: minimal shares (containerd's WithDefaultSandboxShares) and the default devices. */
export function sandboxLimits(): CgroupLimits {
  return { cpuShares: MIN_SHARES, devices: DEFAULT_DEVICE_RULES };
}

/**
 * The pod cgroup, as kubelet's ResourceConfigForPod sets it: shares from the aggregate CPU request; a CPU quota
 * and a memory limit only when every container has that limit (their aggregate); the pod's pids limit. Pod-level
 * resources (spec.resources, KEP-2837) take the place of the aggregate for what they set.
 */
export function podLimits(pod: Pick<PodSpec, 'containers' | 'initContainers' | 'resources'>, pidsLimit: number | undefined): CgroupLimits {
  const all = [...(pod.initContainers ?? []), ...pod.containers];
  const podLevel = pod.resources;
  const requestMilli = podLevel?.requests.cpu !== undefined ? milliCpu(podLevel.requests.cpu) : aggregateOverContainers(pod, (c) => milliCpu(c.resources?.requests.cpu));
  const out: CgroupLimits = { cpuShares: milliCpuToShares(requestMilli) };
  const limitMilli =
    podLevel?.limits.cpu !== undefined
      ? milliCpu(podLevel.limits.cpu)
      : all.every((c) => c.resources?.limits.cpu !== undefined)
        ? aggregateOverContainers(pod, (c) => milliCpu(c.resources?.limits.cpu))
        : undefined;
  const quota = limitMilli === undefined ? undefined : milliCpuToQuota(limitMilli);
  if (quota !== undefined) Object.assign(out, { cpuQuota: quota, cpuPeriod: QUOTA_PERIOD });
  const memory = podMemoryLimit(pod);
  if (memory !== undefined) Object.assign(out, { memoryLimit: memory, noSwap: true });
  if (pidsLimit !== undefined && pidsLimit > 0) out.pidsLimit = pidsLimit;
  return out;
}
