/**
 * The bench's results as one object (what `--json` prints, and what the tables are rendered from), built from
 * the raw samples of each part that ran. Pure; unit-tested in test/unit/bench/report.test.ts.
 */
import type { NetworkMode, Part } from './args.js';
import type { NetworkResult } from './network-bench.js';
import type { CriBenchResult } from './cri-bench.js';
import type { PullResult } from './pull-bench.js';
import type { ScaleRaw } from './scale-part.js';
import type { SeedIteration, SeedKey } from './seed-part.js';
import { ratio, series, summarize, type Series, type Summary } from './stats.js';
import type { SupervisionModel, SupervisionSample } from './supervision.js';
import { QUOTED, SCALE_TARGETS, TARGETS, meets, type Target } from './targets.js';

export interface TimingRow extends Series {
  label: string;
  ratioToFloor: number;
  ratioToNode: number;
  target?: Target;
  /** Whether the median meets the target (absent without a target). */
  met?: boolean;
}

export interface ProcessCounts {
  supervisors: number;
  shims: number;
  otherNode: number;
  pauses: number;
}

export interface MemoryRow {
  pods: number;
  /** Where the figures come from, e.g. "seed iterations" or "scale, after 10 runs". */
  source: string;
  /** Of the last read. */
  processes: ProcessCounts;
  rssMb: Summary;
  pssMb: Summary;
  /** (supervision PSS − supervision PSS with no pod) / pods, one value per read. */
  perPodPssMb?: Summary;
  met?: boolean;
}

export interface BenchReport {
  meta: {
    date: string;
    node: string;
    nodeBinary: string;
    kernel: string;
    cpus: number;
    cpuModel: string;
    network: NetworkMode;
    netns: string;
    parts: Part[];
    runs: number;
    warmup: number;
    /** The process model found (from the first look at running pods). */
    processModel: SupervisionModel;
    manifest: string;
    wrapper: string;
  };
  timings: Partial<Record<SeedKey | 'psAtScale', TimingRow>>;
  httpProbe?: { method: string; attempts: Summary; resolutionMs: Summary };
  memory?: {
    model: SupervisionModel;
    /** PSS the per-pod figures are taken against, and where it was read. */
    baseline: { pssMb: number; source: string };
    /** The supervisor(s) with no pod; absent when none runs without pods (per-pod shims). */
    supervisorIdleRssMb?: Summary;
    supervisorIdleTargetMb: number;
    perPodTargetMb: number;
    rows: MemoryRow[];
    quoted: string;
  };
  scale?: {
    pods: number;
    sequential: { started: number; runs: TimingRow; totalS: number; targetS?: number; met?: boolean; firstTenMs: Summary; lastTenMs: Summary; failure?: string };
    concurrent: { requested: number; succeeded: number; wallMs: number; runs: Series; failures: string[] };
    addresses: { checked: number; distinct: number; duplicates: string[]; failures: string[] } | { skipped: string };
    removal?: { pods: number; ms: number; perPodMs: number; failure?: string };
    leftovers: { atReturn: string[]; after2s?: string[] };
  };
  pull?: PullResult;
  network?: NetworkResult;
  cri?: CriBenchResult;
  quoted: typeof QUOTED;
  failures: string[];
  cleanupProblems: string[];
}

const LABELS: Record<SeedKey | 'psAtScale', string> = {
  floor: 'kernel floor (unshare of 5 namespaces)',
  nsenter: 'nsenter --net /bin/true (the wrapper)',
  node: 'node -e 0',
  runToRunning: 'podns run → all containers running',
  runToHttp: 'podns run → nginx answers',
  exec: 'podns exec -- true',
  rmForce: 'podns rm -f (running pod)',
  ps: 'podns ps (1 pod)',
  logs: 'podns logs -c nginx',
  images: 'podns images',
  inspect: 'podns inspect',
  stop: 'podns stop',
  psAtScale: 'podns ps',
};

const TIMING_TARGETS: Partial<Record<SeedKey | 'psAtScale', Target>> = {
  runToRunning: TARGETS.runToRunning,
  runToHttp: TARGETS.runToHttp,
  exec: TARGETS.exec,
  rmForce: TARGETS.rmForce,
  ps: TARGETS.everyday,
  logs: TARGETS.everyday,
  images: TARGETS.everyday,
  inspect: TARGETS.everyday,
  stop: TARGETS.everyday,
  psAtScale: TARGETS.psAtScale,
};

export function timingRow(label: string, samples: readonly number[], floorMedian: number, nodeMedian: number, target?: Target): TimingRow {
  const s = series(samples);
  const row: TimingRow = { label, ...s, ratioToFloor: ratio(s.median, floorMedian), ratioToNode: ratio(s.median, nodeMedian) };
  if (target) {
    row.target = target;
    row.met = meets(target, s.median, nodeMedian);
  }
  return row;
}

const mb = (kb: number) => kb / 1024;

export function countsOf(sample: SupervisionSample): ProcessCounts {
  const { supervisors, shims, otherNode, pauses } = sample.scan;
  return { supervisors: supervisors.length, shims: shims.length, otherNode: otherNode.length, pauses: pauses.length };
}

/** A memory row of reads taken with `pods` pods running; per-pod figures against `baselineKb` when pods > 0. */
export function memoryRow(pods: number, source: string, reads: readonly SupervisionSample[], baselineKb: readonly number[] | number): MemoryRow {
  const row: MemoryRow = {
    pods,
    source,
    processes: countsOf(reads[reads.length - 1]!),
    rssMb: summarize(reads.map((r) => mb(r.memory.rssKb))),
    pssMb: summarize(reads.map((r) => mb(r.memory.pssKb))),
  };
  if (pods > 0) {
    // Paired baselines (one per read, as the seed iterations take them) or one baseline for all reads.
    const base = (i: number) => (typeof baselineKb === 'number' ? baselineKb : baselineKb[i]!);
    row.perPodPssMb = summarize(reads.map((r, i) => mb(r.memory.pssKb - base(i)) / pods));
    row.met = row.perPodPssMb.median <= SCALE_TARGETS.perPodPssMb;
  }
  return row;
}

/**
 * The PSS per-pod figures are taken against: supervision with no pod before the pods when a supervisor ran
 * then; else after they were removed, when a supervisor ran then (one started by the first `podns run`);
 * else nothing runs without pods (per-pod shims) and the baseline is zero.
 */
export function chooseBaseline(before: readonly SupervisionSample[], after: readonly SupervisionSample[]): { reads: readonly SupervisionSample[]; source: string } {
  const hasSupervisor = (xs: readonly SupervisionSample[]) => xs.length > 0 && xs.every((x) => x.scan.supervisors.length > 0);
  if (hasSupervisor(before)) return { reads: before, source: 'no pod, before the pods' };
  if (hasSupervisor(after)) return { reads: after, source: 'no pod, after they were removed (the supervisor was started by the first run)' };
  return { reads: [], source: 'none: nothing supervises while no pod runs' };
}

export function describeCounts(c: ProcessCounts): string {
  const parts = [
    c.supervisors && `${c.supervisors} supervisor${c.supervisors > 1 ? 's' : ''}`,
    c.shims && `${c.shims} shim${c.shims > 1 ? 's' : ''}`,
    c.otherNode && `${c.otherNode} other podns`,
    c.pauses && `${c.pauses} pause${c.pauses > 1 ? 's' : ''}`,
  ].filter(Boolean);
  return parts.length ? parts.join(' + ') : 'none';
}

export interface RawResults {
  meta: Omit<BenchReport['meta'], 'processModel'>;
  seed?: { iterations: SeedIteration[]; probeMethod: string };
  scale?: ScaleRaw;
  pull?: PullResult;
  network?: NetworkResult;
  cri?: CriBenchResult;
  failures: string[];
  cleanupProblems: string[];
}

export function buildReport(raw: RawResults): BenchReport {
  const report: BenchReport = {
    meta: { ...raw.meta, processModel: 'none running' },
    timings: {},
    quoted: QUOTED,
    failures: raw.failures,
    cleanupProblems: raw.cleanupProblems,
  };
  const its = raw.seed?.iterations ?? [];
  const samples = (k: SeedKey) => its.flatMap((it) => it.t[k] ?? []);
  const floorMedian = summarize(samples('floor')).median;
  const nodeMedian = summarize(samples('node')).median;
  if (raw.seed && its.length) {
    for (const k of Object.keys(LABELS) as (SeedKey | 'psAtScale')[]) {
      if (k === 'psAtScale') continue;
      report.timings[k] = timingRow(LABELS[k], samples(k), floorMedian, nodeMedian, TIMING_TARGETS[k]);
    }
    report.httpProbe = {
      method: raw.seed.probeMethod,
      attempts: summarize(its.map((it) => it.httpAttempts)),
      resolutionMs: summarize(its.map((it) => it.httpResolutionMs)),
    };
  }

  const rows: MemoryRow[] = [];
  const firstWithPods = [...its.map((it) => it.onePod), ...(raw.scale?.points.flatMap((p) => p.reads) ?? [])][0];
  report.meta.processModel = firstWithPods?.scan.model ?? 'none running';
  if (its.length) {
    rows.push(memoryRow(0, 'seed iterations, before each run', its.map((it) => it.idle), 0));
    rows.push(memoryRow(1, `seed iterations (n=${its.length}, each against its own no-pod read)`, its.map((it) => it.onePod), its.map((it) => it.idle.memory.pssKb)));
  }
  let baseline = { pssMb: Number.NaN, source: '' };
  let idleSupervisor: Summary | undefined;
  const sc = raw.scale;
  if (sc) {
    const chosen = chooseBaseline(sc.idleBefore, sc.idleAfter);
    const baseKb = chosen.reads.length ? summarize(chosen.reads.map((r) => r.memory.pssKb)).median : 0;
    baseline = { pssMb: mb(baseKb), source: chosen.source };
    if (chosen.reads.length) idleSupervisor = summarize(chosen.reads.map((r) => mb(r.memory.byKind.supervisors.rssKb)));
    if (sc.idleBefore.length) rows.push(memoryRow(0, 'scale, before the pods (after a podns ps)', sc.idleBefore, 0));
    for (const p of sc.points) rows.push(memoryRow(p.pods, `scale, after ${p.pods} run${p.pods > 1 ? 's' : ''} (3 reads)`, p.reads, baseKb));
    if (sc.idleAfter.length) rows.push(memoryRow(0, 'scale, after rm -f of every pod', sc.idleAfter, 0));

    const runs = sc.sequential.runMs;
    const started = runs.length;
    const totalS = runs.reduce((a, b) => a + b, 0) / 1000;
    const atTarget = sc.pods === SCALE_TARGETS.pods;
    report.scale = {
      pods: sc.pods,
      sequential: {
        started,
        runs: timingRow(`podns run, ${sc.pods} sequential copies`, runs, floorMedian, nodeMedian),
        totalS,
        ...(atTarget ? { targetS: SCALE_TARGETS.sequentialTotalS, met: started === sc.pods && totalS <= SCALE_TARGETS.sequentialTotalS } : {}),
        firstTenMs: summarize(runs.slice(0, 10)),
        lastTenMs: summarize(runs.slice(-10)),
        ...(sc.sequential.failure ? { failure: sc.sequential.failure } : {}),
      },
      concurrent: {
        requested: sc.concurrent,
        succeeded: sc.concurrentRuns.runMs.length,
        wallMs: sc.concurrentRuns.wallMs,
        runs: series(sc.concurrentRuns.runMs),
        failures: sc.concurrentRuns.failures,
      },
      addresses:
        raw.meta.network === 'bridge'
          ? addressCheck(sc.concurrentRuns.addresses, sc.concurrentRuns.addressFailures)
          : { skipped: 'network none: pods have loopback only' },
      ...(sc.removal ? { removal: { ...sc.removal, perPodMs: sc.removal.ms / sc.removal.pods } } : {}),
      leftovers: sc.leftovers,
    };
    if (sc.ps.samples.length) {
      const row = timingRow(`podns ps (${sc.ps.pods} pods; ${sc.ps.rowsSeen} listed)`, sc.ps.samples, floorMedian, nodeMedian, atTarget ? TARGETS.psAtScale : undefined);
      report.timings.psAtScale = row;
    }
  }
  if (rows.length) {
    const model = report.meta.processModel;
    report.memory = {
      model,
      baseline,
      ...(idleSupervisor ? { supervisorIdleRssMb: idleSupervisor } : {}),
      supervisorIdleTargetMb: SCALE_TARGETS.supervisorIdleRssMb,
      perPodTargetMb: SCALE_TARGETS.perPodPssMb,
      rows,
      quoted: `${QUOTED.source}: podman ${QUOTED.podman.perPodPssMbAtFifty} MB per pod at fifty pods (${QUOTED.podman.onePodPssMb} MB with one: 3 conmons + catatonit); containerd ${QUOTED.containerd.perPodPssMb} MB per pod (+ ${QUOTED.containerd.daemonMb} MB daemon)`,
    };
  }
  if (raw.pull) report.pull = raw.pull;
  if (raw.network) report.network = raw.network;
  if (raw.cri) report.cri = raw.cri;
  return report;
}

/** Every address checked, and which were given to more than one pod. */
export function addressCheck(addresses: Record<string, string>, failures: string[]): { checked: number; distinct: number; duplicates: string[]; failures: string[] } {
  const byIp = new Map<string, string[]>();
  for (const [pod, ip] of Object.entries(addresses)) byIp.set(ip, [...(byIp.get(ip) ?? []), pod]);
  const duplicates = [...byIp.entries()].filter(([, pods]) => pods.length > 1).map(([ip, pods]) => `${ip}: ${pods.join(', ')}`);
  return { checked: Object.keys(addresses).length, distinct: byIp.size, duplicates, failures };
}
