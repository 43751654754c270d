import { describe, expect, it } from 'vitest';
import { backOffScale, CrashLoopBackOff, formatDelay, shouldRestart } from '../../../src/kubelet/restart-policy.js';

describe('restart policy', () => {
  it('Always restarts every exit, OnFailure only a failure, Never none', () => {
    expect([0, 1].map((c) => shouldRestart('Always', c))).toEqual([true, true]);
    expect([0, 1].map((c) => shouldRestart('OnFailure', c))).toEqual([false, true]);
    expect([0, 1].map((c) => shouldRestart('Never', c))).toEqual([false, false]);
  });

  /** A container under a simulated clock: each exit after a run of `ranMs`, restarted as soon as the back-off allows. */
  const crashLoop = (b: CrashLoopBackOff) => {
    let now = 1_000_000;
    return (ranMs: number) => {
      const finishedAt = (now += ranMs);
      const wait = b.remaining(finishedAt, now);
      b.next(finishedAt, (now += wait));
      return wait;
    };
  };

  it("the first exit restarts at once; later ones wait kubelet's 10 s, doubling to a 300 s cap", () => {
    const exit = crashLoop(new CrashLoopBackOff());
    expect(Array.from({ length: 9 }, () => exit(1000))).toEqual([0, 10, 20, 40, 80, 160, 300, 300, 300].map((s) => s * 1000));
  });

  it('the current window, which the CrashLoopBackOff message names, is 0 before the first restart', () => {
    const b = new CrashLoopBackOff();
    expect(b.current).toBe(0);
    b.next(0, 0);
    expect(b.current).toBe(10_000);
  });

  it('the wait counts from the exit: an exit seen late waits only for what is left of the window', () => {
    const b = new CrashLoopBackOff();
    b.next(0, 0);
    expect(b.remaining(5000, 5000)).toBe(10_000);
    expect(b.remaining(5000, 12_000)).toBe(3000);
    expect(b.remaining(5000, 20_000)).toBe(0);
  });

  it('a run of more than 10 minutes since the last restart expires the entry: at once again, then 10 s', () => {
    const exit = crashLoop(new CrashLoopBackOff());
    expect([1, 1, 1, 1].map((s) => exit(s * 1000))).toEqual([0, 10_000, 20_000, 40_000]);
    // Exactly 2 × 300 s after the restart is not expired yet (client-go's hasExpired is strict).
    expect(exit(600_000)).toBe(80_000);
    expect(exit(600_001)).toBe(0);
    expect(exit(1000)).toBe(10_000);
  });

  it('the test-only scale shrinks every time, the expiry too; anything but 0 < s <= 1 means 1', () => {
    const exit = crashLoop(new CrashLoopBackOff(0.01));
    expect([1, 1, 1, 1, 6001, 1].map(exit)).toEqual([0, 100, 200, 400, 0, 100]);
    expect(backOffScale({ PODNS_BACKOFF_SCALE: '0.01' })).toBe(0.01);
    for (const v of [undefined, '', '0', '-1', '2', 'x']) expect(backOffScale({ PODNS_BACKOFF_SCALE: v })).toBe(1);
  });

  it('prints delays as kubelet does', () => {
    expect([10_000, 80_000, 300_000, 100].map(formatDelay)).toEqual(['10s', '1m20s', '5m0s', '0.1s']);
  });
});
