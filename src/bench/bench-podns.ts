/**
 * The podns the bench drives: this checkout's bin/podns with a temp --root, in the bench's network namespace,
 * on the very Node binary the bench runs on (PODNS_NODE), so `node -e 0` and podns start the same binary.
 * It remembers every pod it was asked to run until it is removed, for the clean-up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NetworkMode } from './args.js';
import type { BenchNetns } from './bench-netns.js';
import { benchManifest } from './manifest-variant.js';
import { describe, timed, type Done } from './spawn-timed.js';
import { projectPath } from '../sys/project-path.js';
import { podPaths, resolveRoots } from '../state/paths.js';

export const podnsBin = projectPath('bin/podns');
const seedManifestFile = projectPath('examples/nginx-busybox.yaml');
const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';

/** Set by the signal handler: every further step is refused, so the bench goes straight to its clean-up. */
export const interruption: { signal?: NodeJS.Signals } = {};

export class BenchPodns {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  /** Pods `podns run` was started for and not yet removed. */
  readonly pods = new Set<string>();
  /** Unique to this bench run: pod names (and so /run/netns pins) never collide with anyone else's. */
  readonly suffix = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  private readonly seedYaml = fs.readFileSync(seedManifestFile, 'utf8');

  constructor(
    readonly netns: BenchNetns,
    readonly network: NetworkMode,
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-bench-'));
    fs.mkdirSync(path.join(this.root, 'manifests'));
    const env: NodeJS.ProcessEnv = { ...process.env, PODNS_NODE: process.execPath };
    // bridge is podns's default: the bench leaves the choice to podns rather than naming it.
    delete env.PODNS_NETWORK_MODE;
    if (network === 'none') env.PODNS_NETWORK_MODE = 'none';
    this.env = env;
  }

  /** A timed command in the bench's network namespace; refused once interrupted. */
  run(argv: string[], timeoutMs?: number): Promise<Done> {
    if (interruption.signal) return Promise.reject(new Error(`interrupted (${interruption.signal})`));
    return timed(this.netns.wrap(argv), this.env, timeoutMs);
  }

  async runOk(argv: string[], timeoutMs?: number): Promise<Done> {
    const r = await this.run(argv, timeoutMs);
    if (r.code !== 0) throw new Error(describe(argv, r));
    return r;
  }

  podns(args: string[], timeoutMs?: number): Promise<Done> {
    return this.run([podnsBin, '--root', this.root, ...args], timeoutMs);
  }

  async podnsOk(args: string[], timeoutMs?: number): Promise<Done> {
    const r = await this.podns(args, timeoutMs);
    if (r.code !== 0) throw new Error(describe(['podns', ...args], r));
    return r;
  }

  async loadImages(): Promise<void> {
    for (const f of ['busybox.tar', 'nginx.tar']) await this.podnsOk(['image', 'load', path.join(imageCache, f)]);
  }

  /** Where podns pins this pod's network namespace (the bench's pods are in namespace default: id = name). */
  netnsPin(pod: string): string {
    return podPaths(resolveRoots(this.root), pod, '').netnsPin;
  }

  get runDir(): string {
    return resolveRoots(this.root).run;
  }

  get libRoot(): string {
    return resolveRoots(this.root).lib;
  }

  /** Writes the bench's variant of the article's pod under this name; returns the manifest's path. */
  manifest(pod: string): string {
    const file = path.join(this.root, 'manifests', `${pod}.yaml`);
    fs.writeFileSync(file, benchManifest(this.seedYaml, pod));
    return file;
  }

  /** `podns run` of the article's pod under this name, timed; the pod is remembered before the command starts. */
  async runPod(pod: string): Promise<Done> {
    const file = this.manifest(pod);
    this.pods.add(pod);
    const r = await this.podns(['run', file]);
    if (r.code !== 0) throw new Error(describe(['podns', 'run', file], r));
    return r;
  }

  /** `podns rm -f` of these pods in one command, timed; they are forgotten once it succeeds. */
  async removePods(pods: string[]): Promise<Done> {
    const r = await this.podns(['rm', '-f', ...pods], 120_000);
    if (r.code !== 0) throw new Error(describe(['podns', 'rm', '-f', ...(pods.length > 3 ? [pods[0]!, `... (${pods.length} pods)`] : pods)], r));
    for (const p of pods) this.pods.delete(p);
    return r;
  }
}
