/**
 * runtime.v1's RuntimeService on podns's runtime service: kubelet is the pod manager of these sandboxes — podns
 * restarts nothing, probes nothing, runs no hook for them — and this class is what containerd's CRI plugin is
 * between kubelet and the runtime: ids (random, 64 hex digits), name reservation, the config translation
 * (sandbox-config.ts, container-config.ts), the statuses and filters (statuses.ts), the events.
 *
 * Only sandboxes made over the CRI are listed or touched here (their records say origin "cri"): kubelet would
 * take the pods of `podns run` for orphans and kill them. Calls that change a sandbox or its containers are
 * queued per sandbox, so kubelet's concurrent workers never interleave on one pod.
 */
import path from 'node:path';
import type { CgroupHost } from '../cgroup/layout.js';
import { findImageRecord } from '../image/image-records.js';
import type { Logger } from '../log.js';
import { cniConfFile } from '../network/cni-conflist.js';
import { ExecTimeout } from '../runtime/exec-sync.js';
import { readSandbox, type ContainerRecord, type SandboxRecord } from '../runtime/records.js';
import { isAlive } from '../runtime/proc.js';
import type { RuntimeService, SandboxWatcher } from '../runtime/runtime-service.js';
import { criSandboxPaths, imagesDir, type PodPaths, type Roots } from '../state/paths.js';
import { projectPath } from '../sys/project-path.js';
import { containerConfigOf, criLimits } from './container-config.js';
import { ContainerEvents, type ContainerEvent } from './container-events.js';
import { CriStats } from './cri-stats.js';
import { CriError, invalid, notFound } from './cri-error.js';
import type { StreamingServer } from './streaming/server.js';
import { criNetwork, loadCriSettings, type CriSettings } from './cri-settings.js';
import type { ContainerEventTypeName, ContainerStateName, PodSandboxConfig, PodSandboxStateName } from './messages.js';
import { sandboxConfigOf } from './sandbox-config.js';
import type { StreamHandler, UnaryHandler } from './services.js';
import { containerOf, containerStatusOf, idMatches, labelsMatch, nanos, podSandboxOf, podSandboxStatusOf } from './statuses.js';

/** What ExecSync keeps of each stream (the gRPC message limit is 16 MiB). */
const EXEC_SYNC_MAX_OUTPUT = 8 * 1024 * 1024;

export interface CriRuntimeOptions {
  roots: Roots;
  runtime: RuntimeService;
  log: Logger;
  /** The host's cgroups (undefined: none), as `podns run` detects them. */
  cgroupHost?: CgroupHost;
  /** Where kubelet's cgroup paths start in each hierarchy (PODNS_CGROUP_PARENT, resolved); the root by default. */
  cgroupBase?: Record<string, string>;
  /** The streaming server of Exec, Attach and PortForward, started by the first of them (the supervisor's). */
  streaming?: () => Promise<StreamingServer>;
}

/** A random id of 64 hex digits, as containerd's sandbox and container ids. */
function randomId(): string {
  return process.getBuiltinModule('node:crypto').randomBytes(32).toString('hex');
}

function reservation(meta: { name: string; namespace: string; uid: string; attempt: number }): string {
  return `${meta.name}_${meta.namespace}_${meta.uid}_${meta.attempt}`;
}

export class CriRuntime {
  readonly events = new ContainerEvents();
  private readonly stats = new CriStats();
  private readonly settings: CriSettings;
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Sandbox names (name_namespace_uid_attempt) taken, as containerd reserves them. */
  private readonly names = new Map<string, string>();
  private podCidr = '';

  constructor(private readonly options: CriRuntimeOptions) {
    this.settings = loadCriSettings(options.roots.etc);
  }

  private get runtime(): RuntimeService {
    return this.options.runtime;
  }

  // ---------------------------------------------------------------------------------------------------------
  // What the supervisor calls

  /**
   * A CRI sandbox a dead supervisor left: adopted like any other and watched by us; one whose pause died
   * meanwhile is torn down and kept NotReady, for kubelet to see and remove.
   */
  async adopt(paths: PodPaths): Promise<SandboxRecord> {
    const recorded = readSandbox(paths.runDir);
    const alive = recorded?.pause && isAlive(recorded.pause);
    const record = alive ? this.runtime.adoptSandbox(paths, this.watcher(paths.id)) : await this.runtime.adoptStoppedSandbox(paths);
    this.names.set(reservation(record.config.metadata), record.id);
    return record;
  }

  /** The sandboxes made over the CRI. */
  private sandboxes(): SandboxRecord[] {
    return this.runtime.listPodSandbox().filter((s) => s.config.origin === 'cri');
  }

  private sandbox(id: string): SandboxRecord {
    if (!id) throw invalid('pod_sandbox_id is required');
    const record = this.runtime.hasSandbox(id) ? this.runtime.podSandboxStatus(id) : undefined;
    if (!record || record.config.origin !== 'cri') throw notFound('sandbox', id);
    return record;
  }

  private container(id: string): ContainerRecord {
    if (!id) throw invalid('container_id is required');
    let record: ContainerRecord;
    try {
      record = this.runtime.containerStatus(id);
    } catch {
      throw notFound('container', id);
    }
    if (this.runtime.podSandboxStatus(record.sandboxId).config.origin !== 'cri') throw notFound('container', id);
    return record;
  }

  /** `lookup`'s record, or undefined when it answers NOT_FOUND (for the calls that are idempotent). */
  private found<T>(lookup: () => T): T | undefined {
    try {
      return lookup();
    } catch (err) {
      if (err instanceof CriError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  private serialized<T>(sandboxId: string, op: () => Promise<T>): Promise<T> {
    const next = (this.queues.get(sandboxId) ?? Promise.resolve()).then(op, op);
    const settled = next.catch(() => undefined);
    this.queues.set(sandboxId, settled);
    void settled.then(() => {
      if (this.queues.get(sandboxId) === settled) this.queues.delete(sandboxId);
    });
    return next;
  }

  private watcher(sandboxId: string): SandboxWatcher {
    return {
      containerExited: (record) => this.emit(record.id, 'CONTAINER_STOPPED_EVENT', sandboxId),
      // The pause's exit, as containerd reports its sandbox container's (PLEG then sees the sandbox NotReady).
      sandboxDied: () => this.emit(sandboxId, 'CONTAINER_STOPPED_EVENT', sandboxId),
    };
  }

  private emit(containerId: string, type: ContainerEventTypeName, sandboxId: string): void {
    if (this.events.subscriberCount === 0) return;
    let sandbox: SandboxRecord | undefined;
    try {
      sandbox = this.runtime.hasSandbox(sandboxId) ? this.runtime.podSandboxStatus(sandboxId) : undefined;
    } catch {
      sandbox = undefined;
    }
    const event: ContainerEvent = {
      container_id: containerId,
      container_event_type: type,
      created_at: (BigInt(Date.now()) * 1_000_000n).toString(),
      pod_sandbox_status: sandbox ? podSandboxStatusOf(sandbox) : null,
      containers_statuses: sandbox ? this.runtime.listContainers(sandboxId).map(containerStatusOf) : [],
    };
    this.events.emit(event);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The runtime itself

  version(): object {
    return { version: '0.1.0', runtime_name: 'podns', runtime_version: packageVersion(), runtime_api_version: 'v1' };
  }

  status(request: { verbose: boolean }): object {
    const conf = cniConfFile(this.settings.cniConfDir);
    const network = conf
      ? { type: 'NetworkReady', status: true, reason: '', message: '' }
      : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `Network plugin returns error: cni plugin not initialized (no CNI network config in ${this.settings.cniConfDir})` };
    return {
      status: { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, network] },
      info: request.verbose ? { config: JSON.stringify({ ...this.settings, cniConfFile: conf ?? null, podCidr: this.podCidr, cgroupDriver: 'cgroupfs' }) } : {},
      runtime_handlers: [{ name: '', features: { recursive_read_only_mounts: true, user_namespaces: true } }],
      features: { supplemental_groups_policy: true, user_namespaces_host_network: false, mount_options: true },
    };
  }

  runtimeConfig(): object {
    return { linux: { cgroup_driver: 'CGROUPFS' } };
  }

  /** The pod CIDR kubelet learnt from its node: kept and shown by Status (the CNI config decides addresses). */
  updateRuntimeConfig(request: { runtime_config: { network_config: { pod_cidr: string } | null } | null }): object {
    const cidr = request.runtime_config?.network_config?.pod_cidr ?? '';
    if (cidr && cidr !== this.podCidr) this.options.log.info('CRI: pod CIDR', { cidr });
    this.podCidr = cidr;
    return {};
  }

  // ---------------------------------------------------------------------------------------------------------
  // Sandboxes

  async runPodSandbox(request: { config: PodSandboxConfig | null; runtime_handler: string }): Promise<object> {
    const config = request.config;
    if (!config) throw invalid('config is required');
    if (request.runtime_handler) throw invalid(`runtime handler "${request.runtime_handler}" is unknown (podns has only the default one)`);
    const meta = config.metadata;
    if (!meta?.name || !meta.namespace || !meta.uid) throw invalid('config.metadata: name, namespace and uid are required');
    const key = reservation(meta);
    const taken = this.names.get(key);
    if (taken) throw new CriError('ALREADY_EXISTS', `the sandbox name "${key}" is reserved for "${taken}"`);
    const id = randomId();
    const sandboxConfig = sandboxConfigOf(id, config, { cgroupHost: this.options.cgroupHost, cgroupBase: this.options.cgroupBase, network: criNetwork(this.settings) });
    const paths = criSandboxPaths(this.options.roots, id, config.log_directory);
    this.names.set(key, id);
    return this.serialized(id, async () => {
      try {
        // Its run directory is where `podns ps` and a new supervisor find it (for `podns run` the CLI makes it).
        process.getBuiltinModule('node:fs').mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
        await this.runtime.runPodSandbox(sandboxConfig, paths, this.watcher(id));
      } catch (err) {
        // Nothing of a failed RunPodSandbox stays: kubelet will call it again.
        await this.runtime.removePodSandbox(id).catch((e) => this.options.log.error('CRI: undoing a failed RunPodSandbox failed', { sandbox: id, error: String(e) }));
        this.runtime.release(id);
        this.names.delete(key);
        throw err;
      }
      return { pod_sandbox_id: id };
    });
  }

  async stopPodSandbox(request: { pod_sandbox_id: string }): Promise<object> {
    const record = this.found(() => this.sandbox(request.pod_sandbox_id));
    // Idempotent (api.proto: it must not fail when the sandbox's resources are gone already), as containerd.
    if (!record) return {};
    await this.serialized(record.id, () => this.runtime.stopPodSandbox(record.id));
    return {};
  }

  async removePodSandbox(request: { pod_sandbox_id: string }): Promise<object> {
    const record = this.found(() => this.sandbox(request.pod_sandbox_id));
    // Idempotent: a sandbox removed already is removed.
    if (!record) return {};
    await this.serialized(record.id, async () => {
      const containers = this.runtime.listContainers(record.id).map((c) => c.id);
      await this.runtime.removePodSandbox(record.id);
      for (const id of containers) this.emit(id, 'CONTAINER_DELETED_EVENT', record.id);
      this.names.delete(reservation(record.config.metadata));
    });
    return {};
  }

  podSandboxStatus(request: { pod_sandbox_id: string; verbose: boolean }): object {
    const record = this.sandbox(request.pod_sandbox_id);
    return {
      status: podSandboxStatusOf(record),
      info: request.verbose ? { info: JSON.stringify({ pid: record.pause?.pid ?? 0, netnsPath: record.netnsPin ?? '', network: record.network ?? null, cgroups: record.cgroups ?? null, config: record.config }) } : {},
      containers_statuses: this.runtime.listContainers(record.id).map(containerStatusOf),
      timestamp: nanos(new Date().toISOString()),
    };
  }

  listPodSandbox(request: { filter: { id: string; state: { state: PodSandboxStateName } | null; label_selector: Record<string, string> } | null }): object {
    const f = request.filter;
    const items = this.sandboxes()
      .map(podSandboxOf)
      .filter((s) => idMatches(s.id, f?.id) && (!f?.state || s.state === f.state.state) && labelsMatch(s.labels, f?.label_selector));
    return { items };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Containers

  async createContainer(request: { pod_sandbox_id: string; config: import('./messages.js').ContainerConfig | null; sandbox_config: PodSandboxConfig | null }): Promise<object> {
    const sandbox = this.sandbox(request.pod_sandbox_id);
    const config = request.config;
    if (!config?.metadata?.name) throw invalid('config.metadata.name is required');
    if (!config.image?.image) throw invalid(`container "${config.metadata.name}": config.image.image is required`);
    if (sandbox.state !== 'ready') throw new CriError('FAILED_PRECONDITION', `sandbox "${sandbox.id}" is not ready: no container can be created in it`);
    if (config.linux?.security_context?.privileged && !sandbox.config.privileged) {
      // containerd's rule: kubelet marks the sandbox privileged when one of its containers is.
      throw invalid(`container "${config.metadata.name}": a privileged container, but its sandbox "${sandbox.id}" is not privileged`);
    }
    const image = findImageRecord(imagesDir(this.options.roots), config.image.image);
    if (!image) throw new CriError('NOT_FOUND', `container "${config.metadata.name}": image "${config.image.image}" is not present (PullImage it first)`);
    if (this.runtime.listContainers(sandbox.id).some((c) => c.config.name === config.metadata!.name && c.config.attempt === config.metadata!.attempt)) {
      throw new CriError('ALREADY_EXISTS', `container "${config.metadata.name}" attempt ${config.metadata.attempt} exists in sandbox "${sandbox.id}"`);
    }
    // As containerd: no log_path, no log file (crictl and critest send none); the output is still drained.
    const logPath = config.log_path ? path.join(sandbox.config.logDirectory, config.log_path) : '';
    const containerConfig = containerConfigOf({ config, image, logPath, userns: sandbox.userNamespace });
    const id = randomId();
    await this.serialized(sandbox.id, () => this.runtime.createContainer(sandbox.id, containerConfig, id));
    this.emit(id, 'CONTAINER_CREATED_EVENT', sandbox.id);
    return { container_id: id };
  }

  async startContainer(request: { container_id: string }): Promise<object> {
    const record = this.container(request.container_id);
    if (record.state !== 'created') throw new CriError('FAILED_PRECONDITION', `container "${record.id}" is ${record.state}: only a created container can be started`);
    if (this.runtime.podSandboxStatus(record.sandboxId).state !== 'ready') throw new CriError('FAILED_PRECONDITION', `container "${record.id}": its sandbox is not ready`);
    await this.serialized(record.sandboxId, () => this.runtime.startContainer(record.id));
    this.emit(record.id, 'CONTAINER_STARTED_EVENT', record.sandboxId);
    return {};
  }

  async stopContainer(request: { container_id: string; timeout: string }): Promise<object> {
    const record = this.found(() => this.container(request.container_id));
    // Idempotent, as StopPodSandbox: a container removed already is stopped.
    if (!record) return {};
    // Not queued: a stop must not wait behind a slow start of another container of the pod.
    await this.runtime.stopContainer(record.id, Number(request.timeout) * 1000);
    return {};
  }

  async removeContainer(request: { container_id: string }): Promise<object> {
    const record = this.found(() => this.container(request.container_id));
    if (!record) return {};
    await this.serialized(record.sandboxId, () => this.runtime.removeContainer(record.id));
    this.emit(record.id, 'CONTAINER_DELETED_EVENT', record.sandboxId);
    return {};
  }

  listContainers(request: { filter: { id: string; state: { state: ContainerStateName } | null; pod_sandbox_id: string; label_selector: Record<string, string> } | null }): object {
    const f = request.filter;
    const containers = this.sandboxes()
      .filter((s) => idMatches(s.id, f?.pod_sandbox_id))
      .flatMap((s) => this.runtime.listContainers(s.id))
      .map(containerOf)
      .filter((c) => idMatches(c.id, f?.id) && (!f?.state || c.state === f.state.state) && labelsMatch(c.labels, f?.label_selector));
    return { containers };
  }

  containerStatus(request: { container_id: string; verbose: boolean }): object {
    const record = this.container(request.container_id);
    return {
      status: containerStatusOf(record),
      info: request.verbose ? { info: JSON.stringify({ sandboxID: record.sandboxId, pid: record.process?.pid ?? 0, mntNs: record.mntNs ?? 0, config: record.config, dirs: record.dirs }) } : {},
    };
  }

  updateContainerResources(request: { container_id: string; linux: import('./messages.js').LinuxContainerResources | null }): object {
    const record = this.container(request.container_id);
    if (!request.linux) return {};
    this.runtime.updateContainerResources(record.id, criLimits(request.linux, record.config.process.confinement.privileged), request.linux);
    return {};
  }

  reopenContainerLog(request: { container_id: string }): object {
    const record = this.container(request.container_id);
    if (record.state !== 'running') throw new CriError('FAILED_PRECONDITION', `container "${record.id}" is not running`);
    if (!record.config.logPath) throw new CriError('FAILED_PRECONDITION', `container "${record.id}" has no log (it was created without log_path)`);
    this.runtime.reopenContainerLog(record.id);
    return {};
  }

  async execSync(request: { container_id: string; cmd: string[]; timeout: string }): Promise<object> {
    const record = this.container(request.container_id);
    if (request.cmd.length === 0) throw invalid('cmd is required');
    if (record.state !== 'running') throw new CriError('FAILED_PRECONDITION', `container "${record.id}" is not running`);
    let stdout: Buffer = Buffer.alloc(0);
    let stderr: Buffer = Buffer.alloc(0);
    try {
      const exitCode = await this.runtime.execSync(record.id, request.cmd, Number(request.timeout) * 1000, {
        streams: { maxBytes: EXEC_SYNC_MAX_OUTPUT, done: (out, err) => ((stdout = out), (stderr = err)) },
      });
      return { stdout, stderr, exit_code: exitCode };
    } catch (err) {
      if (err instanceof ExecTimeout) throw new CriError('DEADLINE_EXCEEDED', err.message);
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Streaming: each answers with a single-use URL on the streaming server (src/cri/streaming), where the client
  // (the API server, crictl, critest) then speaks remotecommand or port-forward. As containerd, what the session
  // will need is checked now: an unknown id is NOT_FOUND here, not a failure on the URL later.

  async exec(request: { container_id: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<object> {
    const record = this.container(request.container_id);
    if (record.state !== 'running') throw new CriError('FAILED_PRECONDITION', `container "${record.id}" is ${record.state}: only a running container can exec`);
    const url = await this.streamingCall((server) =>
      server.getExec({ containerId: record.id, cmd: request.cmd, tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr }),
    );
    return { url };
  }

  async attach(request: { container_id: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<object> {
    const record = this.container(request.container_id);
    if (record.state !== 'running') throw new CriError('FAILED_PRECONDITION', `container "${record.id}" is ${record.state}: only a running container can be attached to`);
    if (request.stdin && !record.config.stdin) throw invalid(`container "${record.id}" was created without stdin: there is no stdin to attach to`);
    const url = await this.streamingCall((server) => server.getAttach({ containerId: record.id, tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr }));
    return { url };
  }

  async portForward(request: { pod_sandbox_id: string; port: number[] }): Promise<object> {
    const sandbox = this.sandbox(request.pod_sandbox_id);
    if (sandbox.state !== 'ready') throw new CriError('FAILED_PRECONDITION', `sandbox "${sandbox.id}" is not ready: nothing to forward to`);
    const url = await this.streamingCall((server) => server.getPortForward({ podSandboxId: sandbox.id, ports: request.port }));
    return { url };
  }

  /** A URL from the streaming server; its refusals as CRI codes (kubelet's server: InvalidArgument, ResourceExhausted). */
  private async streamingCall(get: (server: StreamingServer) => Promise<string>): Promise<string> {
    if (!this.options.streaming) throw new CriError('UNIMPLEMENTED', 'no streaming server in this runtime');
    const server = await this.options.streaming();
    try {
      return await get(server);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EINVAL') throw invalid((err as Error).message);
      if (code === 'ETOOMANY') throw new CriError('RESOURCE_EXHAUSTED', (err as Error).message);
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Stats

  private containerStats(record: ContainerRecord): object {
    return this.stats.container(record, record.state === 'running' ? this.runtime.cgroupStats(record.sandboxId, record.id) : undefined);
  }

  containerStatsOf(request: { container_id: string }): object {
    return { stats: this.containerStats(this.container(request.container_id)) };
  }

  listContainerStats(request: { filter: { id: string; pod_sandbox_id: string; label_selector: Record<string, string> } | null }): object {
    const f = request.filter;
    const records = this.sandboxes()
      .filter((s) => idMatches(s.id, f?.pod_sandbox_id))
      .flatMap((s) => this.runtime.listContainers(s.id))
      // containerd lists the running ones (kubelet's summary is of what runs).
      .filter((c) => c.state === 'running' && idMatches(c.id, f?.id) && labelsMatch(c.config.labels, f?.label_selector));
    this.pruneStats();
    return { stats: records.map((c) => this.containerStats(c)) };
  }

  private sandboxStats(record: SandboxRecord): object {
    const running = this.runtime.listContainers(record.id).filter((c) => c.state === 'running');
    return this.stats.sandbox(record, record.state === 'ready' ? this.runtime.cgroupStats(record.id) : undefined, running.map((c) => this.containerStats(c)));
  }

  podSandboxStatsOf(request: { pod_sandbox_id: string }): object {
    return { stats: this.sandboxStats(this.sandbox(request.pod_sandbox_id)) };
  }

  listPodSandboxStats(request: { filter: { id: string; label_selector: Record<string, string> } | null }): object {
    const f = request.filter;
    const records = this.sandboxes().filter((s) => s.state === 'ready' && idMatches(s.id, f?.id) && labelsMatch(s.config.labels, f?.label_selector));
    this.pruneStats();
    return { stats: records.map((s) => this.sandboxStats(s)) };
  }

  private pruneStats(): void {
    const live = new Set<string>();
    for (const s of this.sandboxes()) {
      live.add(s.id);
      for (const c of this.runtime.listContainers(s.id)) live.add(c.id);
    }
    this.stats.prune(live);
  }

  async getContainerEvents(_request: object, write: (e: object) => void, signal: AbortSignal): Promise<void> {
    await this.events.stream((e) => (write(e), true), signal);
  }

  /** The RPCs this class answers, by the names in api.proto. */
  handlers(): Record<string, UnaryHandler | { stream: StreamHandler }> {
    return {
      Version: () => this.version(),
      Status: (r) => this.status(r),
      RuntimeConfig: () => this.runtimeConfig(),
      UpdateRuntimeConfig: (r) => this.updateRuntimeConfig(r),
      RunPodSandbox: (r) => this.runPodSandbox(r),
      StopPodSandbox: (r) => this.stopPodSandbox(r),
      RemovePodSandbox: (r) => this.removePodSandbox(r),
      PodSandboxStatus: (r) => this.podSandboxStatus(r),
      ListPodSandbox: (r) => this.listPodSandbox(r),
      CreateContainer: (r) => this.createContainer(r),
      StartContainer: (r) => this.startContainer(r),
      StopContainer: (r) => this.stopContainer(r),
      RemoveContainer: (r) => this.removeContainer(r),
      ListContainers: (r) => this.listContainers(r),
      ContainerStatus: (r) => this.containerStatus(r),
      UpdateContainerResources: (r) => this.updateContainerResources(r),
      ReopenContainerLog: (r) => this.reopenContainerLog(r),
      ExecSync: (r) => this.execSync(r),
      Exec: (r) => this.exec(r),
      Attach: (r) => this.attach(r),
      PortForward: (r) => this.portForward(r),
      ContainerStats: (r) => this.containerStatsOf(r),
      ListContainerStats: (r) => this.listContainerStats(r),
      PodSandboxStats: (r) => this.podSandboxStatsOf(r),
      ListPodSandboxStats: (r) => this.listPodSandboxStats(r),
      GetContainerEvents: { stream: (r, write, signal) => this.getContainerEvents(r, write, signal) },
    };
  }
}

let version: string | undefined;
function packageVersion(): string {
  version ??= (JSON.parse(process.getBuiltinModule('node:fs').readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
