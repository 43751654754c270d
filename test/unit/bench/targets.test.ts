import { describe, expect, it } from 'vitest';
import { describeTarget, meets, TARGETS } from '../../../src/bench/targets.js';

describe('meets', () => {
  it('compares a median in ms with an absolute target, inclusive', () => {
    expect(meets(TARGETS.exec, 45, 30)).toBe(true);
    expect(meets(TARGETS.exec, 45.1, 30)).toBe(false);
  });
  it('compares a median with a multiple of node -e 0 for the everyday commands', () => {
    expect(meets(TARGETS.everyday, 39, 30)).toBe(true);
    expect(meets(TARGETS.everyday, 39.1, 30)).toBe(false);
  });
  it('has no verdict without a figure', () => {
    expect(meets(TARGETS.exec, Number.NaN, 30)).toBeUndefined();
    expect(meets(TARGETS.everyday, 40, Number.NaN)).toBeUndefined();
  });
});

describe('describeTarget', () => {
  it('says the bound and its unit', () => {
    expect(describeTarget(TARGETS.runToRunning)).toBe('≤ 100 ms');
    expect(describeTarget(TARGETS.everyday)).toBe('≤ 1.3x node');
  });
});
