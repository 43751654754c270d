/**
 * `npm run bench -- [options]` (args.ts): podns measured against the targets of issue 12, with the network
 * mode podns runs by default (bridge) unless `--network none` is asked for, and the mode printed.
 *
 * Parts, in this order (each selectable with --only/--skip):
 *   seed     the article's pod, one at a time: run → running, → nginx answers, exec, rm -f, the everyday
 *            commands, against the kernel floor and `node -e 0` in the same iterations (seed-part.ts)
 *   scale    N copies started one after another, memory with 1, 10 and N pods, ps with N pods, M concurrent
 *            runs with distinct addresses, one rm -f of all and what it leaves (scale-part.ts)
 *   pull     podns pull against skopeo + umoci, from a registry on loopback (pull-bench.ts)
 *   network  what pod networking adds to a pod start (network-bench.ts)
 *   cri      the CRI endpoint as kubelet drives it: RunPodSandbox, Create+StartContainer, ExecSync, the relists
 *            with N sandboxes (cri-bench.ts)
 *
 * The seed and scale parts run podns with a temp --root (the two test images loaded first), in a network
 * namespace the bench makes (bench-netns.ts: every podns command through nsenter, so nothing touches the
 * host's network), with a cgroup parent below the bench's own cgroup. Every pod, the namespace, the root and
 * the cgroup parent are removed at the end, on failure and on Ctrl-C. Supervision memory is counted whatever
 * process model podns has (supervision.ts) and the model found is printed. `--json` prints every part that
 * ran as one object (report.ts); otherwise the tables (render.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseBenchArgs, USAGE, type BenchArgs } from './args.js';
import { BenchNetns } from './bench-netns.js';
import { BenchPodns, interruption } from './bench-podns.js';
import { cleanupRoot, useOwnCgroupParent } from './cleanup.js';
import { findLeftovers } from './leftovers.js';
import { NginxProbe, PROBE_METHOD } from './nginx-probe.js';
import { buildReport, type RawResults } from './report.js';
import { renderReport } from './render.js';
import { runScalePart } from './scale-part.js';
import { seedIteration, type SeedIteration } from './seed-part.js';
import { live } from './spawn-timed.js';
import { sampleSupervision } from './supervision.js';
import { projectPath } from '../sys/project-path.js';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function preflight(args: BenchArgs): string | undefined {
  if (process.getuid?.() !== 0) return 'podns needs root (sudo npm run bench)';
  for (const f of ['dist/cli/main.js', 'dist/bench/http-probe.js', 'build/Release/podns.node', 'build/Release/pause']) {
    if (!fs.existsSync(projectPath(f))) return `${f} is missing (npm run build)`;
  }
  if (args.parts.includes('cri') && !fs.existsSync('/usr/lib/cni/bridge')) return 'the CNI reference plugins are not installed (containernetworking-plugins; needed by the cri part; --skip cri)';
  if (args.parts.includes('pull')) {
    for (const tool of ['docker-registry', 'skopeo', 'umoci']) {
      if (!process.env.PATH?.split(':').some((d) => fs.existsSync(`${d}/${tool}`))) return `${tool} is not installed (needed by the pull part; --skip pull)`;
    }
  }
  return undefined;
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${message(err)}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const refusal = preflight(args);
  if (refusal) {
    process.stderr.write(`bench: ${refusal}\n`);
    return 1;
  }
  const tty = !args.json && process.stderr.isTTY;
  const progress = (text: string) => tty && process.stderr.write(`\r\x1b[Kbench: ${text}`);
  const say = (text: string) => !args.json && process.stderr.write(`${tty ? '\r\x1b[K' : ''}bench: ${text}\n`);

  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    interruption.signal ??= sig;
    if (interrupts === 1) {
      process.stderr.write(`\nbench: ${sig}: stopping and cleaning up...\n`);
      for (const child of live) child.kill('SIGTERM');
    } else if (interrupts >= 3) {
      process.stderr.write('bench: giving up the clean-up; pods, the network namespace and the temp root may be left\n');
      process.exit(130);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  const cgroup = useOwnCgroupParent();
  const raw: RawResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      nodeBinary: process.execPath,
      kernel: os.release(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      network: args.network,
      netns: `podns-bench-${process.pid}`,
      parts: args.parts,
      runs: args.runs,
      warmup: args.warmup,
      manifest: "examples/nginx-busybox.yaml, renamed per pod, without the nginx-html emptyDir (nginx serves its image's index.html)",
      wrapper: `nsenter --net=/run/netns/podns-bench-${process.pid}`,
    },
    failures: [],
    cleanupProblems: [],
  };
  const partFailed = (part: string, err: unknown) => raw.failures.push(`${part}: ${message(err)}`);

  try {
    if (args.parts.includes('seed') || args.parts.includes('scale')) await podsParts(args, raw, cgroup.parent, { progress, say, partFailed });
    if (args.parts.includes('pull') && !interruption.signal) {
      say('pull part...');
      const { runPullBench } = await import('./pull-bench.js');
      raw.pull = await runPullBench(args.runs).catch((err) => void partFailed('pull', err));
    }
    if (args.parts.includes('network') && !interruption.signal) {
      say('network part...');
      const { runNetworkBench } = await import('./network-bench.js');
      raw.network = await runNetworkBench(args.runs).catch((err) => void partFailed('network', err));
    }
    if (args.parts.includes('cri') && !interruption.signal) {
      say(`cri part: ${args.pods} sandboxes over the CRI...`);
      const { runCriBench } = await import('./cri-bench.js');
      raw.cri = await runCriBench(args.runs, args.pods).catch((err) => void partFailed('cri', err));
      if (raw.cri?.leftovers.length) raw.cleanupProblems.push(...raw.cri.leftovers.map((l) => `cri part left ${l}`));
    }
  } finally {
    cgroup.remove();
  }
  if (interruption.signal && !raw.failures.some((f) => f.includes('interrupted'))) raw.failures.push(`interrupted (${interruption.signal})`);
  const report = buildReport(raw);
  process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
  if (interruption.signal) return 130;
  return raw.failures.length || raw.cleanupProblems.length ? 1 : 0;
}

interface Output {
  progress: (text: string) => void;
  say: (text: string) => void;
  partFailed: (part: string, err: unknown) => void;
}

/** The seed and scale parts: one root, one network namespace, both removed whatever happens. */
async function podsParts(args: BenchArgs, raw: RawResults, cgroupParent: string, out: Output): Promise<void> {
  let netns: BenchNetns | undefined;
  let podns: BenchPodns | undefined;
  let probe: NginxProbe | undefined;
  try {
    netns = BenchNetns.create(raw.meta.netns);
    podns = new BenchPodns(netns, args.network);
    const bench = podns;
    const ns = netns;
    out.say(`root ${bench.root}, network ${args.network} in ${ns.name}; loading images...`);
    await bench.loadImages();
    probe = await NginxProbe.start(args.network, netns);
    const exclude = new Set([process.pid, ...(probe.pid ? [probe.pid] : [])]);
    const scope = { root: bench.root, runDir: bench.runDir, cgroupParent, exclude };
    const sample = () => sampleSupervision(scope);

    if (args.parts.includes('seed')) {
      const iterations: SeedIteration[] = [];
      raw.seed = { iterations, probeMethod: PROBE_METHOD[args.network] };
      try {
        for (let i = 0; i < args.warmup + args.runs; i++) {
          const it = await seedIteration({ podns: bench, probe, sample }, i);
          if (i >= args.warmup) iterations.push(it);
          out.progress(`seed: ${i < args.warmup ? `warm-up ${i + 1}/${args.warmup}` : `run ${i - args.warmup + 1}/${args.runs}`}`);
        }
      } catch (err) {
        out.partFailed('seed', err);
      }
    }
    if (args.parts.includes('scale') && !interruption.signal) {
      out.say(`scale part: ${args.pods} sequential pods, ${args.concurrent} concurrent...`);
      try {
        raw.scale = await runScalePart(
          {
            podns: bench,
            sample,
            runs: args.runs,
            progress: out.progress,
            leftovers: (pods) => findLeftovers({ root: bench.root, netnsPins: pods.map((p) => bench.netnsPin(p)), netns: ns, cgroupParent, exclude }),
          },
          args.pods,
          args.concurrent,
        );
      } catch (err) {
        out.partFailed('scale', err);
      }
    }
  } catch (err) {
    out.partFailed('set-up', err);
  } finally {
    out.say('removing pods, the root and the network namespace...');
    probe?.close();
    if (podns && netns) {
      const ns = netns;
      raw.cleanupProblems.push(
        ...(await cleanupRoot({ root: podns.root, pods: [...podns.pods], env: podns.env, keep: args.keep, wrap: (argv) => ns.wrap(argv), exclude: new Set(probe?.pid ? [probe.pid] : []) })),
      );
    }
    raw.cleanupProblems.push(...(netns?.remove() ?? []));
  }
}

process.exitCode = await main();
