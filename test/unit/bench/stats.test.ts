import { describe, expect, it } from 'vitest';
import { median, ratio, series, summarize } from '../../../src/bench/stats.js';

describe('median', () => {
  it('is the middle value of an odd sample, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });
  it('is the mean of the two middle values of an even sample', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('sorts numerically, not as strings', () => {
    expect(median([10, 9, 100])).toBe(10);
  });
  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('is NaN for an empty sample', () => {
    expect(median([])).toBeNaN();
  });
});

describe('summarize', () => {
  it('gives n, median, min and max', () => {
    expect(summarize([2, 9, 4])).toEqual({ n: 3, median: 4, min: 2, max: 9 });
  });
  it('is NaN throughout for an empty sample', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect([s.median, s.min, s.max].every(Number.isNaN)).toBe(true);
  });
});

describe('ratio', () => {
  it('divides', () => expect(ratio(30, 6)).toBe(5));
  it('is NaN against a zero, negative or NaN base', () => {
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(1, -1)).toBeNaN();
    expect(ratio(1, Number.NaN)).toBeNaN();
  });
});

describe('series', () => {
  it('carries the samples with their summary, as a copy', () => {
    const xs = [3, 1, 2];
    const s = series(xs);
    expect(s).toEqual({ n: 3, median: 2, min: 1, max: 3, samples: [3, 1, 2] });
    xs.push(9);
    expect(s.samples).toEqual([3, 1, 2]);
  });
});
