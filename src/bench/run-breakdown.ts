/**
 * `node dist/bench/run-breakdown.js [--runs N]`: where the time of `podns run` goes, for the bench's seed pod.
 * Not part of `npm run bench`; an analysis aid. Per iteration (interleaved, after one warm-up):
 *   traced   `podns run` with trace-preload.js in NODE_OPTIONS: the CLI's start, Node bootstrap, module loads,
 *            its connection to the supervisor, its exit, merged with the supervisor.log timestamps of that pod
 *            (ms resolution; the breakdown starts the supervisor first, with PODNS_LOG_LEVEL=debug);
 *   plain    `podns run` as the bench runs it, to show what the tracing itself costs;
 *   cache    `podns run` with NODE_COMPILE_CACHE set (warm), to size that possible win;
 *   steps    cli-steps.js: the CLI's work before the supervisor spawn, timed in-process.
 * Networking is off unless PODNS_NETWORK_MODE says otherwise: for the bridge, run the breakdown inside a
 * network namespace of its own (`ip netns add x; ip netns exec x node dist/bench/run-breakdown.js` with
 * PODNS_NETWORK_MODE=bridge), so that the bridge and veths are not made on the host.
 * Every pod is removed, the supervisor stopped and the temp root removed, also on failure / Ctrl-C.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { cleanupRoot, useOwnCgroupParent } from './cleanup.js';
import { benchManifest } from './manifest-variant.js';
import { describe, live, timed } from './spawn-timed.js';
import { median } from './stats.js';
import { formatMs, formatTable } from './table.js';
import type { TraceRecord } from './trace-preload.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..', '..');
const podnsBin = path.join(projectRoot, 'bin', 'podns');
const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-breakdown-'));
const cgroupParent = useOwnCgroupParent();
// Loopback only unless asked: bridge mode (podns's default) makes its bridge and veths in our network namespace.
const networkMode = process.env.PODNS_NETWORK_MODE ?? 'none';
const env = { ...process.env, PODNS_NODE: process.execPath, PODNS_NETWORK_MODE: networkMode, PODNS_LOG_LEVEL: 'debug' };
const logFile = path.join(root, 'run', 'supervisor.log');
const pods = new Set<string>();
let stop = false;
process.on('SIGINT', () => {
  stop = true;
  for (const c of live) c.kill('SIGTERM');
});

const seed = fs.readFileSync(path.join(projectRoot, 'examples', 'nginx-busybox.yaml'), 'utf8');
const epochNow = () => performance.timeOrigin + performance.now();

async function ok(argv: string[], e: NodeJS.ProcessEnv = env) {
  if (stop) throw new Error('interrupted');
  const r = await timed(argv, e);
  if (r.code !== 0) throw new Error(describe(argv, r));
  return r;
}

/** Lines of supervisor.log from byte `from` on that name `pod`, with their epoch ms. */
function supervisorLines(from: number, pod: string): { at: number; text: string }[] {
  const text = fs.readFileSync(logFile).subarray(from).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.includes(` pod=${pod} `) || l.endsWith(` pod=${pod}`))
    .map((l) => ({ at: Date.parse(l.split(' ')[0]!), text: l }));
}

/** One traced run: named segments in ms. */
async function traced(i: number): Promise<Record<string, number>> {
  const pod = `bd-${process.pid.toString(36)}-t${i}`;
  const file = path.join(root, `${pod}.yaml`);
  fs.writeFileSync(file, benchManifest(seed, pod));
  const traceFile = path.join(root, `${pod}.trace`);
  const e = { ...env, NODE_OPTIONS: `--import=${pathToFileURL(path.join(here, 'trace-preload.js')).href}`, PODNS_BENCH_TRACE: traceFile };
  pods.add(pod);
  const logFrom = fs.statSync(logFile).size;
  const t0 = epochNow();
  const r = await ok([podnsBin, '--root', root, 'run', file], e);
  const t1 = t0 + r.ms;
  // 'pod running' is logged just after the answer to the CLI, so it may come after the CLI's exit.
  let lines = supervisorLines(logFrom, pod);
  for (let n = 0; n < 100 && !lines.some((l) => / pod running /.test(l.text)); n++) {
    await new Promise((r) => setTimeout(r, 10));
    lines = supervisorLines(logFrom, pod);
  }
  await ok([podnsBin, '--root', root, 'rm', '-f', pod]);
  pods.delete(pod);
  const records = fs.readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceRecord);
  const cli = records.find((x) => x.role === 'cli')!;
  const at = (rec: TraceRecord, prefix: string) => {
    const ev = rec.events.find(([name]) => name.startsWith(prefix));
    if (!ev) throw new Error(`trace: no "${prefix}" in ${rec.role}: ${JSON.stringify(rec.events)}`);
    return rec.origin + ev[1] - t0;
  };
  const logAt = (re: RegExp) => {
    const line = lines.find((l) => re.test(l.text));
    if (!line) throw new Error(`supervisor.log: no ${re} for ${pod}`);
    return line.at - t0;
  };
  const marks: [string, number][] = [
    ['spawn → CLI node process starts (sh launcher, exec)', cli.origin - t0],
    ['CLI: Node bootstrap', at(cli, 'bootstrapped')],
    ['CLI: → main.js loaded', at(cli, 'load main.js')],
    ['CLI: → run.js loading (argv parsed)', at(cli, 'load run.js')],
    ['CLI: → connects to the supervisor (run deps, manifest, images, spec.json)', at(cli, 'connect')],
    ['supervisor: → "starting pod" (request read, spec.json read)', logAt(/ starting pod/)],
    ['supervisor: → cgroups created', logAt(/ cgroups created/)],
    ['supervisor: → sandbox running (pause, network)', logAt(/ sandbox running/)],
    ['supervisor: → sandbox ready (pod files, state)', logAt(/ sandbox ready/)],
    ['supervisor: → nginx started', logAt(/ container started .* container=nginx /)],
    ['supervisor: → busybox started', logAt(/ container started .* container=busybox /)],
    ['CLI: → exit seen by the bench', t1 - t0],
  ];
  const out: Record<string, number> = {};
  let prev = 0;
  for (const [name, t] of marks) {
    out[name] = t - prev;
    prev = t;
  }
  out['= total (traced run)'] = t1 - t0;
  out['(CLI modules loaded)'] = cli.modules;
  return out;
}

async function plainRun(i: number, tag: string, e: NodeJS.ProcessEnv): Promise<number> {
  const pod = `bd-${process.pid.toString(36)}-${tag}${i}`;
  const file = path.join(root, `${pod}.yaml`);
  fs.writeFileSync(file, benchManifest(seed, pod));
  pods.add(pod);
  const r = await ok([podnsBin, '--root', root, 'run', file], e);
  await ok([podnsBin, '--root', root, 'rm', '-f', pod]);
  pods.delete(pod);
  return r.ms;
}

async function main(): Promise<void> {
  await ok([podnsBin, '--root', root, 'serve', '--background']);
  for (const f of ['busybox.tar', 'nginx.tar']) await ok([podnsBin, '--root', root, 'image', 'load', path.join(imageCache, f)]);
  const cacheEnv = { ...env, NODE_COMPILE_CACHE: path.join(root, 'compile-cache') };
  const manifest = path.join(root, 'steps.yaml');
  fs.writeFileSync(manifest, benchManifest(seed, 'steps'));
  const samples: Record<string, number[]> = {};
  const add = (k: string, v: number) => (samples[k] ??= []).push(v);
  for (let i = 0; i <= runs; i++) {
    const t = await traced(i);
    const plain = await plainRun(i, 'p', env);
    const cached = await plainRun(i, 'c', cacheEnv);
    const steps = JSON.parse((await ok([process.execPath, path.join(here, 'cli-steps.js'), root, manifest])).stdout) as Record<string, number>;
    if (i === 0) continue; // warm-up (and it fills the compile cache)
    for (const [k, v] of Object.entries(t)) add(k, v);
    add('podns run, plain (as the bench runs it)', plain);
    add('podns run, NODE_COMPILE_CACHE warm', cached);
    for (const [k, v] of Object.entries(steps)) add(`cli-steps: ${k}`, v);
  }
  const rows = Object.entries(samples).map(([k, v]) => [k, k.startsWith('(') ? String(median(v)) : formatMs(median(v)), formatMs(Math.min(...v)), formatMs(Math.max(...v))]);
  process.stdout.write(`podns run breakdown, network ${networkMode}, ${runs} runs (+1 warm-up); segments are the time since the previous line (ms)\n\n`);
  process.stdout.write(formatTable(['segment', 'median', 'min', 'max'], rows, ['left', 'right', 'right', 'right']));
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  process.stderr.write(`run-breakdown: ${(err as Error).message}\n`);
}
for (const p of await cleanupRoot({ root, pods: [...pods], env, keep: false })) process.stderr.write(`run-breakdown: cleanup: ${p}\n`);
cgroupParent.remove();
process.exitCode = failed ? 1 : 0;
