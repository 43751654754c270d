/**
 * `npm run bench -- [--runs N] [--warmup N] [--json] [--keep]`: times the seed pod (examples/nginx-busybox.yaml)
 * through the podns CLI, against the kernel floor measured in the same run.
 *
 * Per iteration, in this order (so machine noise hits podns and the floor alike):
 *   kernel floor   `unshare --fork --pid --net --ipc --uts --mount --mount-proc /bin/true`
 *   node -e 0      start-up of the Node binary podns runs on (PODNS_NODE is set to it)
 *   run→running    `podns run` until it returns (it returns once both containers run)
 *   run→HTTP       from the start of that `podns run` until `podns exec POD -c busybox -- wget -qO- localhost`
 *                  first exits 0 (polled back to back)
 *   exec           `podns exec POD -c busybox -- true`
 *   (memory)       RSS/PSS of the shim and the pause from /proc/PID/smaps_rollup (pids from `podns inspect`)
 *   kernel floor   a second sample
 *   rm -f          `podns rm -f POD`
 * Every command is a child_process.spawn, timed with process.hrtime from just before the spawn to its exit.
 *
 * Everything lives in a temp --root with the two test images loaded first; every pod and the root are
 * removed at the end, on failure and on Ctrl-C.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE, type BenchArgs } from './args.js';
import { benchManifest } from './manifest-variant.js';
import { cleanupRoot, useOwnCgroupParent } from './cleanup.js';
import { memoryUse, type MemoryUse } from './smaps.js';
import { describe, live, timed, type Done } from './spawn-timed.js';
import { ratio, summarize, type Summary } from './stats.js';
import { formatMb, formatMs, formatRatio, formatTable } from './table.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const podnsBin = path.join(projectRoot, 'bin', 'podns');
const seedManifestFile = path.join(projectRoot, 'examples', 'nginx-busybox.yaml');
const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';
const HTTP_TIMEOUT_MS = 15_000;
const FLOOR_ARGV = ['unshare', '--fork', '--pid', '--net', '--ipc', '--uts', '--mount', '--mount-proc', '/bin/true'];

/** The figures of the issue, for orientation only: quoted, never measured by this bench. */
export const QUOTED = {
  targets: { runToRunning: 120, exec: 80, rmForce: 150 },
  podman: { runToRunning: 500, runToHttp: 650, exec: 150, rmForce: 3600, perPodRssMb: 8, perPodPssMb: 2.7 },
} as const;

type TimingKey = 'floor' | 'node' | 'runToRunning' | 'runToHttp' | 'exec' | 'rmForce';
const LABELS: Record<TimingKey, string> = {
  floor: 'kernel floor (unshare ... /bin/true)',
  node: 'node -e 0',
  runToRunning: 'podns run → running',
  runToHttp: 'podns run → HTTP (wget ok)',
  exec: 'podns exec -- true',
  rmForce: 'podns rm -f',
};
const TARGET: Partial<Record<TimingKey, number>> = {
  runToRunning: QUOTED.targets.runToRunning,
  exec: QUOTED.targets.exec,
  rmForce: QUOTED.targets.rmForce,
};
const PODMAN: Partial<Record<TimingKey, number>> = {
  runToRunning: QUOTED.podman.runToRunning,
  runToHttp: QUOTED.podman.runToHttp,
  exec: QUOTED.podman.exec,
  rmForce: QUOTED.podman.rmForce,
};

// ---------------------------------------------------------------------------------------------------------
// Processes, and what must be undone

let interrupted: NodeJS.Signals | undefined;

class Bench {
  readonly root: string;
  private readonly env: NodeJS.ProcessEnv;
  /** Pods `podns run` was started for and not yet removed. */
  private readonly pods = new Set<string>();
  private readonly suffix = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  private readonly seedYaml = fs.readFileSync(seedManifestFile, 'utf8');

  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-bench-'));
    fs.mkdirSync(path.join(this.root, 'manifests'));
    // The launcher runs PODNS_NODE when set: podns and the `node -e 0` anchor use the very same binary.
    // Pods get loopback only here: the seed figures are the issue-2 anchors, and no bridge is made on the
    // host's network. The network's own cost is measured by network-bench.ts, in a namespace of its own.
    this.env = { ...process.env, PODNS_NODE: process.execPath, PODNS_NETWORK_MODE: 'none' };
  }

  /** A measured step: refused once interrupted (the clean-up calls timed() directly). */
  private step(argv: string[], timeoutMs?: number): Promise<Done> {
    if (interrupted) return Promise.reject(new Error(`interrupted (${interrupted})`));
    return timed(argv, this.env, timeoutMs);
  }

  podns(args: string[], timeoutMs?: number): Promise<Done> {
    return this.step([podnsBin, '--root', this.root, ...args], timeoutMs);
  }

  async podnsOk(args: string[]): Promise<Done> {
    const r = await this.podns(args);
    if (r.code !== 0) throw new Error(describe(['podns', ...args], r));
    return r;
  }

  async loadImages(): Promise<void> {
    for (const f of ['busybox.tar', 'nginx.tar']) await this.podnsOk(['image', 'load', path.join(imageCache, f)]);
  }

  async floor(): Promise<number> {
    const r = await this.step(FLOOR_ARGV);
    if (r.code !== 0) throw new Error(describe(FLOOR_ARGV, r));
    return r.ms;
  }

  async node(): Promise<number> {
    const argv = [process.execPath, '-e', '0'];
    const r = await this.step(argv);
    if (r.code !== 0) throw new Error(describe(argv, r));
    return r.ms;
  }

  /** One pod's life; returns its timings and the memory of its shim and pause. */
  async iteration(i: number): Promise<{ t: Partial<Record<TimingKey, number[]>>; mem: { shim: MemoryUse; pause: MemoryUse }; polls: number }> {
    const t: Partial<Record<TimingKey, number[]>> = {};
    const add = (k: TimingKey, ms: number) => (t[k] ??= []).push(ms);

    add('floor', await this.floor());
    add('node', await this.node());

    const pod = `bench-${this.suffix}-${i}`;
    const file = path.join(this.root, 'manifests', `${pod}.yaml`);
    fs.writeFileSync(file, benchManifest(this.seedYaml, pod));
    this.pods.add(pod);
    const runStart = process.hrtime.bigint();
    const run = await this.podns(['run', file]);
    if (run.code !== 0) throw new Error(describe(['podns', 'run', file], run));
    add('runToRunning', run.ms);

    let polls = 0;
    for (;;) {
      polls++;
      const r = await this.podns(['exec', pod, '-c', 'busybox', '--', 'wget', '-qO-', 'localhost'], 10_000);
      if (r.code === 0) {
        add('runToHttp', Number(r.end - runStart) / 1e6);
        break;
      }
      if (Number(process.hrtime.bigint() - runStart) / 1e6 > HTTP_TIMEOUT_MS) {
        throw new Error(`pod ${pod}: no HTTP answer within ${HTTP_TIMEOUT_MS} ms (${polls} polls; last: ${describe(['wget'], r)})`);
      }
    }

    const exec = await this.podns(['exec', pod, '-c', 'busybox', '--', 'true']);
    if (exec.code !== 0) throw new Error(describe(['podns', 'exec', pod, '--', 'true'], exec));
    add('exec', exec.ms);

    const mem = await this.memory(pod);

    add('floor', await this.floor());

    const rm = await this.podns(['rm', '-f', pod]);
    if (rm.code !== 0) throw new Error(describe(['podns', 'rm', '-f', pod], rm));
    this.pods.delete(pod);
    add('rmForce', rm.ms);
    return { t, mem, polls };
  }

  async memory(pod: string): Promise<{ shim: MemoryUse; pause: MemoryUse }> {
    const state = JSON.parse((await this.podnsOk(['inspect', pod])).stdout) as { shim?: { pid: number }; pause?: { pid: number } };
    const read = (what: string, pid: number | undefined): MemoryUse => {
      if (!pid) throw new Error(`podns inspect ${pod}: no ${what} pid`);
      return memoryUse(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    };
    return { shim: read('shim', state.shim?.pid), pause: read('pause', state.pause?.pid) };
  }

  /** Removes every pod this bench started and, unless kept, the temp root. Returns what could not be undone. */
  async cleanup(keep: boolean): Promise<string[]> {
    const problems = await cleanupRoot(this.root, [...this.pods], this.env, keep);
    this.pods.clear();
    return problems;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

interface Results {
  meta: Record<string, string | number>;
  timings: Record<TimingKey, { label: string; samples: number[] } & Summary & { ratioToFloor: number; target?: number; podmanQuoted?: number }>;
  memory: Record<'shim' | 'pause' | 'shimPlusPause', { rssMb: Summary; pssMb: Summary }>;
  httpPolls: Summary;
  quotedFromIssue: typeof QUOTED & { note: string };
}

function results(args: BenchArgs, samples: Record<TimingKey, number[]>, mem: { shim: MemoryUse; pause: MemoryUse }[], polls: number[]): Results {
  const floorMedian = summarize(samples.floor).median;
  const timings = {} as Results['timings'];
  for (const key of Object.keys(LABELS) as TimingKey[]) {
    const s = summarize(samples[key]);
    timings[key] = { label: LABELS[key], ...s, ratioToFloor: ratio(s.median, floorMedian), target: TARGET[key], podmanQuoted: PODMAN[key], samples: samples[key] };
  }
  const mb = (kb: number[]) => summarize(kb.map((k) => k / 1024));
  const memory = {
    shim: { rssMb: mb(mem.map((m) => m.shim.rssKb)), pssMb: mb(mem.map((m) => m.shim.pssKb)) },
    pause: { rssMb: mb(mem.map((m) => m.pause.rssKb)), pssMb: mb(mem.map((m) => m.pause.pssKb)) },
    shimPlusPause: {
      rssMb: mb(mem.map((m) => m.shim.rssKb + m.pause.rssKb)),
      pssMb: mb(mem.map((m) => m.shim.pssKb + m.pause.pssKb)),
    },
  };
  return {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      nodeBinary: process.execPath,
      kernel: os.release(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      runs: args.runs,
      warmup: args.warmup,
      floorSamplesPerRun: 2,
      manifest: 'examples/nginx-busybox.yaml, renamed per run, without the nginx-html emptyDir (nginx serves the image index.html)',
    },
    timings,
    memory,
    httpPolls: summarize(polls),
    quotedFromIssue: { ...QUOTED, note: 'quoted from the issue, not measured here' },
  };
}

function render(r: Results): string {
  const out: string[] = [];
  out.push(
    `podns seed-pod bench: ${r.meta.runs} runs (+${r.meta.warmup} warm-up), node ${r.meta.node}, kernel ${r.meta.kernel}, ${r.meta.cpus} x ${r.meta.cpuModel}`,
  );
  out.push(`pod: ${r.meta.manifest}\n`);
  const rows = (Object.keys(LABELS) as TimingKey[]).map((k) => {
    const t = r.timings[k];
    return [t.label, formatMs(t.median), formatMs(t.min), formatMs(t.max), formatRatio(t.ratioToFloor), t.target ? `≤ ${t.target}` : '', t.podmanQuoted ? `~${t.podmanQuoted}` : ''];
  });
  out.push(
    formatTable(
      ['measurement (ms)', 'median', 'min', 'max', 'median/floor', 'target*', 'podman*'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push(`kernel floor: ${r.timings.floor.n} samples (2 per run); run → HTTP needed ${r.httpPolls.median} exec poll(s) (median, max ${r.httpPolls.max})\n`);
  const m = r.memory;
  const memRow = (name: string, x: { rssMb: Summary; pssMb: Summary }) => [
    name,
    formatMb(x.rssMb.median * 1024),
    `${formatMb(x.rssMb.min * 1024)}–${formatMb(x.rssMb.max * 1024)}`,
    formatMb(x.pssMb.median * 1024),
    `${formatMb(x.pssMb.min * 1024)}–${formatMb(x.pssMb.max * 1024)}`,
  ];
  out.push(
    formatTable(
      ['memory, one pod running (MB)', 'RSS', 'RSS min–max', 'PSS', 'PSS min–max'],
      [memRow('shim (podns shim, node)', m.shim), memRow('pause', m.pause), memRow('shim + pause', m.shimPlusPause)],
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push(`podman per-pod overhead*: ~${QUOTED.podman.perPodRssMb} MB RSS / ~${QUOTED.podman.perPodPssMb} MB PSS`);
  out.push('* targets and podman figures: quoted from the issue, not measured here.');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: podns needs root\n');
    return 1;
  }
  for (const f of ['dist/cli/main.js', 'build/Release/podns.node', 'build/Release/pause']) {
    if (!fs.existsSync(path.join(projectRoot, f))) {
      process.stderr.write(`bench: ${f} is missing (npm run build)\n`);
      return 1;
    }
  }

  const bench = new Bench();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    interrupted ??= sig;
    if (interrupts === 1) {
      process.stderr.write(`\nbench: ${sig}: stopping and cleaning up (pods, ${bench.root})...\n`);
      for (const child of live) child.kill('SIGTERM');
    } else if (interrupts >= 3) {
      process.stderr.write(`bench: giving up; left behind: ${bench.root}\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const samples = Object.fromEntries(Object.keys(LABELS).map((k) => [k, []])) as unknown as Record<TimingKey, number[]>;
  const mem: { shim: MemoryUse; pause: MemoryUse }[] = [];
  const polls: number[] = [];
  const progress = !args.json && process.stderr.isTTY;
  let failure: unknown;
  try {
    if (!args.json) process.stderr.write(`bench: root ${bench.root}; loading images...\n`);
    await bench.loadImages();
    const total = args.warmup + args.runs;
    for (let i = 0; i < total; i++) {
      if (interrupted) throw new Error(`interrupted (${interrupted})`);
      const it = await bench.iteration(i);
      if (i < args.warmup) continue;
      for (const [k, v] of Object.entries(it.t) as [TimingKey, number[]][]) samples[k].push(...v);
      mem.push(it.mem);
      polls.push(it.polls);
      if (progress) process.stderr.write(`\rbench: run ${i - args.warmup + 1}/${args.runs}`);
    }
    if (progress) process.stderr.write('\n');
  } catch (err) {
    failure = err;
  }
  const problems = await bench.cleanup(args.keep);
  for (const p of problems) process.stderr.write(`bench: cleanup: ${p}\n`);

  if (failure) {
    process.stderr.write(`bench: ${failure instanceof Error ? failure.message : String(failure)}\n`);
    return interrupted ? 130 : 1;
  }
  const r = results(args, samples, mem, polls);
  process.stdout.write(args.json ? JSON.stringify(r, null, 2) + '\n' : render(r));
  if (!args.json && !interrupted) {
    // Issue 4: pull + unpack against skopeo + umoci, in the same run (see pull-bench.ts).
    const { runPullBench } = await import('./pull-bench.js');
    try {
      process.stdout.write(`${await runPullBench(args.runs)}\n`);
    } catch (err) {
      process.stderr.write(`bench: pull bench: ${(err as Error).message}\n`);
      return 1;
    }
    // Issue 5: what pod networking adds to a pod start, in a network namespace of its own.
    const { runNetworkBench } = await import('./network-bench.js');
    try {
      process.stdout.write(await runNetworkBench(args.runs));
    } catch (err) {
      process.stderr.write(`bench: network bench: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return problems.length ? 1 : 0;
}

const removeCgroupParent = useOwnCgroupParent();
try {
  process.exitCode = await main();
} finally {
  removeCgroupParent();
}
