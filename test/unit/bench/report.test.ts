import { describe, expect, it } from 'vitest';
import { addressCheck, buildReport, chooseBaseline, describeCounts, memoryRow } from '../../../src/bench/report.js';
import { memoryPoints } from '../../../src/bench/scale-part.js';
import { rawResults, sample, scaleRaw } from './report-fixtures.js';

describe('buildReport', () => {
  it('gives every timing its median, min–max, samples and ratios to the floor and node -e 0 of the same run', () => {
    const r = buildReport(rawResults());
    // floor samples 4, 6 (x3): median 5; node 30.
    expect(r.timings.runToRunning).toMatchObject({ n: 3, median: 200, min: 100, max: 300, samples: [200, 100, 300], ratioToFloor: 40, ratioToNode: 200 / 30 });
    expect(r.timings.floor).toMatchObject({ median: 5, ratioToFloor: 1 });
    expect(r.timings.runToHttp?.median).toBe(210);
  });
  it('judges each target on the median: absolute for run, exec, rm -f and ps at 100 pods; 1.3x node for the everyday commands', () => {
    const t = buildReport(rawResults()).timings;
    expect(t.runToRunning).toMatchObject({ target: { kind: 'ms', value: 100 }, met: false });
    expect(t.exec).toMatchObject({ target: { kind: 'ms', value: 45 }, met: true });
    expect(t.ps).toMatchObject({ target: { kind: 'ratioToNode', value: 1.3 }, met: true }); // 36 ≤ 39
    expect(t.logs).toMatchObject({ met: false }); // 40 > 39
    expect(t.psAtScale).toMatchObject({ median: 410, target: { kind: 'ms', value: 150 }, met: false });
    expect(t.floor?.target).toBeUndefined();
    expect(t.floor?.met).toBeUndefined();
  });
  it('states ps at scale without a target when it ran with fewer than 100 pods', () => {
    const t = buildReport(rawResults({ scale: scaleRaw(10) })).timings;
    expect(t.psAtScale?.label).toBe('podns ps (10 pods; 10 listed)');
    expect(t.psAtScale?.target).toBeUndefined();
  });
  it('prints the network mode and the process model found', () => {
    const r = buildReport(rawResults());
    expect(r.meta).toMatchObject({ network: 'bridge', processModel: 'per-pod shims' });
    expect(buildReport(rawResults({ meta: { ...rawResults().meta, network: 'none' } })).meta.network).toBe('none');
  });
  it('gives memory per pod as growth over the no-pod baseline, per read, at 1, 10 and 100 pods', () => {
    const mem = buildReport(rawResults()).memory!;
    const at = (n: number, source: RegExp) => mem.rows.find((r) => r.pods === n && source.test(r.source))!;
    expect(at(1, /seed/).perPodPssMb).toMatchObject({ median: 30, n: 3 });
    expect(at(10, /scale/).perPodPssMb).toMatchObject({ min: 20, max: 21 });
    expect(at(100, /scale/)).toMatchObject({ processes: { supervisors: 0, shims: 100, otherNode: 0, pauses: 100 }, met: false });
    expect(mem.baseline).toEqual({ pssMb: 0, source: 'none: nothing supervises while no pod runs' });
    expect(mem.supervisorIdleRssMb).toBeUndefined();
    expect(mem.quoted).toMatch(/quoted, not measured.*podman 1\.1 MB per pod at fifty pods.*containerd 5\.3 MB per pod/);
  });
  it('takes a supervisor with no pod as the baseline and reports its RSS against the 70 MB target', () => {
    const idle = sample({ supervisors: 1, rssKb: 50 * 1024, pssKb: 40 * 1024, supervisorRssKb: 50 * 1024 });
    const scale = { ...scaleRaw(10), idleBefore: [idle, idle, idle], idleAfter: [idle] };
    scale.points = [{ pods: 10, reads: [sample({ supervisors: 1, pauses: 10, rssKb: 60 * 1024, pssKb: 44 * 1024 })] }];
    const mem = buildReport(rawResults({ seed: undefined, scale })).memory!;
    expect(mem.model).toBe('supervisor');
    expect(mem.baseline.pssMb).toBe(40);
    expect(mem.supervisorIdleRssMb?.median).toBe(50);
    expect(mem.rows.find((r) => r.pods === 10)).toMatchObject({ perPodPssMb: { median: 0.4 }, met: true });
  });
  it('reports the scale part: total of the sequential runs against 15 s, concurrency, addresses, removal, leftovers', () => {
    const s = buildReport(rawResults()).scale!;
    // 200 + 201 + ... + 299 ms = 24.95 s
    expect(s.sequential).toMatchObject({ started: 100, totalS: 24.95, targetS: 15, met: false, firstTenMs: { median: 204.5 }, lastTenMs: { median: 294.5 } });
    expect(s.concurrent).toMatchObject({ requested: 3, succeeded: 3, wallMs: 800 });
    expect(s.addresses).toEqual({ checked: 3, distinct: 2, duplicates: ['10.89.0.3: b, c'], failures: [] });
    expect(s.removal).toEqual({ pods: 103, ms: 10300, perPodMs: 100 });
    expect(s.leftovers).toEqual({ atReturn: [] });
  });
  it('does not check addresses in network mode none', () => {
    const r = buildReport(rawResults({ meta: { ...rawResults().meta, network: 'none' } }));
    expect(r.scale?.addresses).toEqual({ skipped: 'network none: pods have loopback only' });
  });
  it('carries every part that ran, and leaves out those that did not', () => {
    const pull = { registry: '127.0.0.1:1', runs: 1, cold: { n: 1, median: 1, min: 1, max: 1, samples: [1] }, warm: { n: 1, median: 1, min: 1, max: 1, samples: [1] }, skopeoUmoci: { n: 1, median: 2, min: 2, max: 2, samples: [2] }, coldToSkopeoUmoci: 0.5, warmTargetMs: 100 };
    const r = buildReport(rawResults({ pull }));
    expect(Object.keys(r).sort()).toEqual(['cleanupProblems', 'failures', 'httpProbe', 'memory', 'meta', 'pull', 'quoted', 'scale', 'timings']);
    const json = JSON.parse(JSON.stringify(r));
    expect(json.pull.coldToSkopeoUmoci).toBe(0.5);
    const seedOnly = buildReport(rawResults({ scale: undefined }));
    expect(seedOnly.scale).toBeUndefined();
    expect(seedOnly.timings.psAtScale).toBeUndefined();
    const scaleOnly = buildReport(rawResults({ seed: undefined }));
    expect(scaleOnly.timings).toEqual({ psAtScale: expect.objectContaining({ median: 410 }) });
    expect(scaleOnly.httpProbe).toBeUndefined();
  });
});

describe('chooseBaseline', () => {
  const sup = sample({ supervisors: 1, rssKb: 1, pssKb: 1 });
  const none = sample({ rssKb: 0, pssKb: 0 });
  it('prefers a supervisor seen before the pods, then one seen after them, else nothing', () => {
    expect(chooseBaseline([sup], [sup]).source).toMatch(/before/);
    expect(chooseBaseline([none], [sup]).source).toMatch(/after/);
    expect(chooseBaseline([none], [none])).toEqual({ reads: [], source: 'none: nothing supervises while no pod runs' });
  });
});

describe('memoryRow', () => {
  it('pairs each read with its own baseline when given one per read', () => {
    const reads = [sample({ shims: 1, rssKb: 2048, pssKb: 3072 }), sample({ shims: 1, rssKb: 2048, pssKb: 4096 })];
    expect(memoryRow(1, 's', reads, [1024, 1024]).perPodPssMb).toEqual({ n: 2, median: 2.5, min: 2, max: 3 });
    expect(memoryRow(0, 's', reads, 0).perPodPssMb).toBeUndefined();
  });
});

describe('describeCounts', () => {
  it('names what supervises, or none', () => {
    expect(describeCounts({ supervisors: 0, shims: 3, otherNode: 0, pauses: 3 })).toBe('3 shims + 3 pauses');
    expect(describeCounts({ supervisors: 1, shims: 0, otherNode: 1, pauses: 1 })).toBe('1 supervisor + 1 other podns + 1 pause');
    expect(describeCounts({ supervisors: 0, shims: 0, otherNode: 0, pauses: 0 })).toBe('none');
  });
});

describe('addressCheck', () => {
  it('counts distinct addresses and names the pods sharing one', () => {
    expect(addressCheck({ a: '10.0.0.2', b: '10.0.0.3' }, [])).toEqual({ checked: 2, distinct: 2, duplicates: [], failures: [] });
    expect(addressCheck({ a: '10.0.0.2', b: '10.0.0.2', c: '10.0.0.2' }, ['d: none'])).toMatchObject({ distinct: 1, duplicates: ['10.0.0.2: a, b, c'], failures: ['d: none'] });
  });
});

describe('memoryPoints', () => {
  it('reads memory with 1, 10 and N pods, each once, never beyond N', () => {
    expect(memoryPoints(100)).toEqual([1, 10, 100]);
    expect(memoryPoints(10)).toEqual([1, 10]);
    expect(memoryPoints(5)).toEqual([1, 5]);
    expect(memoryPoints(1)).toEqual([1]);
  });
});
