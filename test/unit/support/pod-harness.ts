/**
 * One pod under a pod manager and a runtime service on the fake kernel, in a temp root: the PodSpecFile `podns run`
 * would write (network mode none, no cgroup plan, seccomp Unconfined unless the manifest names a profile, images
 * that exist only as records), the pod's paths (its netns pin inside the temp root too), and the supervisor's
 * pieces. Time is vitest's fake clock (setTimeout and Date: the pod manager's clock and the runtime's stop grace
 * alike, and the runtime's timestamps that the back-off reads); exits and I/O come on real turns of the event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { vi } from 'vitest';
import type { ImageRecord } from '../../../src/image/types.js';
import { PodManager, type Clock } from '../../../src/kubelet/pod-manager.js';
import { readPodStatus } from '../../../src/kubelet/pod-view.js';
import { silentLogger } from '../../../src/log.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';
import type { PodManifest } from '../../../src/manifest/types.js';
import { planProcess } from '../../../src/runtime/container-plan.js';
import { RuntimeService } from '../../../src/runtime/runtime-service.js';
import { readEvents } from '../../../src/state/events.js';
import { podPaths, type PodPaths } from '../../../src/state/paths.js';
import type { ContainerStatusRecord, PodSpecFile } from '../../../src/state/pod-state.js';
import { FakeKernel } from './fake-kernel.js';

/** Taken before a test installs fake timers: waits for I/O and exits on real turns of the event loop, in real time. */
const realSetImmediate = globalThis.setImmediate;
const realHrtime = process.hrtime.bigint;

/** What is faked: timers and Date. setImmediate, nextTick and I/O stay real, so pipes, logs and exits flow. */
export function useFakeTime(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: Date.parse('2030-01-01T00:00:00Z') });
}

/**
 * Resolves once `condition` holds, checked on each real turn of the event loop (pipes drain, logs close, exits
 * arrive between turns); fails after `limitMs` of real time, naming what it waited for.
 */
export async function until(condition: () => boolean, what: string, limitMs = 2000): Promise<void> {
  const deadline = realHrtime() + BigInt(limitMs) * 1_000_000n;
  while (!condition()) {
    if (realHrtime() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => realSetImmediate(resolve));
  }
}

/** A few real turns of the event loop: whatever was about to happen (an exit, a write) has happened. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => realSetImmediate(resolve));
}

/** Fake time passes (timers due run in order), then the I/O they started settles. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

/** The pod manager's clock for one supervisor: the fake timers, all cancelled when that supervisor dies. */
export class SupervisorClock implements Clock {
  private readonly pending = new Set<NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, ms);
    this.pending.add(handle);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as NodeJS.Timeout);
    clearTimeout(handle as NodeJS.Timeout);
  }

  /** Its process is gone: none of its timers fires. */
  stop(): void {
    for (const handle of this.pending) clearTimeout(handle);
    this.pending.clear();
  }
}

/** An image that exists only as its record (the fake kernel runs nothing from it); a test may change its config. */
const image = (name: string, id: string): ImageRecord => ({ name, id, layers: [], config: { Cmd: ['/bin/app'] }, created: '2030-01-01T00:00:00Z', size: 0 });

export class PodHarness {
  readonly kernel = new FakeKernel();
  readonly root: string;
  readonly paths: PodPaths;
  readonly spec: PodSpecFile;
  runtime!: RuntimeService;
  clock!: SupervisorClock;
  pod!: PodManager;

  /** `manifest`: one Pod in YAML, as a user writes it. */
  constructor(manifest: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-pod-manager-'));
    const pod = parseManifests('pod.yaml', manifest).pods[0]!;
    pod.spec.securityContext.seccompProfile ??= { type: 'Unconfined' };
    const uid = 'uid-1';
    const roots = { run: path.join(this.root, 'run'), lib: path.join(this.root, 'lib'), log: path.join(this.root, 'log'), etc: path.join(this.root, 'etc') };
    const id = pod.metadata.name;
    this.paths = { ...podPaths(roots, id, `${pod.metadata.namespace}_${id}_${uid}`), netnsPin: path.join(this.root, 'netns', id) };
    fs.mkdirSync(this.paths.runDir, { recursive: true, mode: 0o700 });
    const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
    this.spec = {
      pod,
      uid,
      images: Object.fromEntries(containers.map((c) => [c.name, image(`docker.io/library/${c.image}`, `sha256:${c.name}`)])),
      processes: Object.fromEntries(containers.map((c) => [c.name, planProcess(pod.spec, c, image(c.image, c.name), id, { pod: id, container: c.name })])),
      network: { mode: 'none', bridge: 'podns0', subnet: '10.89.0.0/16', gateway: '10.89.0.1', cniConfDir: '', cniBinDirs: [], clusterDomain: 'cluster.local' },
      infra: 'pause',
    };
    this.startSupervisor();
    this.pod = this.manager();
    this.pod.save();
  }

  get manifest(): PodManifest {
    return this.spec.pod;
  }

  /** The container's status as the pod manager records it. */
  container(name: string): ContainerStatusRecord {
    const found = [...(this.pod.status.initContainers ?? []), ...this.pod.status.containers].find((c) => c.name === name);
    if (!found) throw new Error(`no container ${name}`);
    return found;
  }

  /** The events of the pod, as `reason container` (or `reason` for the pod's own). */
  events(): string[] {
    return readEvents(this.paths.eventsFile).map((e) => `${e.reason}${e.object.includes('/', 4) ? ` ${e.object.split('/')[2]}` : ''}`);
  }

  /**
   * The supervisor dies and a new one takes the pod over, as `podns serve` does after a crash: its timers and exit
   * watches are gone; a new runtime service and a pod manager made from status.json adopt the pod. `meanwhile` runs
   * between the two (what happens while no supervisor runs).
   */
  takeOver(meanwhile?: () => void): PodManager {
    this.clock.stop();
    this.kernel.supervisorDied();
    meanwhile?.();
    this.startSupervisor();
    this.pod = this.manager(readPodStatus(this.paths.runDir));
    this.pod.adopt();
    return this.pod;
  }

  dispose(): void {
    this.clock.stop();
    this.kernel.dispose();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  private startSupervisor(): void {
    this.clock = new SupervisorClock();
    this.runtime = new RuntimeService({ kernel: this.kernel, log: silentLogger, libRoot: path.join(this.root, 'lib'), procRoot: this.kernel.procRoot });
  }

  private manager(recorded?: ReturnType<typeof readPodStatus>): PodManager {
    return new PodManager({ runtime: this.runtime, kernel: this.kernel, paths: this.paths, spec: this.spec, log: silentLogger, clock: this.clock }, recorded);
  }
}
