/**
 * The supervisor: one object (and one process, `podns serve`) for every pod of a podns root. It owns the pods'
 * managers (the kubelet's part, one per pod), routes the control socket's requests to them, and at its start
 * adopts every pod a previous supervisor left running — their processes never depended on it: the pause holds
 * each pod's pipes and terminals (its fd store) and state on disk says the rest.
 *
 * Containment: every request and every adoption is handled per pod, its errors caught and answered or logged
 * for that pod alone; the requests that change a pod (stop, remove) are queued per pod so they never interleave.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PodnsError, UserError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Logger } from '../log.js';
import { readJsonIfExists, writeJsonAtomic } from '../state/atomic-file.js';
import { criSandboxPaths, podsRunDir, type PodPaths, type Roots } from '../state/paths.js';
import type { PodSpecFile, PodState, PodStatusRecord } from '../state/pod-state.js';
import { processRef } from '../runtime/proc.js';
import { RuntimeService } from '../runtime/runtime-service.js';
import { podProcessPids, removePodFromDisk, stopPodFromDisk } from '../kubelet/pod-teardown.js';
import { PodManager } from '../kubelet/pod-manager.js';
import { readPodStatus, readPodView } from '../kubelet/pod-view.js';
import type { AttachListener, ContainerIO } from '../runtime/container-io.js';
import type { StreamingServer } from '../cri/streaming/server.js';
import { decideAdoption } from './adoption.js';
import type { StreamRequest } from './protocol.js';
import type { CriRuntime } from '../cri/cri-runtime.js';
import type { CriServices } from '../cri/services.js';
import { readSandbox } from '../runtime/records.js';

type SpecFile = PodSpecFile & { paths: PodPaths };

interface PodEntry {
  pod: PodManager;
  /** A start in progress; stop and remove cancel it and wait until it is undone. */
  starting?: Promise<void>;
  /** The requests that change the pod, one after another. */
  queue: Promise<unknown>;
}

/** Why a pod found on disk is not adopted, for `podns info` and the log. */
export interface Unadopted {
  id: string;
  reason: string;
}

export class Supervisor {
  private readonly pods = new Map<string, PodEntry>();
  readonly unadopted: Unadopted[] = [];
  /** The runtime service every pod's manager drives (one per supervisor, as containerd's CRI plugin is one). */
  readonly runtime: RuntimeService;
  /** Made (and its modules loaded) on the first URL asked for: a supervisor nobody streams from pays nothing. */
  private streamingServer?: Promise<StreamingServer>;
  /** kubelet's side (the CRI), made when first needed: a CRI sandbox to adopt, or the first CRI connection. */
  private criRuntime?: Promise<CriRuntime>;
  /** CRI sandboxes found by adoptAll, adopted by adoptCriSandboxes (the CRI's modules load only then). */
  private readonly criToAdopt: string[] = [];

  constructor(
    readonly roots: Roots,
    private readonly kernel: Kernel,
    private readonly log: Logger,
  ) {
    this.runtime = new RuntimeService({ kernel, log, libRoot: roots.lib });
  }

  private manager(file: SpecFile, log: Logger, recorded?: PodStatusRecord): PodManager {
    return new PodManager({ runtime: this.runtime, kernel: this.kernel, paths: file.paths, spec: file, log }, recorded);
  }

  /** The pods it supervises now. */
  list(): PodState[] {
    return [...this.pods.values()].map((e) => e.pod.state);
  }

  /**
   * `podns run`: starts the pod whose spec.json is in `runDir`. Resolves once every container runs (or an init
   * container went into back-off); rejects, with everything undone, when the start fails or is cancelled.
   * `cancelled` settles when the client went away: the start is abandoned and undone as for `podns rm`.
   */
  async run(runDir: string, cancelled: Promise<void>): Promise<void> {
    const file = readJsonIfExists<SpecFile>(path.join(runDir, 'spec.json'));
    if (!file) throw new PodnsError('supervisor.run', `no spec.json in ${runDir}`);
    const id = file.paths.id;
    if (this.pods.has(id)) throw new UserError('EEXIST', `pod "${file.pod.metadata.name}" is already supervised`);
    const log = this.log.child({ pod: id });
    log.info('starting pod');
    let pod: PodManager;
    try {
      pod = this.manager(file, log);
      // state.json exists before anyone can ask about the pod.
      pod.save();
    } catch (err) {
      fs.rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    let settle!: () => void;
    const entry: PodEntry = { pod, starting: new Promise((resolve) => (settle = resolve)), queue: Promise.resolve() };
    this.pods.set(id, entry);
    pod.onStopped = () => this.forget(id, pod);
    void cancelled.then(() => entry.starting && pod.cancelStart('podns run was interrupted'));
    try {
      await pod.start();
      log.info('pod running');
    } catch (err) {
      log.error('start failed', { error: err instanceof Error ? err.message : String(err) });
      await pod.abort().catch((e) => log.error('abort failed', { error: String(e) }));
      this.forget(id, pod);
      throw err;
    } finally {
      entry.starting = undefined;
      settle();
    }
  }

  status(id: string): PodState | undefined {
    return this.pods.get(id)?.pod.state;
  }

  /** `podns stop`: the whole pod (it is no longer supervised afterwards), or one container of it. */
  async stop(id: string, container: string | undefined, timeout: number | undefined): Promise<PodState | undefined> {
    const entry = this.pods.get(id);
    if (!entry && this.isCriSandbox(id)) throw new UserError('ECRI', `sandbox "${id}" is kubelet's: stop it through kubelet (or crictl stopp), which would start it again otherwise`);
    if (!entry) return this.unsupervised(id, 'stop');
    if (entry.starting) {
      if (container) throw new UserError('ESTARTING', 'it is still starting: stop the whole pod, or stop -c once it runs');
      entry.pod.cancelStart('podns stop');
      await entry.starting;
      return undefined;
    }
    return this.serialized(entry, async () => {
      const grace = timeout ?? entry.pod.gracePeriod;
      if (container) {
        await entry.pod.stopContainer(container, grace);
        return entry.pod.state;
      }
      await entry.pod.stopPod(grace);
      this.forget(id, entry.pod);
      return entry.pod.state;
    });
  }

  /** `podns rm`: stops the pod (SIGKILL with `force`) and deletes everything of it; from disk when not supervised. */
  async remove(id: string, force: boolean): Promise<void> {
    const entry = this.pods.get(id);
    if (!entry && this.isCriSandbox(id)) {
      // kubelet's pod (it may make it again): removed as RemovePodSandbox removes it, running or not only with -f.
      if (!force && this.runtime.podSandboxStatus(id).state === 'ready') throw new UserError('ERUNNING', `sandbox "${id}" is kubelet's and running: use rm -f (kubelet may start the pod again)`);
      await (await this.cri()).removePodSandbox({ pod_sandbox_id: id });
      return;
    }
    if (!entry) {
      await this.removeFromDisk(id, force);
      return;
    }
    if (entry.starting) {
      entry.pod.cancelStart('podns rm', force);
      await entry.starting;
      return;
    }
    await this.serialized(entry, async () => {
      if (!force && entry.pod.state.phase === 'Running') throw new UserError('ERUNNING', `pod "${entry.pod.state.name}" is running: stop it first, or use rm -f`);
      await entry.pod.remove(force);
      this.forget(id, entry.pod);
    });
  }

  attach(id: string, container: string, listener: AttachListener, stdin: boolean): { io: ContainerIO; leave: () => void } {
    const entry = this.pods.get(id);
    if (!entry) throw new UserError('ENOPOD', `pod "${id}" is not running`);
    return entry.pod.attach(container, listener, stdin);
  }

  /**
   * The streaming server of CRI's Exec, Attach and PortForward (src/cri/streaming), made on first use: the CRI
   * endpoint asks it for URLs by runtime ids, the control socket's `stream` op by pod and container names. Where it
   * listens and how long its tokens live: <etc>/cri.json (cri-settings.ts).
   */
  streaming(): Promise<StreamingServer> {
    this.streamingServer ??= Promise.all([import('../cri/streaming/server.js'), import('../cri/streaming/streaming-runtime.js'), import('../cri/cri-settings.js')]).then(
      ([{ StreamingServer }, { streamingRuntimeOf }, { loadCriSettings }]) => {
        const settings = loadCriSettings(this.roots.etc);
        return new StreamingServer(streamingRuntimeOf(this.runtime, this.kernel), {
          log: this.log.child({ part: 'streaming' }),
          address: settings.streamServerAddress,
          port: settings.streamServerPort,
          tokenTtlMs: settings.streamTokenTtlMs,
        });
      },
    );
    // A bad cri.json fails this request, not every later one: the next asks again.
    this.streamingServer.catch(() => (this.streamingServer = undefined));
    return this.streamingServer;
  }

  /** Stops the streaming server (its sessions' connections close), when it was started. */
  async closeStreaming(): Promise<void> {
    const server = await this.streamingServer?.catch(() => undefined);
    await server?.close();
  }

  /** The `stream` op: a URL for an exec, attach or port-forward session with a supervised pod's container. */
  async stream(request: StreamRequest): Promise<string> {
    const entry = this.pods.get(request.pod);
    if (!entry) throw new UserError('ENOPOD', `pod "${request.pod}" is not running`);
    const server = await this.streaming();
    if (request.kind === 'portforward') return server.getPortForward({ podSandboxId: request.pod, ports: request.ports });
    const state = entry.pod.state;
    const name = request.container ?? state.containers[0]?.name;
    const known = [...(state.initContainers ?? []), ...state.containers].some((c) => c.name === name);
    if (!known) throw new UserError('ENOCONTAINER', `pod "${state.name}" has no container "${name}"`);
    const run = this.runtime.listContainers(request.pod).find((c) => c.config.name === name && c.state === 'running');
    if (!run) throw new UserError('ENOTRUNNING', `pod "${state.name}": container "${name}" is not running`);
    const streams = { tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr };
    if (request.kind === 'attach') return server.getAttach({ containerId: run.id, ...streams });
    return server.getExec({ containerId: run.id, cmd: request.cmd ?? [], ...streams });
  }

  /**
   * Takes over every pod on disk that a dead supervisor left: its containers run on, their output waited in the
   * pipes the pause held. A pod that cannot be adopted is said why (and kept for `rm -f`); a pod whose sandbox
   * died meanwhile is stopped and marked Failed; a start that never wrote its state leaves only directories,
   * which go. One pod's failure never stops the others'.
   */
  adoptAll(): void {
    let ids: string[];
    try {
      ids = fs.readdirSync(podsRunDir(this.roots)).filter((id) => !id.startsWith('.'));
    } catch {
      return;
    }
    for (const id of ids) {
      try {
        this.adopt(id);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.unadopted.push({ id, reason });
        this.log.error('adoption failed', { pod: id, error: reason });
      }
    }
  }

  private adopt(id: string): void {
    const runDir = path.join(podsRunDir(this.roots), id);
    const file = readJsonIfExists<SpecFile>(path.join(runDir, 'spec.json'));
    if (!file) {
      // A sandbox kubelet made over the CRI has only the runtime's records; anything else is not a pod (podns gc
      // removes such leftovers).
      if (readSandbox(runDir)?.config.origin === 'cri') this.criToAdopt.push(id);
      return;
    }
    const state = readPodView(runDir, file.processes);
    const log = this.log.child({ pod: id });
    const decision = decideAdoption({ reservedBy: file.reservedBy, state }, process.pid);
    switch (decision.kind) {
      case 'leave':
        return;
      case 'remove':
        log.info('removing a pod whose start never began');
        for (const dir of [file.paths.runDir, file.paths.libDir, file.paths.logDir]) fs.rmSync(dir, { recursive: true, force: true });
        return;
      case 'lost':
        this.markLost(state!, file.paths, decision.reason);
        return;
      case 'sandbox-died':
        log.info('its sandbox died while no supervisor ran; stopping it');
        void this.stopDeadSandbox(file.paths, log);
        return;
      case 'adopt': {
        const pod = this.manager(file, log, readPodStatus(runDir));
        pod.onStopped = () => this.forget(id, pod);
        pod.adopt();
        this.pods.set(id, { pod, queue: Promise.resolve() });
      }
    }
  }

  /**
   * The CRI sandboxes adoptAll found: adopted by the CRI's runtime (kubelet is their pod manager; it relists and
   * finds them as they were). One that cannot be adopted is said why, as a pod is.
   */
  async adoptCriSandboxes(): Promise<void> {
    if (this.criToAdopt.length === 0) return;
    const cri = await this.cri();
    for (const id of this.criToAdopt.splice(0)) {
      try {
        const record = readSandbox(path.join(podsRunDir(this.roots), id))!;
        await cri.adopt(criSandboxPaths(this.roots, id, record.config.logDirectory));
        this.log.info('CRI sandbox adopted', { sandbox: id, pod: `${record.config.metadata.namespace}/${record.config.metadata.name}` });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.unadopted.push({ id, reason });
        this.log.error('CRI sandbox adoption failed', { sandbox: id, error: reason });
      }
    }
  }

  /** kubelet's runtime (CriRuntime), made once. */
  cri(): Promise<CriRuntime> {
    this.criRuntime ??= (async () => {
      const [{ CriRuntime }, { detectCgroups, parseProcCgroup, resolveCgroupParent }] = await Promise.all([import('../cri/cri-runtime.js'), import('../cgroup/layout.js')]);
      let cgroupHost;
      try {
        cgroupHost = detectCgroups(process.env.PODNS_CGROUP_ROOT ?? '/sys/fs/cgroup');
      } catch {
        cgroupHost = undefined;
      }
      const base = cgroupHost && process.env.PODNS_CGROUP_PARENT ? resolveCgroupParent(process.env.PODNS_CGROUP_PARENT, cgroupHost, parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'))) : undefined;
      return new CriRuntime({ roots: this.roots, runtime: this.runtime, log: this.log.child({ cri: true }), cgroupHost, cgroupBase: base, streaming: () => this.streaming() });
    })();
    return this.criRuntime;
  }

  /** What the CRI endpoint serves (its gRPC side loads these on its first connection). */
  async criServices(): Promise<CriServices> {
    const [cri, { CriImages }] = await Promise.all([this.cri(), import('../cri/cri-images.js')]);
    return { runtime: cri.handlers(), image: new CriImages(this.roots, this.log.child({ cri: true })).handlers() };
  }

  private isCriSandbox(id: string): boolean {
    return this.runtime.hasSandbox(id) && this.runtime.podSandboxStatus(id).config.origin === 'cri';
  }

  /** For `podns info`: whether the CRI is in use, and how many sandboxes kubelet has here. */
  criSandboxCount(): number {
    return this.runtime.listPodSandbox().filter((s) => s.config.origin === 'cri').length;
  }

  /** A pod that cannot be adopted: phase Unknown with the reason, kept on disk for `rm -f`. */
  private markLost(state: PodState, paths: PodPaths, reason: string): void {
    this.unadopted.push({ id: state.id, reason });
    this.updateStatus(paths, { phase: 'Unknown', reason: 'SupervisorLost', message: reason });
  }

  private updateStatus(paths: PodPaths, change: Partial<PodStatusRecord>): void {
    const status = readPodStatus(paths.runDir);
    if (status) writeJsonAtomic(paths.statusFile, { ...status, ...change });
  }

  /** The pause died while no supervisor ran: what is left of the pod goes, and it is Failed (kept for ps). */
  private async stopDeadSandbox(paths: PodPaths, log: Logger): Promise<void> {
    try {
      await stopPodFromDisk(this.kernel, paths);
      this.updateStatus(paths, { phase: 'Failed', reason: 'SandboxDied', message: 'The pod sandbox (its pause) died while no supervisor ran' });
    } catch (err) {
      log.error('stopping a dead sandbox failed', { error: String(err) });
    }
  }

  private unsupervised(id: string, verb: string): PodState | undefined {
    const runDir = path.join(podsRunDir(this.roots), id);
    const state = readPodView(runDir);
    if (!state) throw new UserError('ENOPOD', `pod "${id}" not found`);
    if (['Stopped', 'Failed', 'Succeeded'].includes(state.phase)) return state;
    throw new UserError('ELOST', `pod "${state.name}": cannot ${verb} it: ${state.message ?? 'no supervisor holds it'}`);
  }

  private async removeFromDisk(id: string, force: boolean): Promise<void> {
    const runDir = path.join(podsRunDir(this.roots), id);
    const file = readJsonIfExists<SpecFile>(path.join(runDir, 'spec.json'));
    if (!file) throw new UserError('ENOPOD', `pod "${id}" not found`);
    if (!force && podProcessPids(runDir).length > 0) {
      const status = readPodStatus(runDir);
      throw new UserError('ERUNNING', `pod "${file.pod.metadata.name}": processes of it are left (${status?.message ?? 'not supervised'}); use rm -f`);
    }
    await removePodFromDisk(this.kernel, file.paths);
  }

  private serialized<T>(entry: PodEntry, op: () => Promise<T>): Promise<T> {
    const next = entry.queue.then(op, op);
    entry.queue = next.catch(() => undefined);
    return next;
  }

  /** The pod is no longer supervised (stopped, removed, or its start undone); the runtime forgets its sandbox. */
  private forget(id: string, pod: PodManager): void {
    if (this.pods.get(id)?.pod !== pod) return;
    this.pods.delete(id);
    this.runtime.release(id);
  }
}

/** This process as the owner recorded in each pod's state. */
export function supervisorRef(): { pid: number; startTime: number } {
  return processRef(process.pid) ?? { pid: process.pid, startTime: 0 };
}
