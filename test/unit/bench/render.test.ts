import { describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/bench/report.js';
import { renderReport } from '../../../src/bench/render.js';
import { rawResults, scaleRaw } from './report-fixtures.js';

const line = (text: string, start: string) => text.split('\n').find((l) => l.startsWith(start)) ?? '';

describe('renderReport', () => {
  const text = renderReport(buildReport(rawResults()));

  it('says the network mode and the process model in its first line', () => {
    expect(text.split('\n')[0]).toMatch(/network mode: bridge \(podns's default\), podns in network namespace podns-bench-1 · process model found: per-pod shims/);
    const none = renderReport(buildReport(rawResults({ meta: { ...rawResults().meta, network: 'none' } })));
    expect(none.split('\n')[0]).toMatch(/network mode: none, /);
  });
  it('prints each timing with median, min–max, both ratios, its target and verdict, and the quoted podman figure', () => {
    expect(line(text, 'podns run → all containers running').split(/\s{2,}/)).toEqual(['podns run → all containers running', '200', '100–300', '40.0x', '6.67x', '≤ 100 ms', 'MISSED', '479']);
    expect(line(text, 'podns exec -- true').split(/\s{2,}/)).toEqual(['podns exec -- true', '40.0', '40.0–40.0', '8.00x', '1.33x', '≤ 45 ms', 'met', '166']);
    expect(line(text, 'podns ps (1 pod)').split(/\s{2,}/)).toEqual(['podns ps (1 pod)', '36.0', '36.0–36.0', '7.20x', '1.20x', '≤ 1.3x node', 'met', '41']);
    expect(line(text, 'podns ps (100 pods')).toMatch(/≤ 150 ms\s+MISSED/);
    expect(text).toMatch(/\* podman: issue 12 \(quoted, not measured by this bench\)/);
  });
  it('prints the memory table with per-pod figures, the idle supervisor line and the quoted anchors', () => {
    expect(text).toMatch(/memory of supervision .* model: per-pod shims/);
    const hundred = text.split('\n').find((l) => /^\s*100\s+scale, after 100 runs/.test(l))!;
    expect(hundred).toMatch(/100 shims \+ 100 pauses/);
    expect(hundred).toMatch(/20\.50\s+20\.00–21\.00\s+MISSED$/);
    expect(text).toMatch(/supervisor with no pod: none runs \(per-pod shims/);
    expect(text).toMatch(/quoted anchors, issue 12 \(quoted, not measured by this bench\): podman 1\.1 MB per pod at fifty pods/);
  });
  it('prints the scale results, the 15 s target only for 100 pods', () => {
    expect(text).toMatch(/100\/100 started by sequential podns run in 24\.9 s \(target ≤ 15 s: MISSED\)/);
    expect(text).toMatch(/3\/3 concurrent podns run succeeded in 800 ms wall/);
    expect(text).toMatch(/pod addresses: 3 pods running, 2 distinct addresses; SHARED: 10\.89\.0\.3: b, c/);
    expect(text).toMatch(/podns rm -f of 103 pods in one command: 10300 ms \(100 ms per pod\)/);
    expect(text).toMatch(/left behind when rm -f returned: nothing/);
    const ten = renderReport(buildReport(rawResults({ scale: scaleRaw(10) })));
    expect(ten).toMatch(/10\/10 started by sequential podns run in 2\.0 s \(the ≤ 15 s target is for 100 pods\)/);
  });
  it('lists leftovers, failures and clean-up problems', () => {
    const scale = { ...scaleRaw(1), leftovers: { atReturn: ['veth pn1 in ns'], after2s: [] } };
    const t = renderReport(buildReport(rawResults({ scale, failures: ['seed: boom'], cleanupProblems: ['mount /x left: unmounted'] })));
    expect(t).toMatch(/left behind when rm -f returned: 1: veth pn1 in ns\n {2}2 s later: nothing/);
    expect(t).toMatch(/^FAILED: seed: boom$/m);
    expect(t).toMatch(/^clean-up: mount \/x left: unmounted$/m);
  });
});
