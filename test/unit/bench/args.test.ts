import { describe, expect, it } from 'vitest';
import { parseBenchArgs, PARTS } from '../../../src/bench/args.js';

describe('parseBenchArgs', () => {
  it('defaults to every part, bridge networking, 100 sequential and 20 concurrent pods, 15 runs, the tables', () => {
    expect(parseBenchArgs([])).toEqual({
      runs: 15,
      warmup: 2,
      network: 'bridge',
      pods: 100,
      concurrent: 20,
      parts: ['seed', 'scale', 'pull', 'network', 'cri'],
      json: false,
      keep: false,
      help: false,
    });
  });
  it('reads --runs N, --runs=N, --warmup, --json, --keep', () => {
    expect(parseBenchArgs(['--runs', '10', '--json'])).toMatchObject({ runs: 10, json: true });
    expect(parseBenchArgs(['--runs=3', '--warmup=0', '--keep'])).toMatchObject({ runs: 3, warmup: 0, keep: true });
  });
  it('takes --network none, and refuses any other mode', () => {
    expect(parseBenchArgs(['--network', 'none']).network).toBe('none');
    expect(parseBenchArgs(['--network=bridge']).network).toBe('bridge');
    expect(() => parseBenchArgs(['--network', 'cni'])).toThrow(/--network is bridge or none, got "cni"/);
    expect(() => parseBenchArgs(['--network'])).toThrow(/got nothing/);
  });
  it('selects parts with --only and --skip, keeping the order they run in', () => {
    expect(parseBenchArgs(['--only', 'scale,seed']).parts).toEqual(['seed', 'scale']);
    expect(parseBenchArgs(['--skip=pull,network,cri']).parts).toEqual(['seed', 'scale']);
    expect(parseBenchArgs(['--only', 'seed,pull', '--skip', 'pull']).parts).toEqual(['seed']);
    expect(() => parseBenchArgs(['--only', 'seed,memory'])).toThrow(/unknown part "memory" \(parts: seed, scale, pull, network, cri\)/);
    expect(() => parseBenchArgs(['--only', ''])).toThrow(/comma-separated list/);
    expect(() => parseBenchArgs(['--skip', PARTS.join(',')])).toThrow(/leave no part to run/);
  });
  it('--quick skips the 100-pod figures and shortens the runs, but explicit counts win in either order', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({ runs: 5, warmup: 1, pods: 10, concurrent: 20 });
    expect(parseBenchArgs(['--pods', '30', '--quick', '--runs', '7'])).toMatchObject({ runs: 7, warmup: 1, pods: 30 });
  });
  it('reads --pods and --concurrent', () => {
    expect(parseBenchArgs(['--pods', '50', '--concurrent=4'])).toMatchObject({ pods: 50, concurrent: 4 });
    expect(() => parseBenchArgs(['--pods', '0'])).toThrow(/--pods needs an integer >= 1, got "0"/);
    expect(() => parseBenchArgs(['--concurrent', 'x'])).toThrow(/--concurrent/);
  });
  it('refuses a bad count and unknown flags', () => {
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/--runs needs an integer >= 1, got "0"/);
    expect(() => parseBenchArgs(['--runs'])).toThrow(/got nothing/);
    expect(() => parseBenchArgs(['--runs', '1.5'])).toThrow(/--runs/);
    expect(() => parseBenchArgs(['--warmup', '-1'])).toThrow(/--warmup/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
  });
});
