/** Raw bench results made up for the report and render tests: what the parts would hand over. */
import type { RawResults } from '../../../src/bench/report.js';
import type { ScaleRaw } from '../../../src/bench/scale-part.js';
import type { SeedIteration } from '../../../src/bench/seed-part.js';
import type { SupervisionModel, SupervisionSample } from '../../../src/bench/supervision.js';

/** A look at supervision: `shims` shims (or one supervisor), `pauses` pauses, totals in kB. */
export function sample(opts: { supervisors?: number; shims?: number; pauses?: number; rssKb: number; pssKb: number; supervisorRssKb?: number }): SupervisionSample {
  const ids = (n = 0, from: number) => Array.from({ length: n }, (_, i) => from + i);
  const model: SupervisionModel = opts.supervisors ? 'supervisor' : opts.shims ? 'per-pod shims' : 'none running';
  return {
    scan: { model, supervisors: ids(opts.supervisors, 1), shims: ids(opts.shims, 100), otherNode: [], pauses: ids(opts.pauses, 1000) },
    memory: {
      rssKb: opts.rssKb,
      pssKb: opts.pssKb,
      vanished: 0,
      byKind: {
        supervisors: { n: opts.supervisors ?? 0, rssKb: opts.supervisorRssKb ?? 0, pssKb: 0 },
        shims: { n: opts.shims ?? 0, rssKb: 0, pssKb: 0 },
        otherNode: { n: 0, rssKb: 0, pssKb: 0 },
        pauses: { n: opts.pauses ?? 0, rssKb: 0, pssKb: 0 },
      },
    },
  };
}

export function iteration(base: number): SeedIteration {
  return {
    t: {
      floor: [4, 6],
      nsenter: [3, 3],
      node: [30, 30],
      runToRunning: [base],
      runToHttp: [base + 10],
      exec: [40],
      rmForce: [120],
      ps: [36],
      logs: [40],
      images: [50],
      inspect: [39],
      stop: [90],
    },
    httpAttempts: 2,
    httpResolutionMs: 1,
    idle: sample({ rssKb: 0, pssKb: 0 }),
    onePod: sample({ shims: 1, pauses: 1, rssKb: 60 * 1024, pssKb: 30 * 1024 }),
  };
}

export function scaleRaw(pods = 100): ScaleRaw {
  return {
    pods,
    concurrent: 3,
    idleBefore: [sample({ rssKb: 0, pssKb: 0 })],
    sequential: { runMs: Array.from({ length: pods }, (_, i) => 200 + i) },
    points: [1, 10, pods].map((n) => ({ pods: n, reads: [sample({ shims: n, pauses: n, rssKb: n * 60 * 1024, pssKb: n * 20 * 1024 }), sample({ shims: n, pauses: n, rssKb: n * 60 * 1024, pssKb: n * 21 * 1024 })] })),
    ps: { pods, samples: [400, 420, 410], rowsSeen: pods },
    concurrentRuns: { runMs: [500, 600, 700], wallMs: 800, failures: [], addresses: { a: '10.89.0.2', b: '10.89.0.3', c: '10.89.0.3' }, addressFailures: [] },
    removal: { pods: pods + 3, ms: 10300 },
    leftovers: { atReturn: [] },
    idleAfter: [sample({ rssKb: 0, pssKb: 0 })],
  };
}

export function rawResults(over: Partial<RawResults> = {}): RawResults {
  return {
    meta: {
      date: '2026-12-03T00:00:00.000Z',
      node: 'v24.0.0',
      nodeBinary: '/opt/podns/node/bin/node',
      kernel: '6.1.0',
      cpus: 2,
      cpuModel: 'cpu',
      network: 'bridge',
      netns: 'podns-bench-1',
      parts: ['seed', 'scale'],
      runs: 3,
      warmup: 1,
      manifest: 'examples/nginx-busybox.yaml',
      wrapper: 'nsenter --net=/run/netns/podns-bench-1',
    },
    seed: { iterations: [iteration(200), iteration(100), iteration(300)], probeMethod: 'HTTP GET' },
    scale: scaleRaw(),
    failures: [],
    cleanupProblems: [],
    ...over,
  };
}
