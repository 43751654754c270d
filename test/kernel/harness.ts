/**
 * Shared setup for the kernel tests. They need root, the native build (build/Release), the compiled CLI
 * (dist/) and the test images (scripts/build-test-images.sh). Locally a missing requirement skips the suite
 * with the reason printed; under CI (CI=true) it fails instead, because a skipped kernel test in CI is a bug.
 *
 * Each test file gets its own podns root (--root) in a temp dir, so state, images and logs never mix with a
 * real installation, and every pod name carries a per-run suffix.
 */
import { execa, type Result } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { detectCgroups, parseProcCgroup, resolveCgroupParent } from '../../src/cgroup/layout.js';
import { NETNS_DIR, netnsPinName, netnsPinPath, netnsPinPrefix, resolveRoots } from '../../src/state/paths.js';
import { skipWithout } from '../requirements.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const podnsBin = path.join(projectRoot, 'bin', 'podns');
export const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';

function missingRequirements(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const f of ['build/Release/podns.node', 'build/Release/pause', 'dist/cli/main.js']) {
    if (!fs.existsSync(path.join(projectRoot, f))) missing.push(`${f} (npm run build)`);
  }
  for (const f of ['busybox.tar', 'nginx.tar']) {
    if (!fs.existsSync(path.join(imageCache, f))) missing.push(`${imageCache}/${f} (scripts/build-test-images.sh)`);
  }
  return missing;
}

/** `describe.skipIf(kernelSkip)`; the reason is printed once (and under CI the file fails instead). */
export const kernelSkip = skipWithout('kernel tests', missingRequirements());

const suffix = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;
/**
 * Every pod's cgroups go below this test process's own cgroup in each hierarchy (memory is at /process_api/<id>
 * here, the other v1 controllers at /): podns resolves a relative parent against its caller's cgroup.
 */
process.env.PODNS_CGROUP_PARENT ??= `podns-kt-${suffix}`;

/** The cgroup parent's directory in each hierarchy (v1: one per controller). */
export function testCgroupParents(): string[] {
  const host = detectCgroups(process.env.PODNS_CGROUP_ROOT ?? '/sys/fs/cgroup');
  const parents = resolveCgroupParent(process.env.PODNS_CGROUP_PARENT!, host, parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8')));
  return Object.entries(parents).map(([h, p]) => path.join(host.mounts[h]!, p));
}

/** Removes a cgroup and the cgroups below it, deepest first (rmdir: only empty ones go); `seen` is told each below. */
function removeCgroupTree(dir: string, seen: (below: string) => void = () => {}): void {
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    if (d !== dir) seen(d);
    fs.rmdirSync(d);
  };
  walk(dir);
}

/** Pod cgroups left below the test's cgroup parent (reported), removed, then the parent itself. */
export function removeTestCgroups(): string[] {
  const leaks: string[] = [];
  for (const dir of testCgroupParents()) {
    if (!fs.existsSync(dir)) continue;
    try {
      removeCgroupTree(dir, (d) => leaks.push(`cgroup ${d}`));
    } catch (err) {
      leaks.push(`cgroup ${dir}: ${(err as Error).message}`);
    }
  }
  return leaks;
}

/**
 * The cgroup parents of earlier test runs whose process is gone (killed before their afterAll: a timeout, a
 * Ctrl-C), removed while empty, so that a killed run leaves nothing for long: `podns-kt-<pid base36><3 chars>`
 * beside this run's own parent. A live run's, and one with a process left in it, are left alone.
 */
function removeStaleTestCgroups(): void {
  for (const base of new Set(testCgroupParents().map((dir) => path.dirname(dir)))) {
    for (const name of fs.existsSync(base) ? fs.readdirSync(base) : []) {
      const m = /^podns-kt-([0-9a-z]+)[0-9a-z]{3}$/.exec(name);
      if (!m || fs.existsSync(`/proc/${parseInt(m[1]!, 36)}`)) continue;
      try {
        removeCgroupTree(path.join(base, name));
      } catch {
        // a process still in it, or another run removing it: left as it is
      }
    }
  }
}
if (!kernelSkip) removeStaleTestCgroups();

// Also for test files that run podns without createPodns (walkthrough.test.ts): the parent goes after each file.
afterAll(() => {
  if (kernelSkip) return;
  const leaks = removeTestCgroups();
  if (leaks.length) throw new Error(`podns left cgroups behind:\n${leaks.join('\n')}`);
});

/** A pod name unique to this run. */
export function podName(base: string): string {
  return `${base}-${suffix}`;
}

export interface Podns {
  root: string;
  /** With `network: 'private'`: the test's own network namespace (a name in /run/netns) podns runs in. */
  netns: string;
  /** Runs a command where podns runs (that network namespace, or here): curl to a pod, ip, nft ...; never rejects. */
  inNetns(argv: string[], options?: { timeout?: number }): Promise<Result>;
  run(args: string[], options?: { input?: string; reject?: boolean; timeout?: number }): Promise<Result>;
  /** Runs and expects success; returns stdout. */
  ok(args: string[]): Promise<string>;
  /** Runs and expects failure; returns stderr. */
  fails(args: string[]): Promise<{ stderr: string; exitCode: number | undefined }>;
  writeManifest(name: string, yaml: string): string;
  dispose(): Promise<void>;
}

/**
 * `images: false` starts with an empty store. `pull: URL` gets the two test images by `podns pull` through a
 * mirror (docker.io → URL, upstream off: see registry-support.ts startRegistry/pushArchive) instead of loading
 * the archives.
 */
export async function createPodns(options: { images?: boolean; pull?: string; network?: 'none' | 'private' } = {}): Promise<Podns> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-kt-'));
  // Pods never touch the host's network: by default they get loopback only (network mode none); with
  // `network: 'private'` every podns command runs in a network namespace of the test's own, where podns makes
  // its bridge, veths, nft table and forwarding sysctls. (Registry tests serve from this process's loopback,
  // so they keep mode none.)
  const netns = `podns-kt-${path.basename(root).slice('podns-kt-'.length).toLowerCase()}`;
  const privateNet = options.network === 'private';
  if (privateNet) {
    await execa('ip', ['netns', 'add', netns]);
    await execa('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }
  const env = privateNet ? {} : { PODNS_NETWORK_MODE: 'none' };
  const run: Podns['run'] = (args, opts = {}) =>
    execa(privateNet ? 'nsenter' : podnsBin, [...(privateNet ? [`--net=/run/netns/${netns}`, podnsBin] : []), '--root', root, ...args], {
      env,
      reject: opts.reject ?? false,
      input: opts.input,
      timeout: opts.timeout ?? 60_000,
      stdin: opts.input === undefined ? 'ignore' : undefined,
    }) as Promise<Result>;
  const podns: Podns = {
    root,
    netns,
    inNetns: (argv, opts = {}) =>
      execa(privateNet ? 'nsenter' : argv[0]!, privateNet ? [`--net=/run/netns/${netns}`, ...argv] : argv.slice(1), {
        reject: false,
        timeout: opts.timeout ?? 30_000,
        stdin: 'ignore',
      }) as Promise<Result>,
    run,
    async ok(args) {
      const r = await run(args);
      if (r.exitCode !== 0) throw new Error(`podns ${args.join(' ')} failed (${r.exitCode}): ${r.stderr}`);
      return String(r.stdout);
    },
    async fails(args) {
      const r = await run(args);
      if (r.exitCode === 0) throw new Error(`podns ${args.join(' ')} succeeded but should have failed: ${r.stdout}`);
      return { stderr: String(r.stderr), exitCode: r.exitCode };
    },
    writeManifest(name, yaml) {
      const file = path.join(root, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return file;
    },
    async dispose() {
      // Anything a failed test left: remove by name, through podns itself, then check nothing is left.
      // The network namespace and the root go whatever happens, so one failing file cannot litter the host.
      const leaks: string[] = [];
      try {
        const pods = fs.existsSync(path.join(root, 'run', 'pods')) ? fs.readdirSync(path.join(root, 'run', 'pods')) : [];
        for (const pod of pods.filter((p) => !p.startsWith('.'))) await run(['rm', '-f', pod]);
        // The root's supervisor (started on demand by the first command) goes last; the pods would run on without it.
        const stop = await run(['serve', '--stop']);
        if (stop.exitCode !== 0) leaks.push(`podns serve --stop failed: ${stop.stderr}`);
        leaks.push(...findLeaks(root), ...(privateNet ? await findNetworkLeaks(netns, root) : []));
      } finally {
        // Pod cgroups left below the test's cgroup parent are leaks too; they are removed either way.
        if (!kernelSkip) leaks.push(...removeTestCgroups());
        if (privateNet) await execa('ip', ['netns', 'del', netns], { reject: false });
        fs.rmSync(root, { recursive: true, force: true });
      }
      if (leaks.length) throw new Error(`podns left behind:\n${leaks.join('\n')}`);
    },
  };
  if (options.pull !== undefined) {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'registries.json'), JSON.stringify({ mirrors: { 'docker.io': [options.pull] }, noUpstream: ['docker.io'] }));
  }
  if (options.images !== false && options.pull !== undefined) {
    await podns.ok(['pull', 'yauritux/busybox-curl']);
    await podns.ok(['pull', 'nginx']);
  } else if (options.images !== false) {
    await podns.ok(['image', 'load', path.join(imageCache, 'busybox.tar')]);
    await podns.ok(['image', 'load', path.join(imageCache, 'nginx.tar')]);
  }
  return podns;
}

/** Where podns pins the network namespace of pod `pod` (an id: the name in namespace default) of `root`. */
export function pinOf(root: string, pod: string): string {
  return netnsPinPath(resolveRoots(root), pod);
}

/** Everything a pod of this root could leave: mounts, netns pins, processes (its supervisor too), state directories. */
export function findLeaks(root: string, pods: string[] = []): string[] {
  const leaks: string[] = [];
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
  for (const m of mounts) if (m.startsWith(root)) leaks.push(`mount ${m}`);
  // The pods' pins, and any pin of this root (`podns-<root hash>-...`) whose pod has no run directory.
  const roots = resolveRoots(root);
  const podsDir = path.join(roots.run, 'pods');
  const owned = new Set((fs.existsSync(podsDir) ? fs.readdirSync(podsDir) : []).map((id) => netnsPinName(roots, id)));
  const strays = (fs.existsSync(NETNS_DIR) ? fs.readdirSync(NETNS_DIR) : []).filter((n) => n.startsWith(netnsPinPrefix(roots)) && !owned.has(n));
  for (const pin of new Set([...pods.map((pod) => pinOf(root, pod)), ...strays.map((n) => path.join(NETNS_DIR, n))])) {
    if (fs.existsSync(pin)) leaks.push(`netns pin ${pin}`);
    if (mounts.includes(pin)) leaks.push(`mount ${pin}`);
  }
  for (const pod of pods) {
    for (const dir of ['run', 'lib'].map((d) => path.join(root, d, 'pods', pod))) if (fs.existsSync(dir)) leaks.push(`dir ${dir}`);
  }
  // The root's supervisor serves every pod of the root and lives on between pods: it is a leak only once it
  // was asked to stop (then its pid file is gone; dispose checks that).
  const supervisor = supervisorPid(root);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === supervisor) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmdline.includes(root)) leaks.push(`process ${entry}: ${cmdline}`);
  }
  return leaks;
}

/** The pid in the root's supervisor.pid, while that file exists. */
export function supervisorPid(root: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(root, 'run', 'supervisor.pid'), 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/** SIGKILLs the root's supervisor (started on demand by this test's podns commands) and waits until it is dead. */
export async function killSupervisor(root: string): Promise<number> {
  const pid = supervisorPid(root);
  if (!pid) throw new Error(`no supervisor.pid under ${root}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      return true;
    }
  }, 5000, `the supervisor (pid ${pid}) to die`);
  return pid;
}

/** What pods could leave in the test's network namespace: pod veths, published ports, address leases. */
export async function findNetworkLeaks(netns: string, root: string): Promise<string[]> {
  const leaks: string[] = [];
  const links = await execa('ip', ['-n', netns, '-o', 'link'], { reject: false });
  for (const line of String(links.stdout).split('\n')) {
    const name = line.split(': ')[1]?.split('@')[0];
    if (name && /^pn[0-9a-f]{6,}$/.test(name)) leaks.push(`veth ${name}`);
  }
  const nft = await execa('nsenter', [`--net=/run/netns/${netns}`, 'nft', 'list', 'table', 'ip', 'podns'], { reject: false });
  if (nft.exitCode === 0 && /elements = /.test(String(nft.stdout))) leaks.push('nft hostport elements');
  const leasesRoot = path.join(root, 'lib', 'network');
  if (fs.existsSync(leasesRoot)) {
    for (const bridge of fs.readdirSync(leasesRoot)) {
      const dir = path.join(leasesRoot, bridge, 'leases');
      if (fs.existsSync(dir)) for (const ip of fs.readdirSync(dir)) leaks.push(`lease ${bridge}/${ip}`);
    }
  }
  return leaks;
}

export interface ProcessInfo {
  pid: number;
  ns: Record<string, number>;
}

export function nsInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of ['net', 'ipc', 'uts', 'pid', 'mnt', 'cgroup']) out[kind] = fs.statSync(`/proc/${pid}/ns/${kind}`).ino;
  return out;
}

export interface InspectedPod {
  pause: { pid: number };
  netnsPin?: string;
  containers: { name: string; status: string; exitCode?: number; process?: { pid: number }; processes: { pid: number; podPid?: number; cmdline: string[] }[] }[];
  paths: { runDir: string; libDir: string; logDir: string; netnsPin: string };
}

export async function inspect(podns: Podns, pod: string): Promise<InspectedPod> {
  return JSON.parse(await podns.ok(['inspect', pod])) as InspectedPod;
}

export function seedManifest(name: string, shareProcessNamespace = true): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  shareProcessNamespace: ${shareProcessNamespace}
  containers:
  - name: nginx
    image: nginx
    volumeMounts:
    - {name: nginx-log, mountPath: /var/log/nginx}
    - {name: nginx-html, mountPath: /usr/share/nginx/html}
    ports: [{containerPort: 80}]
  - name: busybox
    image: yauritux/busybox-curl
    command: ["/bin/sh", "-c", "while true; do sleep 1h; done;"]
    volumeMounts:
    - {name: nginx-log, mountPath: /var/log/nginx}
  volumes:
  - {name: nginx-log, emptyDir: {}}
  - {name: nginx-html, emptyDir: {}}
`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the time is up. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
