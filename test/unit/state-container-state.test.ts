import { describe, expect, it } from 'vitest';
import { containerStatus } from '../../src/cli/commands/ps.js';
import { kubeContainerState, type ContainerState } from '../../src/state/pod-state.js';

const c = (over: Partial<ContainerState>): ContainerState => ({ name: 'c', image: 'i', imageId: 'x', status: 'running', restartCount: 0, logPath: '', upperDir: '', spec: {} as ContainerState['spec'], ...over });

describe("a container's state in kubelet's words", () => {
  it('is Waiting (ContainerCreating) while its postStart runs, though its process runs; Running after', () => {
    const hooked = c({ waiting: { reason: 'ContainerCreating', message: 'postStart hook running' }, startedAt: 't' });
    expect(kubeContainerState(hooked)).toEqual({ waiting: { reason: 'ContainerCreating', message: 'postStart hook running' } });
    expect(containerStatus(hooked)).toBe('ContainerCreating');
    expect(kubeContainerState(c({ startedAt: 't' }))).toEqual({ running: { startedAt: 't' } });
  });

  it('an exited container waiting for its restart is CrashLoopBackOff, a finished one Terminated', () => {
    expect(containerStatus(c({ status: 'exited', exitCode: 1, reason: 'Error', waiting: { reason: 'CrashLoopBackOff' } }))).toBe('CrashLoopBackOff');
    expect(kubeContainerState(c({ status: 'exited', exitCode: 0, reason: 'Completed' }))).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } });
  });
});
