/**
 * The CRI part (issue 13): podns's CRI endpoint as kubelet drives it, timed from a gRPC client built from the same
 * api.proto (in this process, as kubelet's is in its): RunPodSandbox with CNI bridge networking (the reference
 * plugins from /usr/lib/cni, in a network namespace of the bench's own), CreateContainer + StartContainer per
 * container (image present), ExecSync of `true`, and ListPodSandbox / ListContainers with N sandboxes (kubelet
 * relists every second). Each call's time is the gRPC round trip. Everything it makes is removed at the end,
 * and what was left is reported. Part `cri` of `npm run bench`, or alone: `node dist/bench/cri-bench.js [--runs N]`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCriPackage } from '../cri/grpc-server.js';
import { projectPath } from '../sys/project-path.js';
import { useOwnCgroupParent } from './cleanup.js';
import { series, type Series } from './stats.js';
import { formatMs, formatTable } from './table.js';

const podnsBin = projectPath('bin/podns');
const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';
const CNI_BIN = '/usr/lib/cni';

export interface CriBenchResult {
  runs: number;
  sandboxes: number;
  runPodSandbox: Series;
  createStartContainer: Series;
  execSyncTrue: Series;
  listPodSandbox: Series;
  listContainers: Series;
  /** What was left after everything was removed (empty: nothing). */
  leftovers: string[];
  targets: { runPodSandboxMs: number; createStartMs: number; listMs: number; execSyncMs: number };
}

const TARGETS = { runPodSandboxMs: 30, createStartMs: 25, listMs: 10, execSyncMs: 15 };

type Call = (method: string, request?: object) => Promise<any>;

async function timedCall(call: Call, method: string, request: object): Promise<{ ms: number; response: any }> {
  const t0 = process.hrtime.bigint();
  const response = await call(method, request);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, response };
}

function sandboxConfig(root: string, name: string) {
  const logDir = path.join(root, 'kubelet-logs', name);
  fs.mkdirSync(logDir, { recursive: true });
  return {
    metadata: { name, uid: `uid-${name}`, namespace: 'bench', attempt: 0 },
    hostname: name,
    log_directory: logDir,
    dns_config: { servers: ['10.96.0.10'], searches: ['bench.svc.cluster.local'], options: ['ndots:5'] },
    labels: { 'io.kubernetes.pod.name': name },
    linux: { cgroup_parent: `/kubepods/besteffort/pod${name}`, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

function containerConfig(name: string, image: string) {
  return { metadata: { name, attempt: 0 }, image: { image }, command: ['sleep', '3600'], log_path: `${name}/0.log`, linux: { security_context: { seccomp: { profile_type: 'RuntimeDefault' } } } };
}

export async function runCriBench(runs = 15, sandboxes = 100): Promise<CriBenchResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-cri-bench-'));
  const netns = `podns-cribench-${process.pid}`;
  const inNs = (argv: string[]) => ['nsenter', `--net=/run/netns/${netns}`, ...argv];
  const env = { ...process.env, PODNS_NODE: process.execPath };
  const podns = (args: string[]) => {
    const argv = inNs([podnsBin, '--root', root, ...args]);
    execFileSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const ids: string[] = [];
  let client: { runtime: grpc.Client; image: grpc.Client } | undefined;
  try {
    const confDir = path.join(root, 'net.d');
    fs.mkdirSync(confDir, { recursive: true });
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'cri.json'), JSON.stringify({ cniConfDir: confDir, cniBinDirs: [CNI_BIN] }));
    fs.writeFileSync(
      path.join(confDir, '10-bench.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'bench',
        plugins: [
          { type: 'bridge', bridge: 'cribench0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.98.0.0/16' }]], dataDir: path.join(root, 'ipam') } },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    podns(['image', 'load', path.join(imageCache, 'busybox.tar')]);
    podns(['serve', '--background']);
    const { RuntimeService, ImageService } = loadCriPackage();
    const address = `unix://${path.join(root, 'run', 'cri.sock')}`;
    client = { runtime: new RuntimeService(address, grpc.credentials.createInsecure()), image: new ImageService(address, grpc.credentials.createInsecure()) };
    const c = client;
    const call: Call = (method, request = {}) =>
      new Promise((resolve, reject) => (c.runtime as unknown as Record<string, Function>)[method]!(request, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    const image = await new Promise<any>((resolve, reject) => (c.image as unknown as Record<string, Function>).ImageStatus!({ image: { image: 'yauritux/busybox-curl' } }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    const imageId: string = image.image.id;

    // Warm-up: gRPC loads on the first connection; the bridge is made by the first sandbox.
    await call('Version', {});
    const run: number[] = [];
    const createStart: number[] = [];
    const exec: number[] = [];
    const warm = 2;
    for (let i = 0; i < sandboxes; i++) {
      const r = await timedCall(call, 'RunPodSandbox', { config: sandboxConfig(root, `cb${i}`) });
      ids.push(r.response.pod_sandbox_id);
      const created = await timedCall(call, 'CreateContainer', { pod_sandbox_id: r.response.pod_sandbox_id, config: containerConfig('sleeper', imageId) });
      const started = await timedCall(call, 'StartContainer', { container_id: created.response.container_id });
      if (i >= warm && run.length < runs) {
        run.push(r.ms);
        createStart.push(created.ms + started.ms);
      }
      if (i >= warm && exec.length < runs) {
        for (let k = 0; k < 1; k++) exec.push((await timedCall(call, 'ExecSync', { container_id: created.response.container_id, cmd: ['true'], timeout: '10' })).ms);
      }
    }
    // The relists with every sandbox running.
    const listSandboxes: number[] = [];
    const listContainers: number[] = [];
    for (let i = 0; i < warm + runs; i++) {
      const a = await timedCall(call, 'ListPodSandbox', {});
      const b = await timedCall(call, 'ListContainers', {});
      if (a.response.items.length !== sandboxes || b.response.containers.length !== sandboxes) throw new Error(`relist: ${a.response.items.length} sandboxes, ${b.response.containers.length} containers (expected ${sandboxes} each)`);
      if (i >= warm) {
        listSandboxes.push(a.ms);
        listContainers.push(b.ms);
      }
    }
    for (const id of ids.splice(0)) {
      await call('StopPodSandbox', { pod_sandbox_id: id });
      await call('RemovePodSandbox', { pod_sandbox_id: id });
    }
    const leftovers = [
      ...fs.readdirSync(path.join(root, 'run', 'pods')).map((p) => `sandbox dir ${p}`),
      ...fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m.startsWith(root))
        .map((m) => `mount ${m}`),
    ];
    const links = execFileSync('ip', ['-n', netns, '-o', 'link'], { encoding: 'utf8' });
    leftovers.push(...links.split('\n').filter((l) => / veth/.test(l)).map((l) => `veth ${l.split(': ')[1]?.split('@')[0]}`));
    return {
      runs,
      sandboxes,
      runPodSandbox: series(run),
      createStartContainer: series(createStart),
      execSyncTrue: series(exec),
      listPodSandbox: series(listSandboxes),
      listContainers: series(listContainers),
      leftovers,
      targets: TARGETS,
    };
  } finally {
    client?.runtime.close();
    client?.image.close();
    for (const id of ids) {
      try {
        podns(['rm', '-f', id]);
      } catch {
        // reported by the leftovers check when it matters
      }
    }
    try {
      podns(['serve', '--stop']);
    } catch {
      // no supervisor
    }
    // kubelet's pod cgroups (the sandboxes' parents), as kubelet would remove them.
    removeKubepods();
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The kubepods/ tree below the bench's cgroup parent in every hierarchy (empty by now). */
function removeKubepods(): void {
  const parent = process.env.PODNS_CGROUP_PARENT;
  if (!parent) return;
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    for (const base of findDirs(path.join('/sys/fs/cgroup', h), parent)) {
      const top = path.join(base, 'kubepods');
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
        fs.rmdirSync(d);
      };
      if (fs.existsSync(top)) walk(top);
    }
  }
}

/** Directories named `name` below `dir` (at most two levels down: the bench's parent sits below its own cgroup). */
function findDirs(dir: string, name: string, depth = 3): string[] {
  if (depth < 0 || !fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (e.name === name) out.push(path.join(dir, e.name));
    else out.push(...findDirs(path.join(dir, e.name), name, depth - 1));
  }
  return out;
}

export function renderCri(r: CriBenchResult): string {
  const t = r.targets;
  const verdict = (x: Series, max: number) => (x.median <= max ? 'met' : 'MISSED');
  const rows = [
    ['RunPodSandbox (CNI bridge)', r.runPodSandbox, t.runPodSandboxMs],
    ['CreateContainer + StartContainer', r.createStartContainer, t.createStartMs],
    ['ExecSync true', r.execSyncTrue, t.execSyncMs],
    [`ListPodSandbox (${r.sandboxes} sandboxes)`, r.listPodSandbox, t.listMs],
    [`ListContainers (${r.sandboxes} containers)`, r.listContainers, t.listMs],
  ].map(([label, x, max]) => [label as string, formatMs((x as Series).median), `${formatMs((x as Series).min)}–${formatMs((x as Series).max)}`, `≤ ${max} ms`, verdict(x as Series, max as number)]);
  return (
    `CRI: the gRPC endpoint as kubelet drives it, ${r.runs} samples each (in-process gRPC client; CNI bridge in a network namespace of its own)\n` +
    formatTable(['call (ms)', 'median', 'min–max', 'target', 'verdict'], rows, ['left', 'right', 'right', 'right', 'left']) +
    `left behind after removing the ${r.sandboxes} sandboxes: ${r.leftovers.length ? r.leftovers.join(', ') : 'nothing'}\n`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--runs');
  const j = process.argv.indexOf('--sandboxes');
  const cgroup = useOwnCgroupParent();
  try {
    process.stdout.write(renderCri(await runCriBench(i > 0 ? Number(process.argv[i + 1]) : 15, j > 0 ? Number(process.argv[j + 1]) : 100)));
  } finally {
    cgroup.remove();
  }
}
