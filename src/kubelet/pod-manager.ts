/**
 * The kubelet's part for one pod of `podns run` (its SyncPod and the prober, status and lifecycle managers):
 * it drives the runtime service — sandbox, then the init containers one at a time, the sidecars, the app
 * containers each followed by its postStart hook — and then keeps the pod as its spec says: restarts by
 * restartPolicy after the crash-loop back-off, probes, preStop hooks and grace periods, the active deadline, the
 * sidecars stopped once the app containers are done, the phase and conditions. It holds no kernel object of its
 * own but the pod's volume mounts: everything else is the runtime's (src/runtime/runtime-service.ts).
 *
 * Its record is status.json (kubelet's view: PodStatusRecord). Where the pod is in its life is one stage (Stage)
 * instead of flags; what waits for a change (a sidecar to count as started, an init container to finish) waits
 * for an event, never a poll.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PodnsError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Logger } from '../log.js';
import type { ContainerSpec, LifecycleHandler } from '../manifest/types.js';
import type { PodPaths } from '../state/paths.js';
import { appendEvent } from '../state/events.js';
import { writeJsonAtomic } from '../state/atomic-file.js';
import type { ContainerStatusRecord, PodSpecFile, PodState, PodStatusRecord, TerminatedState } from '../state/pod-state.js';
import { processRef } from '../runtime/proc.js';
import type { AttachListener, ContainerIO } from '../runtime/container-io.js';
import { readContainers, readSandbox, type ContainerRecord } from '../runtime/records.js';
import type { RuntimeService, SandboxWatcher } from '../runtime/runtime-service.js';
import { unmountAll } from '../runtime/sandbox.js';
import { assertNoMountsBelow } from '../runtime/pod-teardown.js';
import { CrashLoopBackOff, formatDelay, shouldRestart } from './restart-policy.js';
import { ContainerProber, type ProbeKind, type ProberClock, type ProbeNetwork } from './probes.js';
import { checkHttp } from './probe-connect.js';
import { computeConditions, computePhase, type PodStatusInput } from './pod-status.js';
import { terminationMessage, lastLogLine } from './termination-message.js';
import { terminationLogFile } from './container-mounts.js';
import { ensureSubPath, prepareVolumes } from './volumes.js';
import { volumeHostPath } from '../runtime/volume-source.js';
import { ensureShared, ensureSharedOrSlave } from '../runtime/mount-propagation.js';
import { containerConfig, hostnameOf, sandboxConfig } from './runtime-configs.js';
import { composePodState } from './pod-view.js';

/**
 * Where the pod is in its life. `initializing`: the init containers run, in order. `starting`: the app
 * containers are being started. `running`: each was started once; the phase follows them. `finishing`: the app
 * containers are done for good and the sidecars are being stopped. `stopping`: a stop, a removal, a failed
 * start, the deadline or a dead sandbox: nothing starts or restarts any more. `stopped`: nothing of it runs.
 */
export type Stage = 'initializing' | 'starting' | 'running' | 'finishing' | 'stopping' | 'stopped';

/** Why a start did not finish: a `podns stop` or `podns rm`, or the active deadline, came while the pod was starting. */
export class StartStopped extends PodnsError {}

/** Time, for the back-off, the deadline, the hooks and the probes: real by default, a fake in unit tests. */
export interface Clock extends ProberClock {
  now(): number;
}

export const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PodManagerOptions {
  runtime: RuntimeService;
  /** For the pod's volume mounts (the rest of the kernel work is the runtime's). */
  kernel: Pick<Kernel, 'mount' | 'umount'>;
  paths: PodPaths;
  spec: PodSpecFile;
  log: Logger;
  clock?: Clock;
  /** Where httpGet, tcpSocket and grpc probes connect from (the prober picks by the pod's address otherwise). */
  probeNetwork?: ProbeNetwork;
}

/** A postStart hook has no timeout of its own in kubelet; podns bounds it so that a hung hook cannot hold the pod's start forever. */
const POST_START_TIMEOUT_MS = 120_000;

function kubeTerminated(c: ContainerStatusRecord): TerminatedState {
  return { exitCode: c.exitCode ?? 0, signal: c.signal, reason: c.reason, message: c.message, startedAt: c.startedAt, finishedAt: c.finishedAt };
}

export class PodManager {
  readonly status: PodStatusRecord;
  private stage: Stage;
  private readonly runtime: RuntimeService;
  private readonly kernel: Pick<Kernel, 'mount' | 'umount'>;
  private readonly paths: PodPaths;
  private readonly spec: PodSpecFile;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly probeNetwork?: ProbeNetwork;
  private readonly backOffScale: number;
  private readonly backOffs = new Map<string, CrashLoopBackOff>();
  private readonly restartTimers = new Map<string, unknown>();
  /** One per running container that has probes; made after postStart, stopped on exit. */
  private readonly probers = new Map<string, ContainerProber>();
  /** The end of each run started here or adopted, by runtime container id: settles once its exit is recorded. */
  private readonly runEnds = new Map<string, { ended: Promise<void>; end: () => void }>();
  /** Called on every saved change: what waits for one (events, not polls). */
  private readonly changeWaiters = new Set<() => void>();
  private deadlineTimer?: unknown;
  /** The active deadline passed during a start: what ran is being stopped with its grace period (the start fails after). */
  private deadlineStop?: Promise<unknown>;
  /** Settles when a forced stop (`rm -f`) is asked for: no grace period is waited out any more. */
  private readonly forced: Promise<void>;
  private force!: () => void;
  /** The sandbox exists in the runtime (RunPodSandbox was called, or it was adopted). */
  private sandboxUp = false;
  /** A start() is in progress (its caller waits for it); a deadline or stop then fails it. */
  private startInProgress = false;
  private stopReason?: string;
  /** Settles when a stop or removal is asked for: every wait of the start gives way to it. */
  private readonly stopRequested: Promise<'stopped'>;
  private requestStop!: () => void;
  /** Told when an init container first enters its crash-loop back-off (see start). */
  private onInitBackOff?: () => void;
  /** Called when the pod has stopped for good (it is no longer supervised). */
  onStopped?: () => void;

  /** `recorded`: the status of a pod a dead supervisor left, for adopt(); absent: a new pod. */
  constructor(options: PodManagerOptions, recorded?: PodStatusRecord) {
    this.runtime = options.runtime;
    this.kernel = options.kernel;
    this.paths = options.paths;
    this.spec = options.spec;
    this.log = options.log;
    this.clock = options.clock ?? REAL_CLOCK;
    this.probeNetwork = options.probeNetwork;
    this.backOffScale = options.spec.backOffScale ?? 1;
    this.stopRequested = new Promise((resolve) => (this.requestStop = () => resolve('stopped')));
    this.forced = new Promise((resolve) => (this.force = resolve));
    const { pod } = this.spec;
    if (recorded) {
      this.status = recorded;
      this.stage = stageOf(recorded);
      return;
    }
    const waiting = pod.spec.initContainers?.length ? { waiting: { reason: 'PodInitializing' } } : {};
    this.stage = pod.spec.initContainers?.length ? 'initializing' : 'starting';
    this.status = {
      id: this.paths.id,
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      uid: this.spec.uid,
      createdAt: new Date(this.clock.now()).toISOString(),
      hostname: hostnameOf(this.spec),
      phase: 'Pending',
      supervisor: processRef(process.pid),
      shareProcessNamespace: pod.spec.shareProcessNamespace,
      infra: this.spec.infra,
      volumeMounts: [],
      ...(pod.spec.initContainers?.length ? { initContainers: pod.spec.initContainers.map((c) => this.newStatus(c)) } : {}),
      containers: pod.spec.containers.map((c) => ({ ...waiting, ...this.newStatus(c) })),
    };
  }

  private newStatus(c: ContainerSpec): ContainerStatusRecord {
    const image = this.spec.images[c.name]!;
    return {
      ...(c.restartPolicy === 'Always' ? { sidecar: true } : {}),
      name: c.name,
      image: image.name,
      imageId: image.id,
      status: 'created',
      restartCount: 0,
      logPath: path.join(this.paths.logDir, c.name, '0.log'),
    };
  }

  /** terminationGracePeriodSeconds of the pod. */
  get gracePeriod(): number {
    return this.spec.pod.spec.terminationGracePeriodSeconds;
  }

  /** The pod as the CLI sees it: this record with the runtime's. */
  get state(): PodState {
    // Once the runtime has let the sandbox go (stopped and no longer supervised), its records on disk say the same.
    const live = this.sandboxUp && this.runtime.hasSandbox(this.paths.id);
    const sandbox = live ? this.runtime.podSandboxStatus(this.paths.id) : readSandbox(this.paths.runDir);
    const runs = live ? this.runtime.listContainers(this.paths.id) : readContainers(this.paths.runDir);
    return composePodState(this.status, sandbox, runs, this.spec.processes);
  }

  /** Phase and conditions, recomputed on every save as kubelet's status manager does; then status.json. */
  save(): void {
    const input = this.statusInput();
    // Before the app containers started the phase is Pending, unless an init container failed under Never (Failed,
    // as kubelet's getPhase says first); once a stop, the deadline or a dead sandbox decided it (stage stopping), it stays.
    if (this.stage === 'running' || this.stage === 'finishing' || (this.stage === 'initializing' && input.initFailed)) this.status.phase = computePhase(input);
    this.status.conditions = computeConditions(input);
    for (const c of [...this.sidecars(), ...this.status.containers]) c.ready = c.status === 'running' && !c.waiting && (input.ready?.(c.name) ?? true);
    if (fs.existsSync(this.paths.runDir)) writeJsonAtomic(this.paths.statusFile, this.status);
    for (const waiter of [...this.changeWaiters]) waiter();
  }

  private statusInput(): PodStatusInput {
    return {
      initialized: this.stage !== 'initializing' && !this.initFailed(),
      initFailed: this.initFailed(),
      containers: this.status.containers,
      sidecars: this.sidecars(),
      restarting: (name) => this.restartTimers.has(name),
      ready: (name) => this.probers.get(name)?.ready,
    };
  }

  /** An init container failed under restartPolicy Never: the pod failed. */
  private initFailed(): boolean {
    return this.spec.pod.spec.restartPolicy === 'Never' && (this.status.initContainers ?? []).some((c) => !c.sidecar && c.status === 'exited' && c.exitCode !== 0);
  }

  /** An event in kubelet's words, for `podns events`. */
  private event(type: 'Normal' | 'Warning', reason: string, container: string | undefined, message: string): void {
    appendEvent(this.paths.eventsFile, { type, reason, object: `pod/${this.status.name}${container ? `/${container}` : ''}`, message });
  }

  /** The watcher the runtime tells of this pod's exits. */
  private watcher(): SandboxWatcher {
    return {
      containerExited: (record) => this.onContainerExit(record),
      sandboxDied: () => this.onSandboxDeath(),
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Starting

  /**
   * RunPodSandbox, then the init containers and the app containers in order. Resolves once the app containers
   * run — or once an init container first goes into its crash-loop back-off (the pod stays Pending, as kubelet
   * would leave it, and the rest carries on here). Throws when the start fails or is cancelled; the caller then
   * calls abort(), which undoes everything.
   */
  async start(): Promise<void> {
    this.startInProgress = true;
    try {
      await this.startSandbox();
      // A crash-looping init container leaves the pod Pending (Init:CrashLoopBackOff): the start is reported. A
      // failure under restartPolicy Never fails the start itself. A stop or removal asked for meanwhile ends the
      // wait at once; the active deadline stops the containers with their grace period first.
      let inBackOff!: () => void;
      const backingOff = new Promise<'backoff'>((resolve) => (inBackOff = () => resolve('backoff')));
      this.onInitBackOff = inBackOff;
      const sequence = this.runInitContainers().then(() => this.startAppContainers());
      const outcome = await Promise.race([sequence.then(() => 'started' as const), backingOff, this.stopRequested]);
      if (outcome === 'backoff') {
        sequence.catch((err) => this.failedWhileInitializing(err));
        return;
      }
      if (outcome === 'stopped') {
        sequence.catch(() => undefined);
        // The deadline's stop takes the grace period before the start fails (its abort kills what is left at once),
        // unless a forced removal cuts it short.
        await Promise.race([this.deadlineStop, this.forced]);
        throw this.stoppedWhileStarting();
      }
    } finally {
      this.startInProgress = false;
    }
  }

  private failedWhileInitializing(err: unknown): void {
    if (err instanceof StartStopped) return;
    this.log.error('pod failed while initializing', { error: err instanceof Error ? err.message : String(err) });
    this.save();
  }

  /** The pod's volumes, then the sandbox (with infra none: the first container makes the namespaces). */
  private async startSandbox(): Promise<void> {
    const { pod } = this.spec;
    if (pod.spec.initContainers?.length && this.spec.infra === 'none') {
      throw new PodnsError('pod.init', `pod "${pod.metadata.name}": init containers need the pause to hold the pod's namespaces (not --infra=none)`);
    }
    this.save();
    this.armDeadline();
    this.throwIfStopped();
    fs.mkdirSync(this.paths.libDir, { recursive: true, mode: 0o700 });
    prepareVolumes(this.kernel, pod.spec, this.paths, (target) => {
      this.status.volumeMounts.push(target);
      this.save();
    });
    this.sandboxUp = true;
    await this.runtime.runPodSandbox(sandboxConfig(this.spec, this.paths), this.paths, this.watcher());
    this.throwIfStopped();
    let by: string;
    if (this.spec.infra === 'none') {
      const first = pod.spec.containers[0]!;
      const cid = await this.startContainer(first);
      await this.runtime.connectSandboxTo(cid);
      by = `container ${first.name} (no pause)`;
    } else {
      by = `pause pid ${this.runtime.podSandboxStatus(this.paths.id).pause?.pid}`;
    }
    const ip = this.podIP();
    this.event('Normal', 'SandboxReady', undefined, `Pod sandbox ready: namespaces held by ${by}${ip ? `, IP ${ip}` : ''}`);
    this.log.info('sandbox ready', { infra: this.spec.infra, ip });
    this.throwIfStopped();
  }

  private podIP(): string | undefined {
    return this.sandboxUp && this.runtime.hasSandbox(this.paths.id) ? this.runtime.podSandboxStatus(this.paths.id).podIP : undefined;
  }

  /**
   * kubelet's SyncPod step 6: init containers one at a time, in order, each to exit 0 before the next; a failure
   * is retried after the crash-loop back-off unless restartPolicy is Never, which fails the pod. A sidecar
   * (restartPolicy Always) is started and not waited for beyond its postStart and startupProbe. Resumable: a
   * supervisor that adopted the pod picks up where the dead one was.
   */
  private async runInitContainers(): Promise<void> {
    for (const c of this.spec.pod.spec.initContainers ?? []) {
      const state = this.containerStatus(c.name);
      if (c.restartPolicy === 'Always') {
        // Should it exit before it counts as started, it is restarted with the back-off like any sidecar exit, and
        // the sequence waits on. After a takeover it may run already (adopted) or wait for its restart.
        if (state.status === 'created') {
          this.throwIfStopped();
          await this.startContainer(c);
          await this.postStart(c);
        }
        await this.until(() => state.started === true);
        continue;
      }
      for (;;) {
        if (state.status === 'exited' && state.exitCode === 0) break;
        this.throwIfStopped();
        if (state.status === 'exited') await this.backOffInit(c.name);
        if (state.status !== 'running') await this.startContainer(c);
        await Promise.race([this.runEnd(state.containerId!), this.stopRequested]);
      }
    }
    this.throwIfStopped();
    this.stage = 'starting';
    this.save();
  }

  /** After a failed init container: fail the pod under restartPolicy Never, else wait out the back-off (if any). */
  private async backOffInit(name: string): Promise<void> {
    const state = this.containerStatus(name);
    if (this.spec.pod.spec.restartPolicy === 'Never') {
      this.save();
      const last = lastLogLine(state.logPath);
      throw new PodnsError(
        'pod.init',
        `init container "${name}" failed (Init:${state.reason ?? 'Error'}, exit code ${state.exitCode}); restartPolicy Never: the pod failed${last ? `; its last log line: ${last}` : ''}`,
      );
    }
    // The same back-off as the app containers (kubelet's doBackOff for init containers too): the first retry is
    // at once, and only a real wait is a CrashLoopBackOff that `podns run` reports (see start).
    const backOff = this.backOffOf(name);
    const finishedAt = Date.parse(state.finishedAt!);
    const delay = backOff.remaining(finishedAt, this.clock.now());
    if (delay > 0) {
      this.enterBackOff(state, backOff);
      this.save();
      this.onInitBackOff?.();
      await Promise.race([this.sleep(delay), this.stopRequested]);
      this.throwIfStopped();
    }
    backOff.next(finishedAt, this.clock.now());
    state.lastState = { terminated: kubeTerminated(state) };
    state.restartCount += 1;
  }

  /**
   * The app containers not started yet, in order, each followed by its postStart hook (with infra none the first
   * one, started with the sandbox, has its hook after the others).
   */
  private async startAppContainers(): Promise<void> {
    const containers = this.spec.pod.spec.containers;
    for (const container of containers) {
      if (this.containerStatus(container.name).status !== 'created') continue;
      this.throwIfStopped();
      await this.startContainer(container);
      await this.postStart(container);
    }
    this.throwIfStopped();
    if (this.spec.infra === 'none' && this.stage === 'starting') await this.postStart(containers[0]!);
    this.throwIfStopped();
    this.stage = 'running';
    this.save();
    this.stopSidecarsWhenAppsAreDone();
  }

  /**
   * CreateContainer + StartContainer for the container's next run: a new CRI log per run, named by the restart
   * count as kubelet names it (<container>/<restartCount>.log), an empty termination-log file, the subPaths made;
   * returns the runtime's container id. Only the current and the previous run are kept (kubelet's rule).
   */
  private async startContainer(container: ContainerSpec): Promise<string> {
    const state = this.containerStatus(container.name);
    const attempt = state.restartCount;
    state.logPath = path.join(this.paths.logDir, container.name, `${attempt}.log`);
    // Empty for each run; 0666 as kubelet makes it, so that a container of any user can write its message.
    const terminationLog = terminationLogFile(this.paths, container.name);
    fs.mkdirSync(path.dirname(terminationLog), { recursive: true });
    fs.writeFileSync(terminationLog, '');
    fs.chmodSync(terminationLog, 0o666);
    for (const vm of container.volumeMounts) {
      const volume = this.spec.pod.spec.volumes.find((v) => v.name === vm.name)!;
      const what = `container "${container.name}": volume "${vm.name}"`;
      // The runtime checks it too (for any caller); here the message can name the volume.
      if (vm.mountPropagation === 'HostToContainer') ensureSharedOrSlave(volumeHostPath(volume, this.paths), what);
      if (vm.mountPropagation === 'Bidirectional') ensureShared(volumeHostPath(volume, this.paths), what);
      if (vm.subPath) ensureSubPath(volumeHostPath(volume, this.paths), vm.subPath, what);
    }
    this.event('Normal', 'Pulled', container.name, `Container image "${state.image}" already present on machine`);
    const config = containerConfig(this.spec, this.paths, container, attempt, state.logPath, this.podIP());
    const cid = await this.runtime.createContainer(this.paths.id, config);
    let end!: () => void;
    this.runEnds.set(cid, { ended: new Promise<void>((resolve) => (end = resolve)), end });
    try {
      await this.runtime.startContainer(cid);
    } catch (err) {
      this.runEnds.delete(cid);
      await this.runtime.removeContainer(cid).catch(() => undefined);
      throw err;
    }
    this.event('Normal', 'Created', container.name, `Created container ${container.name}`);
    this.event('Normal', 'Started', container.name, `Started container ${container.name}`);
    // The previous run's outcome is in lastState now. While a postStart hook runs the container is not yet
    // Running for kubelet ("its status is not set to RUNNING until the postStart handler completes").
    Object.assign(state, {
      status: 'running',
      containerId: cid,
      startedAt: new Date(this.clock.now()).toISOString(),
      started: false,
      waiting: container.lifecycle?.postStart ? { reason: 'ContainerCreating', message: 'postStart hook running' } : undefined,
      restartPending: undefined,
      finishedAt: undefined,
      exitCode: undefined,
      signal: undefined,
      reason: undefined,
      message: undefined,
    } satisfies Partial<ContainerStatusRecord>);
    // On disk before its postStart runs: should the supervisor die during the hook, the pod is found as it is.
    this.save();
    await this.removeOldRuns(container.name, attempt);
    return cid;
  }

  /** kubelet keeps the current and the previous run of a container: older ones (and their logs) go. */
  private async removeOldRuns(name: string, attempt: number): Promise<void> {
    for (const run of this.runtime.listContainers(this.paths.id)) {
      if (run.config.name !== name || run.config.attempt >= attempt - 1) continue;
      await this.runtime.removeContainer(run.id).catch((err) => this.log.error('removing an old run failed', { container: name, error: String(err) }));
      this.runEnds.delete(run.id);
      fs.rmSync(run.config.logPath, { force: true });
    }
  }

  /** Resolves once the container's run has ended (its exit recorded), or at once for one not known here. */
  private runEnd(cid: string): Promise<void> {
    return this.runEnds.get(cid)?.ended ?? Promise.resolve();
  }

  /** Resolves when `condition` holds, checked at every change; rejects when the pod is stopping. */
  private until(condition: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.stage === 'stopping' || this.stage === 'stopped') {
          this.changeWaiters.delete(check);
          reject(this.stoppedWhileStarting());
        } else if (condition()) {
          this.changeWaiters.delete(check);
          resolve();
        }
      };
      this.changeWaiters.add(check);
      check();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Hooks and probes

  /**
   * The postStart hook of a container just started: as kubelet, the next container starts only when it has
   * returned; a failing hook kills the container (FailedPostStartHook), which restartPolicy may bring back.
   * Probes start once the container counts as started, for this run only.
   */
  private async postStart(container: ContainerSpec): Promise<void> {
    const hook = container.lifecycle?.postStart;
    const state = this.containerStatus(container.name);
    const cid = state.containerId;
    if (hook) {
      const failure = await this.runHook(state, hook, POST_START_TIMEOUT_MS);
      if (state.containerId === cid && state.waiting?.reason === 'ContainerCreating') {
        state.waiting = undefined;
        this.save();
      }
      if (failure && this.stage !== 'stopping' && this.stage !== 'stopped' && state.status === 'running') {
        this.event('Warning', 'FailedPostStartHook', container.name, `PostStartHook failed: ${failure}`);
        await this.killContainer(container.name, this.gracePeriod, `FailedPostStartHook: container ${container.name} will be killed`);
        return;
      }
    }
    if (state.status === 'running' && state.containerId === cid) {
      if (!container.startupProbe) this.markStarted(container.name);
      this.startProber(container, state);
    }
  }

  /**
   * One lifecycle hook; resolves with undefined on success, else with what went wrong (for the event). exec: in
   * the container (CRI ExecSync); httpGet: from the supervisor to the pod IP (or the hook's host); sleep: a timer.
   */
  private async runHook(state: ContainerStatusRecord, hook: LifecycleHandler, timeoutMs: number): Promise<string | undefined> {
    try {
      if ('sleep' in hook) {
        // kubelet's runSleepHandler: a timer in the kubelet, nothing runs in the container.
        await this.sleep(Math.min(hook.sleep.seconds * 1000, timeoutMs));
        return undefined;
      }
      if ('exec' in hook) {
        let output = '';
        const code = await this.runtime.execSync(state.containerId!, hook.exec.command, timeoutMs, { output: (text) => (output = text) });
        return code === 0 ? undefined : `command ${JSON.stringify(hook.exec.command)} exited with ${code}: ${output.trim()}`;
      }
      const host = hook.httpGet.host ?? this.podIP();
      if (!host) return 'httpGet hooks need a pod IP, and this pod has none (network mode none)';
      const outcome = await checkHttp({ host, port: hook.httpGet.port, path: hook.httpGet.path, headers: hook.httpGet.httpHeaders, timeoutMs });
      return outcome.ok ? undefined : `Get "http://${host}:${hook.httpGet.port}${hook.httpGet.path}": ${outcome.message}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  private startProber(container: ContainerSpec, state: ContainerStatusRecord): void {
    if (!container.livenessProbe && !container.readinessProbe && !container.startupProbe) return;
    const label: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };
    const name = container.name;
    const cid = state.containerId!;
    const sandbox = this.runtime.podSandboxStatus(this.paths.id);
    const prober = new ContainerProber(
      container,
      {
        exec: (argv, timeoutMs) => this.runtime.execSync(cid, argv, timeoutMs),
        podIP: sandbox.podIP,
        netnsPath: sandbox.netnsPin,
      },
      {
        onResult: (kind, ok, message) => {
          if (!ok) this.event('Warning', 'Unhealthy', name, `${label[kind]} probe failed: ${message}`);
          // A stopped prober's results are thrown away: a success here is the current run's.
          else if (kind === 'startup') this.markStarted(name);
        },
        // kubelet kills the container and lets restartPolicy decide; the probe's own grace period when set.
        onLivenessFailure: (message, grace) => {
          this.log.info('liveness failure', { container: name, message });
          void this.killContainer(name, grace ?? this.gracePeriod, `Container ${name} failed liveness probe, will be restarted`);
        },
        onReadyChange: () => this.save(),
      },
      this.clock,
      this.probeNetwork ? { network: this.probeNetwork } : {},
    );
    this.probers.set(name, prober);
    prober.start();
  }

  /** Marks the container started (kubelet's Started) and saves. */
  private markStarted(name: string): void {
    const state = this.containerStatus(name);
    if (state.status !== 'running' || state.started) return;
    state.started = true;
    this.save();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Exits and restarts

  private onContainerExit(record: ContainerRecord): void {
    const name = record.config.name;
    const state = this.findStatus(name);
    this.runEnds.get(record.id)?.end();
    // An older run (its exit comes late, after a takeover) is not the container's current state.
    if (!state || state.containerId !== record.id) return;
    this.probers.get(name)?.stop();
    this.probers.delete(name);
    if (this.sandboxGone() && name !== this.status.containers[0]!.name) state.endedWithSandbox = true;
    const exitCode = record.exitCode!;
    const spec = this.containerSpec(name);
    const message =
      record.reason === 'ContainerStatusUnknown'
        ? record.message
        : terminationMessage(terminationLogFile(this.paths, name), state.logPath, spec?.terminationMessagePolicy ?? 'File', exitCode);
    Object.assign(state, {
      status: 'exited',
      started: false,
      waiting: state.waiting?.reason === 'ContainerCreating' ? undefined : state.waiting,
      finishedAt: record.finishedAt,
      exitCode,
      signal: record.signal,
      reason: record.reason,
      message,
    } satisfies Partial<ContainerStatusRecord>);
    // With the exit, in the same write: a reader never sees an exited container that is about to come back as done.
    state.restartPending = this.willRestart(state) || undefined;
    this.save();
    if (state.reason === 'OOMKilled') this.event('Warning', 'OOMKilled', name, `Container ${name} was killed by the OOM killer (exit code ${exitCode})`);
    if (state.restartPending) this.scheduleRestart(name);
    this.save();
    if (!state.sidecar) this.stopSidecarsWhenAppsAreDone();
  }

  /** restartPolicy decides, unless podns stopped it; with infra none the namespaces' holder cannot come back. */
  private willRestart(state: ContainerStatusRecord): boolean {
    if (this.stage === 'stopping' || this.stage === 'stopped' || state.stoppedByUser) return false;
    // Sidecars come back whatever the pod's restartPolicy, until the app containers are done for good.
    if (state.sidecar) return this.stage !== 'finishing';
    // Init containers are retried by runInitContainers, in order.
    if (this.status.initContainers?.includes(state)) return false;
    if (this.spec.infra === 'none' && (state.name === this.status.containers[0]!.name || this.sandboxGone())) return false;
    return shouldRestart(this.spec.pod.spec.restartPolicy, state.exitCode ?? 0);
  }

  /** With infra none: the first container held the pod's namespaces and has exited; nothing can start in them again. */
  private sandboxGone(): boolean {
    if (this.spec.infra !== 'none') return false;
    const holder = this.status.containers[0]!;
    return holder.stoppedByUser === true || holder.status === 'exited' || !this.sandboxUp || !this.runtime.sandboxAlive(this.paths.id);
  }

  private backOffOf(name: string): CrashLoopBackOff {
    let backOff = this.backOffs.get(name);
    if (!backOff) this.backOffs.set(name, (backOff = new CrashLoopBackOff(this.backOffScale)));
    return backOff;
  }

  /** Waiting: CrashLoopBackOff, with kubelet's message and BackOff event; only for a restart that really waits. */
  private enterBackOff(state: ContainerStatusRecord, backOff: CrashLoopBackOff): void {
    const { name } = state;
    state.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${formatDelay(backOff.current)} restarting failed container=${name} pod=${this.status.name}` };
    this.event('Warning', 'BackOff', name, `Back-off restarting failed container ${name} in pod ${this.status.name}`);
  }

  /** A new run once the back-off since the exit has passed: at once after the first exit (see CrashLoopBackOff). */
  private scheduleRestart(name: string): void {
    const state = this.containerStatus(name);
    state.restartPending = true;
    const backOff = this.backOffOf(name);
    const delay = backOff.remaining(Date.parse(state.finishedAt!), this.clock.now());
    if (delay > 0) this.enterBackOff(state, backOff);
    this.log.info('restart scheduled', { container: name, delayMs: delay, restartCount: state.restartCount });
    // A timer even for 0 ms: the pending restart is what keeps the pod Running meanwhile, and a stop cancels it.
    this.restartTimers.set(name, this.clock.setTimeout(() => void this.restartContainer(name), delay));
  }

  private async restartContainer(name: string): Promise<void> {
    this.restartTimers.delete(name);
    const state = this.containerStatus(name);
    if (this.stage === 'stopping' || this.stage === 'stopped' || state.stoppedByUser) {
      state.restartPending = undefined;
      return;
    }
    this.backOffOf(name).next(Date.parse(state.finishedAt!), this.clock.now());
    state.lastState = { terminated: kubeTerminated(state) };
    state.restartCount += 1;
    const container = this.containerSpec(name)!;
    try {
      await this.startContainer(container);
      this.postStart(container).catch((err) => this.log.error('postStart failed', { container: name, error: String(err) }));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error('restart failed', { container: name, error: message });
      this.event('Warning', 'Failed', name, `Error: ${message}`);
      const now = new Date(this.clock.now()).toISOString();
      Object.assign(state, { status: 'exited', exitCode: 128, reason: 'StartError', message, startedAt: now, finishedAt: now } satisfies Partial<ContainerStatusRecord>);
      this.scheduleRestart(name);
    }
    this.save();
  }

  private cancelRestart(name: string): void {
    const timer = this.restartTimers.get(name);
    if (timer === undefined) return;
    this.clock.clearTimeout(timer);
    this.restartTimers.delete(name);
    Object.assign(this.containerStatus(name), { waiting: undefined, restartPending: undefined });
  }

  /**
   * kubelet's sidecar rule: once every app container has terminated for good (none running, none waiting to
   * restart), the sidecars are stopped, in reverse order, and not restarted; the pod's phase is the app
   * containers' (Succeeded or Failed).
   */
  private stopSidecarsWhenAppsAreDone(): void {
    if (this.stage !== 'running' || this.sidecars().length === 0) return;
    if (!this.status.containers.every((c) => c.status === 'exited' && !this.restartTimers.has(c.name))) return;
    this.stage = 'finishing';
    this.log.info('app containers done; stopping sidecars');
    void (async () => {
      for (const c of this.sidecars().reverse()) {
        this.cancelRestart(c.name);
        await this.killContainer(c.name, this.gracePeriod, `Stopping container ${c.name}: the pod's app containers have terminated`);
      }
      this.save();
    })();
  }

  /** The pause died: the pod failed, and is stopped (with infra none the first container's exit says it all). */
  private onSandboxDeath(): void {
    if (this.stage === 'stopping' || this.stage === 'stopped' || this.spec.infra === 'none') return;
    // kubelet would recreate the sandbox; podns reports the pod Failed and cleans up.
    this.log.error('the pause exited unexpectedly; stopping the pod');
    this.status.phase = 'Failed';
    void this.stopPod(0).then(() => this.onStopped?.());
  }

  // ---------------------------------------------------------------------------------------------------------
  // Stopping

  /**
   * kubelet's activeDeadlineSeconds: counted from the pod's start; past it every container is killed with the
   * pod's grace period and the pod is Failed, reason DeadlineExceeded, whatever its containers were doing.
   */
  private armDeadline(): void {
    const seconds = this.spec.pod.spec.activeDeadlineSeconds;
    if (seconds === undefined) return;
    const due = Date.parse(this.status.createdAt) + seconds * 1000 - this.clock.now();
    this.deadlineTimer = this.clock.setTimeout(() => {
      if (this.stage === 'stopping' || this.stage === 'stopped') return;
      const message = 'Pod was active on the node longer than the specified deadline';
      this.log.info('active deadline exceeded', { seconds });
      this.event('Normal', 'DeadlineExceeded', undefined, message);
      Object.assign(this.status, { phase: 'Failed', reason: 'DeadlineExceeded', message });
      if (!this.startInProgress) {
        void this.stopPod(this.gracePeriod).then(() => this.onStopped?.());
        return;
      }
      // Still starting: what runs now is stopped first, with the grace period; then the start fails (start() waits
      // for this) and its abort undoes everything.
      this.enterStopping();
      this.deadlineStop = Promise.allSettled(this.allStatuses().map((c) => this.killContainer(c.name, this.gracePeriod, message)));
    }, Math.max(0, due));
  }

  /** A stop or removal was asked for while the pod starts (or its deadline passed): nothing more may be started. */
  private throwIfStopped(): void {
    if (this.stage === 'stopping' || this.stage === 'stopped') throw this.stoppedWhileStarting();
  }

  private stoppedWhileStarting(): StartStopped {
    if (this.status.reason === 'DeadlineExceeded') {
      return new StartStopped('pod.init', `pod "${this.status.name}" exceeded its activeDeadlineSeconds (${this.spec.pod.spec.activeDeadlineSeconds} s) while initializing (DeadlineExceeded)`);
    }
    return new StartStopped('pod.start', `stopped while starting (by ${this.stopReason ?? 'podns stop'})`);
  }

  /** Nothing starts or restarts from now on. */
  private enterStopping(): void {
    this.stage = 'stopping';
    this.requestStop();
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    for (const name of [...this.restartTimers.keys()]) this.cancelRestart(name);
    for (const waiter of [...this.changeWaiters]) waiter();
  }

  /**
   * `podns stop` or `podns rm` while the start is still running: the start gives up at its next step or wait
   * (start() throws StartStopped) and the caller aborts it, undoing everything.
   */
  cancelStart(reason: string, force = false): void {
    this.stopReason ??= reason;
    if (force) this.force();
    this.enterStopping();
  }

  /**
   * kubelet's killContainer: the preStop hook, counted against the grace period, then StopContainer with what
   * is left of it (the stop signal, SIGKILL when it is used up). As kubelet does, a preStop that eats the grace
   * period still leaves the process 2 s after the stop signal (minimumGracePeriodInSeconds).
   */
  private async killContainer(name: string, graceSeconds: number, message: string): Promise<void> {
    const state = this.containerStatus(name);
    const cid = state.containerId;
    if (state.status !== 'running' || !cid) return;
    const record = this.runtime.containerStatus(cid);
    if (record.state !== 'running' || !record.process || !this.runtime.processAlive(record.process)) {
      await this.runEnd(cid);
      return;
    }
    this.event('Normal', 'Killing', name, message);
    const deadline = this.clock.now() + graceSeconds * 1000;
    const preStop = this.containerSpec(name)?.lifecycle?.preStop;
    let graceMs = graceSeconds * 1000;
    if (preStop && graceSeconds > 0) {
      const failure = await Promise.race([this.runHook(state, preStop, graceMs), this.runEnd(cid).then(() => undefined)]);
      if (failure) this.event('Warning', 'FailedPreStopHook', name, `PreStopHook failed: ${failure}`);
      graceMs = Math.max(deadline - this.clock.now(), 2000);
    }
    await this.runtime.stopContainer(cid, graceMs);
    await this.runEnd(cid);
  }

  /** `podns stop -c`: the container is stopped and not restarted. */
  async stopContainer(name: string, graceSeconds: number): Promise<void> {
    const state = this.containerStatus(name);
    state.stoppedByUser = true;
    this.cancelRestart(name);
    await this.killContainer(name, graceSeconds, `Stopping container ${name}`);
    this.save();
  }

  /**
   * kubelet's killPod: the app (and init) containers together, then the sidecars one by one in reverse order,
   * each with what is left of the grace period (at least kubelet's minimum of 2 s, unless the stop is forced);
   * then StopPodSandbox, and the pod's volume mounts go. Forced (no grace period): no hook runs and the runtime
   * kills everything at once.
   */
  async stopPod(graceSeconds: number): Promise<void> {
    await this.stopAndMaybeRemove(graceSeconds, false);
  }

  /** RemovePodSandbox and everything else of the pod: stopped first (SIGKILL when forced). */
  async remove(force: boolean): Promise<void> {
    await this.stopAndMaybeRemove(force ? 0 : this.gracePeriod, true);
  }

  private async stopAndMaybeRemove(graceSeconds: number, remove: boolean): Promise<void> {
    const t0 = this.clock.now();
    if (this.stage !== 'stopped') {
      this.enterStopping();
      if (this.sandboxUp && graceSeconds > 0) {
        const deadline = this.clock.now() + graceSeconds * 1000;
        await Promise.all(this.allStatuses().filter((c) => !c.sidecar).map((c) => this.stopContainer(c.name, graceSeconds)));
        for (const c of this.sidecars().reverse()) await this.stopContainer(c.name, Math.max((deadline - this.clock.now()) / 1000, 2));
      } else {
        for (const c of this.allStatuses()) {
          c.stoppedByUser = true;
          if (c.status === 'running') this.event('Normal', 'Killing', c.name, `Stopping container ${c.name}`);
        }
      }
      for (const p of this.probers.values()) p.stop();
      this.probers.clear();
      // The host side of the volumes first (detached: a container still running keeps its own bind until it dies),
      // so that nothing is mounted below the directories the runtime removes.
      unmountAll(this.kernel, this.status.volumeMounts);
      this.status.volumeMounts = [];
      if (this.sandboxUp) {
        if (remove) await this.runtime.removePodSandbox(this.paths.id);
        else await this.runtime.stopPodSandbox(this.paths.id);
      }
      if (this.status.phase !== 'Failed') this.status.phase = 'Stopped';
      this.stage = 'stopped';
      this.save();
    }
    if (remove) await this.removeFiles();
    this.log.debug(remove ? 'pod removed' : 'pod stopped', { ms: this.clock.now() - t0 });
  }

  /** After a failed start: kill what was started, undo what was made, delete the files. */
  async abort(): Promise<void> {
    this.enterStopping();
    for (const p of this.probers.values()) p.stop();
    this.probers.clear();
    try {
      if (this.sandboxUp) await this.runtime.stopPodSandbox(this.paths.id);
    } catch (err) {
      this.log.error('abort: stopping the sandbox failed', { error: String(err) });
    }
    unmountAll(this.kernel, this.status.volumeMounts);
    this.status.volumeMounts = [];
    this.stage = 'stopped';
    await this.removeFiles();
  }

  private async removeFiles(): Promise<void> {
    if (this.sandboxUp) await this.runtime.removePodSandbox(this.paths.id);
    const dirs = [this.paths.libDir, this.paths.logDir, this.paths.runDir];
    for (const dir of dirs) assertNoMountsBelow(dir);
    await Promise.all(dirs.map((dir) => fs.promises.rm(dir, { recursive: true, force: true })));
  }

  /** A client attaches to a running container's current run (CRI Attach). */
  attach(name: string, listener: AttachListener, usesStdin: boolean): { io: ContainerIO; leave: () => void } {
    const state = this.containerStatus(name);
    if (state.status !== 'running' || !state.containerId) {
      const why = state.waiting?.reason ?? state.reason ?? state.status;
      throw new PodnsError('pod.attach', `container "${name}" of pod "${this.status.name}" is not running (${why})`);
    }
    try {
      return this.runtime.attach(state.containerId, listener, usesStdin);
    } catch (err) {
      throw new PodnsError('pod.attach', `${(err as Error).message.replace(/^container "[^"]+"/, `container "${name}" of pod "${this.status.name}"`)}`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Adoption

  /**
   * Takes over a pod a dead supervisor left: the runtime adopts its sandbox (its pause and running containers
   * watched through pidfds, their pipes taken back from the pause; exits that happened meanwhile reach us as any
   * exit), then this record is the pod's again: a `TookOver` event, probes start, restarts the dead supervisor had
   * pending are scheduled (their back-off starts afresh, as after a kubelet restart), the active deadline is armed
   * again, and what the start had not done goes on — init containers, sidecars, app containers. A postStart hook
   * the dead supervisor was running is not run again: its container counts as started.
   */
  adopt(): void {
    const previous = this.status.supervisor?.pid;
    this.runtime.adoptSandbox(this.paths, this.watcher());
    this.sandboxUp = true;
    // Each container's current run as the runtime found it: exited meanwhile ones come as exit events.
    const runs = new Map(this.runtime.listContainers(this.paths.id).map((r) => [r.id, r]));
    const gone: string[] = [];
    for (const c of this.allStatuses()) {
      const run = c.containerId ? runs.get(c.containerId) : undefined;
      if (!run || run.state !== 'running') continue;
      const alive = !!run.process && this.runtime.processAlive(run.process);
      if (!alive) gone.push(c.name);
      let end!: () => void;
      this.runEnds.set(run.id, { ended: new Promise<void>((resolve) => (end = resolve)), end });
    }
    this.status.supervisor = processRef(process.pid);
    this.event(
      'Normal',
      'TookOver',
      undefined,
      `Supervisor pid ${process.pid} took the pod over from supervisor pid ${previous ?? '?'}, which had died` + (gone.length ? `; exited meanwhile: ${gone.join(', ')}` : ''),
    );
    this.log.info('took the pod over', { previousSupervisor: previous, exitedMeanwhile: gone });
    for (const c of this.allStatuses()) {
      if (c.status !== 'running' || gone.includes(c.name)) continue;
      // A postStart the dead supervisor was running is not run again (kubelet does not either).
      if (c.waiting?.reason === 'ContainerCreating') c.waiting = undefined;
      const spec = this.containerSpec(c.name)!;
      if (!spec.startupProbe) this.markStarted(c.name);
      this.startProber(spec, c);
    }
    // Restarts the dead supervisor had pending (recorded with the exit): their timers died with it.
    for (const c of [...this.sidecars(), ...this.status.containers]) {
      if (c.status !== 'exited' || !c.restartPending) continue;
      if (this.willRestart(c)) this.scheduleRestart(c.name);
      else c.restartPending = undefined;
    }
    this.save();
    this.armDeadline();
    this.stopSidecarsWhenAppsAreDone();
    void this.resumeStart();
  }

  /** After a takeover: init containers and app containers the dead supervisor had not got to. */
  private async resumeStart(): Promise<void> {
    try {
      if (this.stage === 'initializing') await this.runInitContainers();
      if (this.stage === 'starting') await this.startAppContainers();
    } catch (err) {
      this.failedWhileInitializing(err);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Lookups

  private allStatuses(): ContainerStatusRecord[] {
    return [...(this.status.initContainers ?? []), ...this.status.containers];
  }

  /** The restartable init containers, in their order. */
  private sidecars(): ContainerStatusRecord[] {
    return (this.status.initContainers ?? []).filter((c) => c.sidecar);
  }

  private findStatus(name: string): ContainerStatusRecord | undefined {
    return this.allStatuses().find((c) => c.name === name);
  }

  private containerStatus(name: string): ContainerStatusRecord {
    const state = this.findStatus(name);
    if (!state) throw new PodnsError('pod.container', `pod "${this.status.name}" has no container "${name}"`);
    return state;
  }

  private containerSpec(name: string): ContainerSpec | undefined {
    return [...(this.spec.pod.spec.initContainers ?? []), ...this.spec.pod.spec.containers].find((c) => c.name === name);
  }
}

/** Where a recorded pod is in its life (adoption): from its containers. */
function stageOf(status: PodStatusRecord): Stage {
  if (status.phase === 'Stopped') return 'stopped';
  const appsBegan = status.containers.some((c) => c.status !== 'created');
  // A sidecar is past once it counted as started, or the app containers began (it runs on beside them).
  const initialized = (status.initContainers ?? []).every((c) => (c.sidecar ? c.started || appsBegan : c.status === 'exited' && c.exitCode === 0));
  if (!initialized) return 'initializing';
  if (!status.containers.every((c) => c.status !== 'created')) return 'starting';
  return 'running';
}
