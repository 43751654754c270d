import { describe, expect, it } from 'vitest';
import { computeConditions, computePhase, type PodStatusInput } from '../../../src/kubelet/pod-status.js';
import type { ContainerState } from '../../../src/state/pod-state.js';

const ctr = (name: string, over: Partial<ContainerState>): ContainerState =>
  ({ name, image: 'i', imageId: 'x', status: 'running', restartCount: 0, logPath: '', upperDir: '', spec: {} as ContainerState['spec'], ...over }) as ContainerState;
const input = (containers: ContainerState[], over: Partial<PodStatusInput> = {}): PodStatusInput => ({
  initialized: true,
  initFailed: false,
  containers,
  restarting: () => false,
  ...over,
});

describe('pod phase and conditions', () => {
  it('Running while any container runs or waits for a restart', () => {
    expect(computePhase(input([ctr('a', {}), ctr('b', { status: 'exited', exitCode: 1 })]))).toBe('Running');
    expect(computePhase(input([ctr('a', { status: 'exited', exitCode: 1 })], { restarting: () => true }))).toBe('Running');
  });

  it('Succeeded when every container exited 0 for good, else Failed', () => {
    expect(computePhase(input([ctr('a', { status: 'exited', exitCode: 0 })]))).toBe('Succeeded');
    expect(computePhase(input([ctr('a', { status: 'exited', exitCode: 0 }), ctr('b', { status: 'exited', exitCode: 137 })]))).toBe('Failed');
  });

  it('Pending before initialization, Failed when an init container failed for good', () => {
    expect(computePhase(input([ctr('a', { status: 'created' })], { initialized: false }))).toBe('Pending');
    expect(computePhase(input([ctr('a', { status: 'created' })], { initialized: false, initFailed: true }))).toBe('Failed');
  });

  it('Ready and ContainersReady need every container running (and ready by its probe)', () => {
    const all = computeConditions(input([ctr('a', {}), ctr('b', {})]));
    expect(all).toEqual([
      { type: 'Initialized', status: 'True' },
      { type: 'ContainersReady', status: 'True' },
      { type: 'Ready', status: 'True' },
    ]);
    const one = computeConditions(input([ctr('a', {}), ctr('b', { status: 'exited', exitCode: 1 })]));
    expect(one[2]).toEqual({ type: 'Ready', status: 'False', reason: 'ContainersNotReady: b' });
    const probe = computeConditions(input([ctr('a', {})], { ready: () => false }));
    expect(probe[1]!.status).toBe('False');
    expect(computeConditions(input([], { initialized: false }))[0]).toEqual({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' });
  });
});
