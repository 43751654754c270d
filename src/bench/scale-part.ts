/**
 * The scale part, on copies of the article's pod:
 *   1. supervision with no pod (after a `podns ps`, which may start an on-demand supervisor), three reads;
 *   2. N copies started by N sequential `podns run` (the sum of their times; memory is read, three times,
 *      once 1, 10 and N pods run, with the clock of the sequence stopped meanwhile);
 *   3. `podns ps` with those N pods running, --runs times;
 *   4. M different pods started by M concurrent `podns run`: all must succeed, and (bridge) every pod running
 *      then must have an address of its own;
 *   5. one `podns rm -f` of all N + M pods, timed; then what it left (leftovers.ts) must be nothing (looked
 *      at when it returns, and again 2 s later if something was there);
 *   6. supervision with no pod again (a supervisor stays; per-pod shims are gone).
 * A failure stops the step it happens in and is reported with the figures gathered until then; the bench's
 * clean-up removes whatever is still running.
 */
import type { BenchPodns } from './bench-podns.js';
import type { SupervisionSample } from './supervision.js';
import { podAddress } from './nginx-probe.js';

export interface MemoryPoint {
  pods: number;
  reads: SupervisionSample[];
}

export interface ScaleRaw {
  pods: number;
  concurrent: number;
  idleBefore: SupervisionSample[];
  sequential: { runMs: number[]; failure?: string };
  points: MemoryPoint[];
  ps: { pods: number; samples: number[]; rowsSeen: number };
  concurrentRuns: { runMs: number[]; wallMs: number; failures: string[]; addresses: Record<string, string>; addressFailures: string[] };
  removal?: { pods: number; ms: number; failure?: string };
  /** What was left the moment `rm -f` returned, and (when that was something) 2 s later. */
  leftovers: { atReturn: string[]; after2s?: string[] };
  idleAfter: SupervisionSample[];
}

export interface ScaleContext {
  podns: BenchPodns;
  sample: () => SupervisionSample;
  /** What the pods left once removed (leftovers.ts, with the bench's scope). */
  leftovers: (pods: string[]) => string[];
  runs: number;
  progress: (text: string) => void;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Three reads, 300 ms apart: the spread is the noise of one point (GC, lazily touched pages). */
async function reads(sample: () => SupervisionSample): Promise<SupervisionSample[]> {
  const out: SupervisionSample[] = [];
  for (let i = 0; i < 3; i++) {
    if (i) await pause(300);
    out.push(sample());
  }
  return out;
}

export function memoryPoints(pods: number): number[] {
  return [...new Set([1, 10, pods])].filter((n) => n <= pods).sort((a, b) => a - b);
}

export async function runScalePart(ctx: ScaleContext, pods: number, concurrent: number): Promise<ScaleRaw> {
  const { podns } = ctx;
  const raw: ScaleRaw = {
    pods,
    concurrent,
    idleBefore: [],
    sequential: { runMs: [] },
    points: [],
    ps: { pods: 0, samples: [], rowsSeen: 0 },
    concurrentRuns: { runMs: [], wallMs: Number.NaN, failures: [], addresses: {}, addressFailures: [] },
    leftovers: { atReturn: [] },
    idleAfter: [],
  };
  await podns.podnsOk(['ps']);
  raw.idleBefore = await reads(ctx.sample);

  const names = Array.from({ length: pods }, (_, i) => `scale-${podns.suffix}-${i + 1}`);
  const at = new Set(memoryPoints(pods));
  for (const [i, pod] of names.entries()) {
    try {
      raw.sequential.runMs.push((await podns.runPod(pod)).ms);
    } catch (err) {
      raw.sequential.failure = `pod ${i + 1} of ${pods}: ${(err as Error).message}`;
      break;
    }
    ctx.progress(`scale: ${i + 1}/${pods} pods`);
    if (at.has(i + 1)) raw.points.push({ pods: i + 1, reads: await reads(ctx.sample) });
  }
  const running = raw.sequential.runMs.length;

  raw.ps.pods = running;
  for (let i = 0; i < ctx.runs; i++) {
    const r = await podns.podnsOk(['ps']);
    raw.ps.samples.push(r.ms);
    // One "(pause)" row per pod: the listing really covered every pod.
    raw.ps.rowsSeen = r.stdout.split('\n').filter((l) => l.includes('(pause)')).length;
  }

  const others = Array.from({ length: concurrent }, (_, i) => `conc-${podns.suffix}-${i + 1}`);
  ctx.progress(`scale: ${concurrent} concurrent podns run`);
  const start = process.hrtime.bigint();
  const settled = await Promise.allSettled(others.map((pod) => podns.runPod(pod)));
  raw.concurrentRuns.wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  for (const [i, s] of settled.entries()) {
    if (s.status === 'fulfilled') raw.concurrentRuns.runMs.push(s.value.ms);
    else raw.concurrentRuns.failures.push(`${others[i]}: ${(s.reason as Error).message}`);
  }
  if (podns.network === 'bridge') {
    for (const pod of [...names.slice(0, running), ...others.filter((_, i) => settled[i]!.status === 'fulfilled')]) {
      try {
        raw.concurrentRuns.addresses[pod] = await podAddress(podns.netnsPin(pod));
      } catch (err) {
        raw.concurrentRuns.addressFailures.push(`${pod}: ${(err as Error).message}`);
      }
    }
  }

  const all = [...podns.pods].filter((p) => p.startsWith('scale-') || p.startsWith('conc-'));
  ctx.progress(`scale: podns rm -f of ${all.length} pods`);
  try {
    raw.removal = { pods: all.length, ms: (await podns.removePods(all)).ms };
  } catch (err) {
    raw.removal = { pods: all.length, ms: Number.NaN, failure: (err as Error).message };
  }
  raw.leftovers.atReturn = ctx.leftovers([...names, ...others]);
  if (raw.leftovers.atReturn.length) {
    await pause(2000);
    raw.leftovers.after2s = ctx.leftovers([...names, ...others]);
  }
  raw.idleAfter = await reads(ctx.sample);
  return raw;
}
