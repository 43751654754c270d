import { describe, expect, it } from 'vitest';
import type { ContainerSpec, PodSpec } from '../../../src/manifest/types.js';
import { memoryEmptyDirSize } from '../../../src/kubelet/volumes.js';

const c = (memory?: number): ContainerSpec => ({ name: 'c', image: 'i', env: [], ports: [], volumeMounts: [], ...(memory ? { resources: { limits: { memory }, requests: { memory } } } : {}) });
const spec = (containers: ContainerSpec[], extra: Partial<PodSpec> = {}) => ({ containers, ...extra }) as PodSpec;

describe('Memory emptyDir size (kubelet calculateEmptyDirMemorySize)', () => {
  it('is the sizeLimit, bounded by the pod memory limit, or that limit alone', () => {
    expect(memoryEmptyDirSize(spec([c()]), '8Mi')).toBe(8 << 20);
    expect(memoryEmptyDirSize(spec([c(4 << 20)]), '8Mi')).toBe(4 << 20);
    expect(memoryEmptyDirSize(spec([c(4 << 20), c(2 << 20)]), undefined)).toBe(6 << 20);
    expect(memoryEmptyDirSize(spec([c(4 << 20), c()]), undefined)).toBeUndefined();
    expect(memoryEmptyDirSize(spec([c()], { resources: { limits: { memory: 3 << 20 }, requests: {} } }), '8Mi')).toBe(3 << 20);
  });
});
