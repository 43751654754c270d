/**
 * The cost of pod networking (issue 5): `podns run` of a one-container pod with network mode none against
 * bridge mode, interleaved so machine noise hits both alike, and the time of each `ip`/`nft` call the bridge
 * mode makes (the veth, the pod's address and route, a hostPort). Everything runs in a network namespace of
 * the bench's own; nothing touches the host's network. Part `network` of `npm run bench`, or alone:
 * `node dist/bench/network-bench.js [--runs N]`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { series, type Series } from './stats.js';
import { formatMs, formatTable } from './table.js';
import { timed } from './spawn-timed.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const podnsBin = path.join(projectRoot, 'bin', 'podns');
const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';

function manifest(name: string, hostPort?: number): string {
  const ports = hostPort ? `\n    ports: [{containerPort: 80, hostPort: ${hostPort}}]` : '';
  return `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - name: c\n    image: yauritux/busybox-curl\n    command: [sleep, "3600"]${ports}\n`;
}

export interface NetworkResult {
  runs: number;
  /** `podns run` of a one-container pod, network mode none / bridge / bridge with one hostPort. */
  none: Series;
  bridge: Series;
  bridgeHostPort: Series;
  /** What bridge mode adds to a pod start (difference of medians). */
  addedByBridgeMs: number;
  addedByHostPortMs: number;
  /** Each ip/nft call bridge mode makes, timed alone. */
  calls: Record<string, Series>;
  targetAddedMs: number;
}

const TARGET_ADDED_MS = 50;

export async function runNetworkBench(runs = 10): Promise<NetworkResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-net-bench-'));
  // Apart from the main bench's namespace (podns-bench-<pid>): this part makes and removes its own.
  const netns = `podns-netbench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  const env = { ...process.env, PODNS_NODE: process.execPath };
  const inNs = (argv: string[]) => ['nsenter', `--net=/run/netns/${netns}`, ...argv];
  const podns = (args: string[], mode: string) => timed(inNs([podnsBin, '--root', root, ...args]), { ...env, PODNS_NETWORK_MODE: mode });
  const pods: string[] = [];
  try {
    execFileSync(podnsBin, ['--root', root, 'image', 'load', path.join(imageCache, 'busybox.tar')], { env, stdio: 'ignore' });
    const none: number[] = [];
    const bridge: number[] = [];
    const hostPort: number[] = [];
    const file = (name: string, port?: number) => {
      const f = path.join(root, `${name}.yaml`);
      fs.writeFileSync(f, manifest(name, port));
      return f;
    };
    // Warm-up: the bridge and the nft table are made by the first pod only; they are not a per-pod cost.
    for (const [mode, port] of [['none', undefined], ['bridge', undefined], ['bridge', 9000]] as [string, number | undefined][]) {
      const name = `warm-${mode}-${port ?? 0}`;
      const r = await podns(['run', file(name, port)], mode);
      if (r.code !== 0) throw new Error(`podns run (${mode}): ${r.stderr.trim()}`);
      await podns(['rm', '-f', name], mode);
    }
    for (let i = 0; i < runs; i++) {
      for (const [mode, sample, port] of [
        ['none', none, undefined],
        ['bridge', bridge, undefined],
        ['bridge', hostPort, 9100 + i],
      ] as [string, number[], number | undefined][]) {
        const name = `b${i}-${mode}-${port ?? 0}`;
        pods.push(name);
        const r = await podns(['run', file(name, port)], mode);
        if (r.code !== 0) throw new Error(`podns run (${mode}): ${r.stderr.trim()}`);
        sample.push(r.ms);
        await podns(['rm', '-f', name], mode);
        pods.pop();
      }
    }

    // The calls themselves, for a scratch netns attached to the bridge the warm-up made.
    const calls: Record<string, number[]> = { 'ip -batch (veth pair into the pod netns, master, up)': [], 'ip -n POD -batch (address, link up, default route)': [], 'nft -f (one hostPort element)': [], 'ip link del (veth pair)': [] };
    const run = (argv: string[], input?: string) => {
      const start = process.hrtime.bigint();
      execFileSync(argv[0]!, argv.slice(1), { input, stdio: ['pipe', 'ignore', 'pipe'] });
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    for (let i = 0; i < runs; i++) {
      const scratch = `${netns}-s`;
      execFileSync('ip', ['netns', 'add', scratch]);
      try {
        calls['ip -batch (veth pair into the pod netns, master, up)']!.push(
          run(inNs(['ip', '-batch', '-']), `link add name pnbench${i} type veth peer name eth0 netns ${scratch}\nlink set pnbench${i} master podns0 up\n`),
        );
        calls['ip -n POD -batch (address, link up, default route)']!.push(
          run(['ip', '-n', scratch, '-batch', '-'], 'addr add 10.99.0.2/16 dev eth0\nlink set eth0 up\nroute add default via 10.99.0.1 dev eth0\n'),
        );
        calls['nft -f (one hostPort element)']!.push(run(inNs(['nft', '-f', '-']), `add table ip benchtab\nadd map ip benchtab m { type inet_proto . inet_service : ipv4_addr . inet_service; }\ncreate element ip benchtab m { tcp . ${8000 + i} : 10.99.0.2 . 80 }\n`));
        calls['ip link del (veth pair)']!.push(run(inNs(['ip', 'link', 'del', `pnbench${i}`])));
      } finally {
        execFileSync('ip', ['netns', 'del', scratch]);
      }
    }

    const result: NetworkResult = {
      runs,
      none: series(none),
      bridge: series(bridge),
      bridgeHostPort: series(hostPort),
      addedByBridgeMs: 0,
      addedByHostPortMs: 0,
      calls: Object.fromEntries(Object.entries(calls).map(([what, xs]) => [what, series(xs)])),
      targetAddedMs: TARGET_ADDED_MS,
    };
    result.addedByBridgeMs = result.bridge.median - result.none.median;
    result.addedByHostPortMs = result.bridgeHostPort.median - result.none.median;
    return result;
  } finally {
    for (const pod of pods) execFileSync('nsenter', [`--net=/run/netns/${netns}`, podnsBin, '--root', root, 'rm', '-f', pod], { env, stdio: 'ignore' });
    // The root's supervisor (started by the first podns run) goes with the root.
    execFileSync('nsenter', [`--net=/run/netns/${netns}`, podnsBin, '--root', root, 'serve', '--stop'], { env, stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function renderNetwork(r: NetworkResult): string {
  const row = (label: string, x: Series, added?: number) => [label, formatMs(x.median), formatMs(x.min), formatMs(x.max), added === undefined ? '' : formatMs(added)];
  const rows = [
    row('podns run, network none', r.none, undefined),
    row('podns run, bridge (veth, address, route)', r.bridge, r.addedByBridgeMs),
    row('podns run, bridge + one hostPort', r.bridgeHostPort, r.addedByHostPortMs),
    ...Object.entries(r.calls).map(([what, x]) => row(`  ${what}`, x)),
  ];
  return (
    `pod networking: a one-container pod, ${r.runs} runs of each mode, in a network namespace of its own\n` +
    formatTable(['measurement (ms)', 'median', 'min', 'max', 'added'], rows, ['left', 'right', 'right', 'right', 'right']) +
    `target (issue 5): networking adds under ${r.targetAddedMs} ms to a pod start: ${r.addedByBridgeMs < r.targetAddedMs ? 'met' : 'MISSED'} (bridge), ${r.addedByHostPortMs < r.targetAddedMs ? 'met' : 'MISSED'} (with a hostPort)\n`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const i = process.argv.indexOf('--runs');
  runNetworkBench(i > 0 ? Number(process.argv[i + 1]) : 10).then(
    (result) => process.stdout.write(renderNetwork(result)),
    (err) => {
      process.stderr.write(`network bench: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
