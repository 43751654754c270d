/** kubelet's mapping of Pod resources to cgroup limits, and the shares → cpu.weight conversion. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEVICE_RULES,
  containerLimits,
  milliCpu,
  milliCpuToQuota,
  milliCpuToShares,
  podLimits,
  sharesToWeight,
} from '../../../src/cgroup/resources.js';
import type { ContainerSpec } from '../../../src/manifest/types.js';

const container = (name: string, resources?: ContainerSpec['resources']): ContainerSpec => ({
  name,
  image: 'busybox',
  env: [],
  ports: [],
  volumeMounts: [],
  ...(resources ? { resources } : {}),
});

describe('kubelet formulas', () => {
  it('milli-CPU rounds up like Quantity.MilliValue', () => {
    expect([0.1, 0.25, 0.5, 1, 2, 0.0001].map(milliCpu)).toEqual([100, 250, 500, 1000, 2000, 1]);
  });

  it('MilliCPUToShares: max(2, milli*1024/1000)', () => {
    expect([0, 1, 100, 250, 500, 1000, 2000].map(milliCpuToShares)).toEqual([2, 2, 102, 256, 512, 1024, 2048]);
  });

  it('MilliCPUToQuota: milli*100000/1000, at least 1000 µs, none for 0', () => {
    expect([0, 5, 200, 500, 1000, 2000].map((m) => milliCpuToQuota(m))).toEqual([undefined, 1000, 20000, 50000, 100000, 200000]);
  });
});

describe('sharesToWeight: the NEW conversion (opencontainers/cgroups ConvertCPUSharesToCgroupV2Value)', () => {
  it('maps the requests of 100m, 250m, 500m, 1 and 2 CPUs to 17, 35, 59, 100, 174', () => {
    // runtime-defaults.md §3: the old linear formula gave 4, 10, 20, 39, 79.
    expect([102, 256, 512, 1024, 2048].map(sharesToWeight)).toEqual([17, 35, 59, 100, 174]);
  });

  it('keeps the end points: 0 → 0 (unset), ≤2 → 1, 128 → 21, ≥262144 → 10000', () => {
    expect([0, 1, 2, 128, 262144, 300000].map(sharesToWeight)).toEqual([0, 1, 1, 21, 10000, 10000]);
  });
});

describe('container and pod limits', () => {
  it('a container: shares from the request, quota from the limit, memory without swap, runc default devices', () => {
    const c = container('a', { limits: { cpu: 0.2, memory: 32 * 2 ** 20 }, requests: { cpu: 0.1, memory: 32 * 2 ** 20 } });
    expect(containerLimits(c, false)).toEqual({
      cpuShares: 102,
      cpuQuota: 20000,
      cpuPeriod: 100000,
      memoryLimit: 33554432,
      noSwap: true,
      devices: DEFAULT_DEVICE_RULES,
    });
  });

  it('a privileged container keeps every device; no resources means minimal shares only', () => {
    expect(containerLimits(container('a'), true)).toEqual({ cpuShares: 2 });
  });

  it('the pod sums requests, and limits only when every container has one (ResourceConfigForPod)', () => {
    const a = container('a', { limits: { cpu: 1, memory: 100 }, requests: { cpu: 0.5, memory: 100 } });
    const b = container('b', { limits: { cpu: 0.5 }, requests: { cpu: 0.25 } });
    expect(podLimits({ containers: [a, b] }, 4096)).toEqual({ cpuShares: 768, cpuQuota: 150000, cpuPeriod: 100000, pidsLimit: 4096 });
    expect(podLimits({ containers: [a] }, 0)).toEqual({ cpuShares: 512, cpuQuota: 100000, cpuPeriod: 100000, memoryLimit: 100, noSwap: true });
    expect(podLimits({ containers: [container('c')] }, undefined)).toEqual({ cpuShares: 2 });
  });

  it('init containers count at their peak, sidecars all the time (KEP-753), as resource.PodRequests sums them', () => {
    const app = container('app', { limits: { cpu: 1, memory: 100 }, requests: { cpu: 1, memory: 100 } });
    const init = container('init', { limits: { cpu: 3, memory: 300 }, requests: { cpu: 3, memory: 300 } });
    const sidecar = { ...container('proxy', { limits: { cpu: 0.5, memory: 50 }, requests: { cpu: 0.5, memory: 50 } }), restartPolicy: 'Always' as const };
    // A plain init container runs alone: the pod needs max(3, 1) cores, not 4.
    expect(podLimits({ containers: [app], initContainers: [init] }, undefined)).toMatchObject({ cpuShares: 3072, cpuQuota: 300000, memoryLimit: 300 });
    // A sidecar before it runs beside it and beside the app: max(0.5 + 3, 0.5 + 1).
    expect(podLimits({ containers: [app], initContainers: [sidecar, init] }, undefined)).toMatchObject({ cpuShares: 3584, cpuQuota: 350000, memoryLimit: 350 });
    // After it, only beside the app: max(3, 1 + 0.5).
    expect(podLimits({ containers: [app], initContainers: [init, sidecar] }, undefined)).toMatchObject({ cpuShares: 3072, memoryLimit: 300 });
  });

  it('pod-level resources take the place of the aggregate for what they set', () => {
    const app = container('app', { limits: {}, requests: { cpu: 0.25 } });
    expect(podLimits({ containers: [app], resources: { limits: { cpu: 2, memory: 1 << 30 }, requests: { cpu: 1 } } }, undefined)).toEqual({
      cpuShares: 1024,
      cpuQuota: 200000,
      cpuPeriod: 100000,
      memoryLimit: 1 << 30,
      noSwap: true,
    });
    expect(podLimits({ containers: [app], resources: { limits: {}, requests: { memory: 1 << 20 } } }, undefined)).toEqual({ cpuShares: 256 });
  });
});
