import { describe, expect, it } from 'vitest';
import { backOffScale, CrashLoopBackOff, shouldRestart } from '../../../src/shim/restart-policy.js';
import { formatDelay } from '../../../src/shim/pod-supervisor.js';

describe('restart policy', () => {
  it('Always restarts every exit, OnFailure only a failure, Never none', () => {
    expect([0, 1].map((c) => shouldRestart('Always', c))).toEqual([true, true]);
    expect([0, 1].map((c) => shouldRestart('OnFailure', c))).toEqual([false, true]);
    expect([0, 1].map((c) => shouldRestart('Never', c))).toEqual([false, false]);
  });

  it("back-off is kubelet's: 10 s doubling to a 300 s cap", () => {
    const b = new CrashLoopBackOff();
    expect(Array.from({ length: 8 }, () => b.next(1000))).toEqual([10, 20, 40, 80, 160, 300, 300, 300].map((s) => s * 1000));
  });

  it('back-off starts again at 10 s after a run of 10 minutes', () => {
    const b = new CrashLoopBackOff();
    for (let i = 0; i < 4; i++) b.next(1000);
    expect(b.next(600_000)).toBe(10_000);
    expect(b.next(599_999)).toBe(20_000);
  });

  it('the test-only scale shrinks every time, the reset too; anything but 0 < s <= 1 means 1', () => {
    const b = new CrashLoopBackOff(0.01);
    expect([b.next(0), b.next(0), b.next(6000)]).toEqual([100, 200, 100]);
    expect(backOffScale({ PODNS_BACKOFF_SCALE: '0.01' })).toBe(0.01);
    for (const v of [undefined, '', '0', '-1', '2', 'x']) expect(backOffScale({ PODNS_BACKOFF_SCALE: v })).toBe(1);
  });

  it('prints delays as kubelet does', () => {
    expect([10_000, 80_000, 300_000, 100].map(formatDelay)).toEqual(['10s', '1m20s', '5m0s', '0.1s']);
  });
});
