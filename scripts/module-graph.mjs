// The module graph of podns commands: every module a command loads (podns's own, npm packages, and the
// built-ins it makes Node load beyond what `node -e 0` loads), in load order, with when it was loaded and the
// CPU time spent in its code, plus the command's wall time beside `node -e 0` measured in the same run. So the
// claim "every command loads only what it needs" can be checked, and a regression seen, on any checkout.
//
//   node scripts/module-graph.mjs                       run, exec, ps, rm against a temp root (see below)
//   node scripts/module-graph.mjs [--runs N] [--root DIR] -- exec web -- true     any command line
//
// Without a command line it makes a temp root with no pod and no image and times `run` of a manifest whose
// image is not in the store (imagePullPolicy: Never: run parses the manifest, resolves the image, fails
// before any kernel work), `exec`, `ps`, `rm` of a pod that does not exist. A verb's modules are loaded before
// it looks for the pod, so these show each verb's whole graph, except modules a verb imports lazily further in
// (give a root with real pods to see those). Needs dist/ (npm run build:ts).
//
// How: a module.registerHooks() load hook (loaded with --import) records each module as Node loads it, and
// process.moduleLoadList the built-ins (those a `node -e 0` with the same hook loads are left out); --cpu-prof
// gives each file's self time (median of the runs: the time in its own code, not in what it calls); the wall
// time is the median of the runs without any of that instrumentation, interleaved with `node -e 0`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(project, 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build:ts first`);
if (!module.registerHooks) throw new Error(`Node ${process.version} has no module.registerHooks: run this with Node >= 22.15 (/opt/podns/node/bin/node)`);

const args = process.argv.slice(2);
let runs = 7;
let root;
const dash = args.indexOf('--');
const own = dash < 0 ? args : args.slice(0, dash);
for (let i = 0; i < own.length; i++) {
  if (own[i] === '--runs') runs = Number(own[++i]);
  else if (own[i] === '--root') root = own[++i];
  else throw new Error(`unknown option ${own[i]} (usage: module-graph.mjs [--runs N] [--root DIR] [-- podns args...])`);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-module-graph-'));
const hook = path.join(scratch, 'hook.mjs');
let baseline;
try {
  root ??= path.join(scratch, 'root');
  let commands;
  if (dash >= 0) {
    commands = [args.slice(dash + 1)];
  } else {
    const manifest = path.join(scratch, 'pod.yaml');
    fs.writeFileSync(manifest, 'apiVersion: v1\nkind: Pod\nmetadata: {name: graph}\nspec:\n  containers:\n  - {name: c, image: not-in-the-store:1, imagePullPolicy: Never}\n');
    commands = [['run', manifest], ['exec', 'no-such-pod', '--', 'true'], ['ps'], ['rm', 'no-such-pod']];
  }
  fs.writeFileSync(hook, HOOK_SOURCE());
  baseline = new Set(graphOf(['-e', '0']).builtins);
  for (const argv of commands) report(argv);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

function report(argv) {
  const full = [main, '--root', root, ...argv];
  const wall = interleaved([['-e', '0'], full], runs);
  console.log(`\n== podns ${argv.join(' ')}`);
  console.log(`wall: ${fmt(wall[1])} ms median (${fmt(wall[1].min)}–${fmt(wall[1].max)}), node -e 0: ${fmt(wall[0])} ms (${fmt(wall[0].min)}–${fmt(wall[0].max)}), ratio ${(wall[1].median / wall[0].median).toFixed(2)}`);

  const graph = graphOf(full);
  const self = selfTimes(full, runs);
  // A built-in's self time is mostly Node's own use of it (node:path resolves every module): not shown.
  const rows = graph.modules.map((m) => [fmt1(m.at), kindOf(m.url) === 'builtin' ? '-' : fmt1(self.get(m.url) ?? 0), kindOf(m.url), shortName(m.url)]);
  console.log(`${graph.modules.length} modules (${rows.filter((r) => r[2] === 'podns').length} of podns's, ${rows.filter((r) => r[2] === 'npm').length} from npm):`);
  console.log('  loaded at ms   self ms  kind     module');
  for (const [at, ms, kind, name] of rows) console.log(`  ${at.padStart(10)}   ${ms.padStart(7)}  ${kind.padEnd(7)}  ${name}`);
  const added = graph.builtins.filter((b) => !baseline.has(b));
  const named = added.filter((b) => b.startsWith('NativeModule ') && !b.includes('internal/')).map((b) => b.slice('NativeModule '.length));
  console.log(`built-ins beyond node -e 0: ${added.length} (${named.join(', ') || 'no public ones'})`);
}

/** Wall time of each command line, run in turn `n` times after a warm-up; median, min, max in ms. */
function interleaved(lines, n) {
  const times = lines.map(() => []);
  for (let i = -2; i < n; i++) {
    lines.forEach((line, j) => {
      const start = process.hrtime.bigint();
      spawnSync(process.execPath, line, { stdio: 'ignore' });
      if (i >= 0) times[j].push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return times.map((t) => {
    const sorted = t.sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
  });
}

/** Each script's self time in the CPU profile (sampled every 50 µs), the median over `n` runs. */
function selfTimes(line, n) {
  const perUrl = new Map();
  for (let i = 0; i < n; i++) {
    const dir = fs.mkdtempSync(path.join(scratch, 'prof-'));
    spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '50', ...line], { stdio: 'ignore' });
    const profile = JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'utf8'));
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const run = new Map();
    profile.samples.forEach((id, k) => {
      const url = nodes.get(id).callFrame.url;
      if (url) run.set(url, (run.get(url) ?? 0) + (profile.timeDeltas[k] ?? 0) / 1000);
    });
    for (const [url, ms] of run) perUrl.set(url, [...(perUrl.get(url) ?? []), ms]);
  }
  const median = (values) => {
    const all = [...values, ...Array(n - values.length).fill(0)].sort((a, b) => a - b);
    return all[Math.floor(all.length / 2)];
  };
  return new Map([...perUrl].map(([url, values]) => [url, median(values)]));
}

/** The modules a node command line loads (with the hook) and the built-ins in process.moduleLoadList. */
function graphOf(nodeArgs) {
  const out = path.join(scratch, 'graph.json');
  spawnSync(process.execPath, ['--import', hook, ...nodeArgs], { env: { ...process.env, MODULE_GRAPH_OUT: out }, stdio: 'ignore' });
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

function kindOf(url) {
  if (url.startsWith('node:')) return 'builtin';
  return url.includes('/node_modules/') ? 'npm' : 'podns';
}

function shortName(url) {
  if (url.startsWith('node:')) return url;
  const file = fileURLToPath(url);
  return path.relative(project, file);
}

function fmt(x) {
  return (typeof x === 'number' ? x : x.median).toFixed(1);
}

function fmt1(x) {
  return x.toFixed(2);
}

function HOOK_SOURCE() {
  // Runs inside the measured process: no ESM import of its own (an ESM import of node:fs loads more built-ins).
  return `const module = process.getBuiltinModule('node:module');
const fs = process.getBuiltinModule('node:fs');
const modules = [];
module.registerHooks({
  load(url, context, nextLoad) {
    const result = nextLoad(url, context);
    modules.push({ url, at: process.uptime() * 1000 });
    return result;
  },
});
process.on('exit', () => {
  fs.writeFileSync(process.env.MODULE_GRAPH_OUT, JSON.stringify({ modules, builtins: process.moduleLoadList }));
});
`;
}
