import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../src/bench/args.js';

describe('parseBenchArgs', () => {
  it('defaults to 15 runs, 2 warm-ups, the table', () => {
    expect(parseBenchArgs([])).toEqual({ runs: 15, warmup: 2, json: false, keep: false, help: false });
  });
  it('reads --runs N, --runs=N, --warmup, --json, --keep', () => {
    expect(parseBenchArgs(['--runs', '10', '--json'])).toMatchObject({ runs: 10, json: true });
    expect(parseBenchArgs(['--runs=3', '--warmup=0', '--keep'])).toMatchObject({ runs: 3, warmup: 0, keep: true });
  });
  it('refuses a bad count and unknown flags', () => {
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/--runs needs an integer >= 1, got "0"/);
    expect(() => parseBenchArgs(['--runs'])).toThrow(/got nothing/);
    expect(() => parseBenchArgs(['--runs', '1.5'])).toThrow(/--runs/);
    expect(() => parseBenchArgs(['--warmup', '-1'])).toThrow(/--warmup/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
  });
});
