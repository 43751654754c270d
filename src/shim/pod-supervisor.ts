/**
 * The kubelet's role for one pod, in-process: bring the sandbox and the containers up in order, watch their
 * exits through pidfds, write their logs, stop them on request, and keep state.json true. One object per
 * pod, so a single process could later supervise many pods (design.md: memory per pod matters).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { PodnsError, SysError } from '../errors.js';
import type { ImageRecord } from '../image/types.js';
import type { Logger } from '../log.js';
import { CriLogWriter } from '../logs/cri-log-writer.js';
import type { ContainerSpec, LifecycleHandler } from '../manifest/types.js';
import type { PodPaths } from '../state/paths.js';
import { writePodState, type ContainerState, type PodSpecFile, type PodState, type TerminatedState } from '../state/pod-state.js';
import { appendEvent } from '../state/events.js';
import { killAndReap, spawnProcess, spawnWithTerminal, watchExit, watchForeignExit, type ExitStatus } from '../sys/native.js';
import { FdStore, fdIdentity, fdTable, takeHeldFd } from '../runtime/fd-store.js';
import { SpawnRunner, TracingRunner } from '../sys/command.js';
import { StepLog } from '../explain/step-log.js';
import { describeCommand } from '../explain/describe-command.js';
import { describeSpawn } from '../explain/describe-spawn.js';
import { hostPortsOf, setUpPodNetwork } from '../network/bridge-network.js';
import { setUpCni } from '../network/cni.js';
import type { PodNetworkRecord } from '../state/pod-state.js';
import { containerDirs, planContainerSpawn, terminationLogFile, type ContainerPlanInput } from '../runtime/container-plan.js';
import { resolveEnv } from '../runtime/env.js';
import { kernelHostname, podDomain, podHostname, writePodFiles } from '../runtime/pod-files.js';
import { hostDeviceNames } from '../runtime/host-devices.js';
import { volumeHostPath } from '../runtime/volume-source.js';
import { ensureSharedOrSlave } from '../runtime/mount-propagation.js';
import { sysctlWrites } from '../security/confinement.js';
import { seccompFilterOf } from '../security/seccomp-filter.js';
import { isAlive, pidsInMountNamespace, processRef } from '../runtime/proc.js';
import { ensureSubPath, mountPodFilesystems, pinNetworkNamespace, startPause } from '../runtime/sandbox.js';
import { killPodProcesses, releasePodResources, removePodCgroups, removePodFiles } from '../runtime/pod-teardown.js';
import { containerLeaf, PAUSE_LEAF, planLayout } from '../cgroup/layout.js';
import { openCgroupDriver } from '../cgroup/open-driver.js';
import { attachDeviceFilter } from '../sys/native.js';
import type { CgroupDriver } from '../cgroup/driver.js';
import { containerLimits, podLimits, sandboxLimits } from '../cgroup/resources.js';
import { CrashLoopBackOff, shouldRestart } from './restart-policy.js';
import { execInContainer } from './container-exec.js';
import { ContainerIO, type AttachListener, type HeldRole } from './container-io.js';
import { ContainerProber, type ProbeKind } from './probes.js';
import { checkHttp } from './probe-connect.js';
import { computeConditions, computePhase, type PodStatusInput } from './pod-status.js';

interface Running {
  exited: Promise<ExitStatus>;
  /** Resolves once the exit is recorded: leftovers killed, log closed, state saved. */
  finished: Promise<void>;
  logs: CriLogWriter;
  /** Its stdin, output and terminal, for attach. */
  io: ContainerIO;
}

/** Why a start did not finish: a `podns stop` or `podns rm`, or the active deadline, came while the pod was starting. */
export class StartStopped extends PodnsError {}

/**
 * Opens the container's mount namespace and keeps it open until its exit is handled: a held namespace
 * cannot be freed, so its inode number cannot pass to another pod's namespace while we still search by it.
 * A process that already exited has no namespace links any more: undefined then.
 */
function holdMountNamespace(pid: number): { fd: number; inode: number } | undefined {
  try {
    const fd = fs.openSync(`/proc/${pid}/ns/mnt`, 'r');
    return { fd, inode: fs.fstatSync(fd).ino };
  } catch {
    return undefined;
  }
}

function isNotDirectory(p: string): boolean {
  try {
    return !fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The exit of a child we just spawned. Should watching fail, the child is killed and reaped at once. */
function watchChild(pid: number): Promise<ExitStatus> {
  return new Promise((resolve, reject) => {
    try {
      watchExit(pid, resolve);
    } catch (err) {
      killAndReap(pid);
      reject(err);
    }
  });
}

/**
 * The exit of a process that is not our child (a dead shim started it): polled through its pidfd. Undefined
 * when the pid no longer names it — it exited while no shim ran (or the pid was recycled: never adopted).
 */
function watchForeign(target: { pid: number; startTime: number }): Promise<ExitStatus> | undefined {
  let resolve!: (status: ExitStatus) => void;
  const exited = new Promise<ExitStatus>((r) => (resolve = r));
  try {
    watchForeignExit(target, resolve);
  } catch (err) {
    if (err instanceof SysError && err.code === 'ESRCH') return undefined;
    throw err;
  }
  return exited;
}

/** The status of an exit nobody saw: the process was gone when the shim that took the pod over came. */
const LOST: ExitStatus = { exitCode: null, signal: null, error: 'ENODATA' };

/** A running container as a taking-over shim found it, before it commits to the takeover. */
interface Found {
  state: ContainerState;
  /** Its exit, watched through a pidfd; undefined: it exited while no shim ran. */
  exited?: Promise<ExitStatus>;
  /** The fds the pause held for this run, taken back (a role missing: the pause no longer had it). */
  fds: Partial<Record<HeldRole, number>>;
}

/** An image's StopSignal ("SIGQUIT", "QUIT" or "3") as a number; SIGTERM when unset or unknown. */
export function stopSignalNumber(name: string | undefined): number {
  const signals = os.constants.signals as Record<string, number>;
  if (!name) return signals.SIGTERM!;
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase();
  return signals[upper.startsWith('SIG') ? upper : `SIG${upper}`] ?? signals.SIGTERM!;
}

/** A postStart hook has no timeout of its own in kubelet; podns bounds it so that a hung hook cannot hold the pod's start forever. */
const POST_START_TIMEOUT_MS = 120_000;

/** kubelet's way of printing a back-off: 10s, 1m20s, 5m0s. */
export function formatDelay(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(2).replace(/\.?0+$/, '')}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

/**
 * PF_EXITING in /proc/<pid>/stat's flags (field 9): the init of a PID namespace that is exiting waits for the
 * kernel to kill the rest of its namespace (zap_pid_ns_processes) before it becomes a zombie, so the others'
 * exits are seen while it still looks alive.
 */
function isExiting(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return (flags & 0x4) !== 0;
  } catch {
    return true;
  }
}

/** kubelet's limits (pkg/kubelet/container: MaxContainerTerminationMessageLength, ...LogLines, ...LogLength). */
const MAX_MESSAGE_BYTES = 4096;
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/**
 * The terminated state's message, as kubelet finds it: the termination-log file (up to 4 KiB); with
 * FallbackToLogsOnError, when that is empty and the exit is an error, the tail of the log (80 lines, 2 KiB).
 */
export function terminationMessage(file: string, logPath: string, policy: 'File' | 'FallbackToLogsOnError', exitCode: number): string | undefined {
  let text = '';
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(MAX_MESSAGE_BYTES);
      text = buf.subarray(0, fs.readSync(fd, buf, 0, MAX_MESSAGE_BYTES, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no file: no message from it
  }
  if (text === '' && policy === 'FallbackToLogsOnError' && exitCode !== 0) text = logTail(logPath, FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES);
  return text === '' ? undefined : text;
}

/** The last lines of a CRI log's content (partial lines joined), at most maxBytes (the end kept). */
function logTail(logPath: string, lines: number, maxBytes: number): string {
  let raw: string;
  try {
    raw = fs.readFileSync(logPath, 'utf8');
  } catch {
    return '';
  }
  let content = '';
  for (const line of raw.split('\n')) {
    // <time> <stream> <P|F> <content>
    const parts = line.split(' ');
    if (parts.length < 3) continue;
    content += parts.slice(3).join(' ') + (parts[2] === 'P' ? '' : '\n');
  }
  const tail = content.split('\n');
  if (tail.at(-1) === '') tail.pop();
  const text = tail.slice(-lines).join('\n') + (tail.length ? '\n' : '');
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length > maxBytes ? bytes.subarray(bytes.length - maxBytes).toString('utf8') : text;
}

/** The last line of a CRI log file, its content only (for a one-line error). */
function lastLogLine(file: string): string | undefined {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    // <time> <stream> <P|F> <content>
    return lines.at(-1)?.split(' ').slice(3).join(' ').trim() || undefined;
  } catch {
    return undefined;
  }
}

function kubeTerminated(c: ContainerState): TerminatedState {
  return { exitCode: c.exitCode ?? 0, signal: c.signal, reason: c.reason, message: c.message, startedAt: c.startedAt, finishedAt: c.finishedAt };
}

export class PodSupervisor {
  readonly state: PodState;
  private readonly running = new Map<string, Running>();
  private readonly steps: StepLog;
  private pauseExited?: Promise<ExitStatus>;
  private stopping = false;
  private cgroups?: CgroupDriver;
  /** The holder of the pod's namespaces (pause pid, or the first container's with --infra=none). */
  private holder = 0;
  private readonly filters = new Map<string, Buffer | undefined>();
  private readonly backOffs = new Map<string, CrashLoopBackOff>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** oom_kill count of each container's cgroup when its current run started: only new kills are its own. */
  private readonly oomBaseline = new Map<string, number>();
  /** The app containers have all been started once: the phase follows them from now on. */
  private appStarted = false;
  /** stop/abort/a dead sandbox decided the phase; containers exiting no longer change it. */
  private phaseFinal = false;
  private readonly backOffScale: number;
  /** One per running container that has probes; made after postStart, stopped on exit. */
  private readonly probers = new Map<string, ContainerProber>();
  /** Every init container has exited 0 (true when there are none). */
  private initialized: boolean;
  /** The pod's DNS domain (<subdomain>.<namespace>.svc.<cluster domain>) when it has a subdomain. */
  private readonly domain: string | undefined;
  /** The app containers are done: sidecars are being stopped and are not restarted any more. */
  private sidecarsStopping = false;
  private initFailed = false;
  /** The pause's fd store (none with --infra=none). */
  private fdStore?: FdStore;
  /** Settles when a stop or removal is asked for: every wait of the start gives way to it. */
  private readonly stopRequested: Promise<'stopped'>;
  private requestStop!: () => void;

  /** `recorded`: the state of a pod whose shim died, for a takeover (prepareTakeover); absent: a new pod. */
  constructor(
    private readonly paths: PodPaths,
    private readonly spec: PodSpecFile,
    private readonly log: Logger,
    recorded?: PodState,
  ) {
    const { pod } = spec;
    // A spec.json written before clusterDomain existed (a pod taken over): kubeadm's default, as network-config's.
    this.domain = pod.spec.hostNetwork ? undefined : podDomain(pod.spec, pod.metadata.namespace, spec.network.clusterDomain ?? 'cluster.local');
    this.initialized = !pod.spec.initContainers?.length;
    this.backOffScale = spec.backOffScale ?? 1;
    this.steps = new StepLog(paths.stepsFile);
    this.stopRequested = new Promise((resolve) => (this.requestStop = () => resolve('stopped')));
    if (recorded) {
      this.state = recorded;
      // A sidecar is past once it counted as started, or the app containers began (it runs on beside them).
      const appsBegan = recorded.containers.some((c) => c.status !== 'created');
      this.initialized = (recorded.initContainers ?? []).every((c) => (c.sidecar ? c.started || appsBegan : c.status === 'exited' && c.exitCode === 0));
      this.appStarted = recorded.containers.every((c) => c.status !== 'created');
      return;
    }
    this.state = {
      id: paths.id,
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      uid: spec.uid,
      createdAt: new Date().toISOString(),
      // hostNetwork pods share the node's UTS namespace, and so its hostname.
      hostname: pod.spec.hostNetwork ? os.hostname() : kernelHostname(podHostname(pod.metadata.name, pod.spec.hostname), this.domain, pod.spec.setHostnameAsFQDN),
      phase: 'Pending',
      supervisor: processRef(process.pid),
      hostMounts: [],
      shareProcessNamespace: pod.spec.shareProcessNamespace,
      infra: spec.infra,
      containers: pod.spec.containers.map((c) => {
        const image = spec.images[c.name]!;
        return {
          ...(pod.spec.initContainers?.length ? { waiting: { reason: 'PodInitializing' } } : {}),
          name: c.name,
          image: image.name,
          imageId: image.id,
          status: 'created' as const,
          restartCount: 0,
          logPath: `${paths.logDir}/${c.name}/0.log`,
          upperDir: containerDirs(paths, c.name).upper,
          spec: spec.processes[c.name]!,
        };
      }),
    };
  }

  /** terminationGracePeriodSeconds of the pod. */
  get gracePeriod(): number {
    return this.spec.pod.spec.terminationGracePeriodSeconds;
  }

  save(): void {
    this.refreshStatus();
    writePodState(this.paths.stateFile, this.state);
  }

  private statusInput(): PodStatusInput {
    return {
      initialized: this.initialized,
      initFailed: this.initFailed,
      containers: this.state.containers,
      sidecars: this.sidecars(),
      restarting: (name) => this.restartTimers.has(name),
      ready: (name) => this.probers.get(name)?.ready,
    };
  }

  /** Phase and conditions, recomputed from the containers on every save, as kubelet's status manager does. */
  private refreshStatus(): void {
    const input = this.statusInput();
    if (this.appStarted && !this.phaseFinal) this.state.phase = computePhase(input);
    this.state.conditions = computeConditions(input);
    for (const c of [...this.sidecars(), ...this.state.containers]) c.ready = c.status === 'running' && !c.waiting && (input.ready?.(c.name) ?? true);
  }

  /** An event in kubelet's words, for `podns events`. */
  private event(type: 'Normal' | 'Warning', reason: string, container: string | undefined, message: string): void {
    appendEvent(this.paths.eventsFile, { type, reason, object: `pod/${this.state.name}${container ? `/${container}` : ''}`, message });
  }

  /** RunPodSandbox, then CreateContainer + StartContainer for each container in order. */
  async start(): Promise<void> {
    const { pod } = this.spec;
    const spec = pod.spec;
    if (spec.initContainers?.length && this.spec.infra === 'none') {
      throw new PodnsError('shim.init', `pod "${pod.metadata.name}": init containers need the pause to hold the pod's namespaces (not --infra=none)`);
    }
    await this.prepareInitContainers();
    this.save();
    this.armDeadline();
    this.throwIfStopped();
    fs.mkdirSync(this.paths.libDir, { recursive: true, mode: 0o700 });
    this.createCgroups();
    mountPodFilesystems(spec, this.paths, this.state, () => this.save());
    for (const target of this.state.hostMounts) {
      this.steps.add({ actor: 'sandbox', what: `mount tmpfs on ${target}`, command: `mount -t tmpfs -o nosuid,nodev,noexec tmpfs ${target}` });
    }

    const host = { network: spec.hostNetwork, ipc: spec.hostIPC, pid: spec.hostPID };
    const filters = this.filters;
    for (const c of this.allContainers()) filters.set(c.name, await this.seccompFilterFor(c));
    this.throwIfStopped();
    const podFiles = () =>
      writePodFiles(this.paths.etcDir, {
        hostname: this.state.hostname,
        hostsName: podHostname(pod.metadata.name, spec.hostname),
        domain: this.domain,
        podIPs: this.state.podIP ? [this.state.podIP] : [],
        spec,
      });
    const [first] = pod.spec.containers;

    // The holder of the pod's namespaces: the pause, or with --infra=none the first container itself.
    let holder: number;
    if (this.spec.infra === 'none') {
      podFiles(); // its /etc files are bind-mounted now, and rewritten in place once the pod has its IP
      holder = this.startContainer(first!, this.spec.images[first!.name]!, 0, filters.get(first!.name), {
        hostname: this.state.hostname,
        sysctls: sysctlWrites(spec),
        host,
      });
    } else {
      const store = FdStore.create();
      this.state.fdStore = store.store.identity;
      try {
        holder = startPause(
          this.paths,
          this.state.hostname,
          sysctlWrites(spec),
          host,
          this.cgroups?.procsFiles(PAUSE_LEAF),
          (steps) => this.steps.addAll(steps),
          store.pauseFds,
        );
      } catch (err) {
        store.store.close();
        throw err;
      } finally {
        store.closeReceiveEnd();
      }
      this.fdStore = store.store;
      this.pauseExited = watchChild(holder);
      this.state.pause = processRef(holder) ?? { pid: holder, startTime: 0 };
      this.pauseExited.then((status) => this.onPauseExit(status));
    }
    this.holder = holder;
    if (!spec.hostNetwork) {
      this.state.netnsPin = this.paths.netnsPin;
      this.save();
      pinNetworkNamespace(holder, this.paths.netnsPin);
      this.steps.add({
        actor: 'sandbox',
        what: `pin the network namespace at ${this.paths.netnsPin}`,
        command: `touch ${this.paths.netnsPin} && mount --bind /proc/${holder}/ns/net ${this.paths.netnsPin}`,
      });
      await this.connectNetwork();
      this.throwIfStopped();
    }
    podFiles();
    const by = this.spec.infra === 'none' ? `container ${first!.name} (no pause)` : `pause pid ${holder}`;
    this.event('Normal', 'SandboxReady', undefined, `Pod sandbox ready: namespaces held by ${by}${this.state.podIP ? `, IP ${this.state.podIP}` : ''}`);
    this.log.info('sandbox ready', { holder, infra: this.spec.infra, netns: this.state.netnsPin, ip: this.state.podIP });

    // With --infra=none the first container was started before the network: its hook runs after the others.
    const startApps = () => this.startAppContainers(this.spec.infra === 'none' ? first!.name : undefined);
    // `podns run` waits for the app containers, or for the first init container that goes into back-off: a
    // crash-looping init container leaves the pod Pending (Init:CrashLoopBackOff), as kubelet would, and the
    // rest carries on here after the report. A failure under restartPolicy Never fails the start itself. A stop
    // or removal asked for meanwhile ends the wait at once (the caller aborts the start); the active deadline
    // stops the containers with their grace period first, and the sequence then fails.
    let inBackOff!: () => void;
    const backingOff = new Promise<'backoff'>((resolve) => (inBackOff = () => resolve('backoff')));
    this.onInitBackOff = inBackOff;
    const sequence = this.runInitContainers().then(startApps);
    const outcome = await Promise.race([sequence.then(() => 'started' as const), backingOff, this.stopRequested]).finally(
      () => (this.startReturned = true),
    );
    if (outcome === 'started') return this.throwIfStopped();
    sequence.catch((err) => {
      if (err instanceof StartStopped) return;
      this.log.error('pod failed while initializing', { error: err instanceof Error ? err.message : String(err) });
      this.save();
    });
    if (outcome === 'stopped') this.throwIfStopped();
  }

  /**
   * The app containers not started yet, in order, each followed by its postStart hook. `hookLast`: a container
   * already started (--infra=none's first) whose hook runs after the others.
   */
  private async startAppContainers(hookLast?: string): Promise<void> {
    for (const container of this.spec.pod.spec.containers) {
      if (this.containerState(container.name).status !== 'created') continue;
      this.throwIfStopped();
      this.startContainer(container, this.spec.images[container.name]!, this.holder, this.filters.get(container.name));
      await this.postStart(container);
    }
    this.throwIfStopped();
    const last = hookLast && this.spec.pod.spec.containers.find((c) => c.name === hookLast);
    if (last) await this.postStart(last);
    this.throwIfStopped();
    this.appStarted = true;
    this.save();
    this.stopSidecarsWhenAppsAreDone();
  }

  /** A stop or removal was asked for while the pod starts (or its deadline passed): nothing more may be started. */
  private throwIfStopped(): void {
    if (this.stopping) throw this.stoppedWhileInitializing();
  }

  private stopReason?: string;

  /**
   * `podns stop` or `podns rm` while the start is still running: the start gives up at its next step or wait
   * (start() throws StartStopped) and the caller aborts it, undoing everything. Nothing starts or restarts after this.
   */
  cancelStart(reason: string): void {
    this.stopReason ??= reason;
    this.stopping = true;
    this.phaseFinal = true;
    clearTimeout(this.deadlineTimer);
    for (const name of [...this.restartTimers.keys()]) this.cancelRestart(name);
    this.requestStop();
  }

  /**
   * kubelet's activeDeadlineSeconds: counted from the pod's start; past it every container is killed with the
   * pod's grace period and the pod is Failed, reason DeadlineExceeded, whatever its containers were doing.
   */
  private armDeadline(): void {
    const seconds = this.spec.pod.spec.activeDeadlineSeconds;
    if (seconds === undefined) return;
    const due = Date.parse(this.state.createdAt) + seconds * 1000 - Date.now();
    this.deadlineTimer = setTimeout(() => {
      if (this.stopping) return;
      const message = 'Pod was active on the node longer than the specified deadline';
      this.log.info('active deadline exceeded', { seconds });
      this.event('Normal', 'DeadlineExceeded', undefined, message);
      this.phaseFinal = true;
      Object.assign(this.state, { phase: 'Failed', reason: 'DeadlineExceeded', message });
      if (this.startReturned) {
        void this.stopPod(this.gracePeriod).then(() => this.onStopped?.());
        return;
      }
      // Still starting: the start fails (and its abort undoes everything); what runs now is stopped first.
      this.stopping = true;
      for (const c of this.allContainers()) void this.killContainer(c.name, this.gracePeriod, message);
    }, Math.max(0, due));
  }

  private deadlineTimer?: NodeJS.Timeout;
  /** start() has returned (or reported an init back-off): from then on the shim serves the pod. */
  private startReturned = false;

  private stoppedWhileInitializing(): StartStopped {
    if (this.state.reason === 'DeadlineExceeded') {
      return new StartStopped('shim.init', `pod "${this.state.name}" exceeded its activeDeadlineSeconds (${this.spec.pod.spec.activeDeadlineSeconds} s) while initializing (DeadlineExceeded)`);
    }
    return new StartStopped('shim.start', `stopped while starting (by ${this.stopReason ?? 'podns stop'})`);
  }

  private found: Found[] = [];

  /**
   * A takeover's first half (`podns recover`, the new shim under the takeover lock): reach the pause (its exit
   * watched through a pidfd: it is not our child) and its fd store, then each running container — its exit
   * watched the same way, verified by (pid, start time) so that a recycled pid is never adopted — and take its
   * fds back from the pause. Everything here can fail, and nothing is changed yet: a failed takeover leaves the
   * pod as it was (the copies taken die with this process).
   */
  prepareTakeover(): void {
    const pause = this.state.pause!;
    const pauseExited = watchForeign(pause);
    if (!pauseExited) throw new PodnsError('shim.takeover', `its pause (pid ${pause.pid}) is gone; remove it with podns rm -f ${this.state.name}`);
    this.pauseExited = pauseExited;
    this.holder = pause.pid;
    this.fdStore = FdStore.reopen(pause, this.state.fdStore!);
    const table = fdTable(pause.pid);
    for (const state of this.allContainers()) {
      if (state.status !== 'running') continue;
      const exited = state.process ? watchForeign(state.process) : undefined;
      const fds: Found['fds'] = {};
      for (const [role, id] of Object.entries(state.heldFds ?? {})) {
        const fd = takeHeldFd(pause, table, id);
        if (fd !== undefined) fds[role as HeldRole] = fd;
      }
      this.found.push({ state, exited, fds });
    }
    if (this.state.cgroups) {
      this.cgroups = openCgroupDriver(this.state.cgroups, { attachDeviceFilter });
      this.cgroups.onStep = (what, command) => this.steps.add({ actor: 'cgroup', what, command });
    }
    // The programs the containers run under, for their restarts (built by the first shim, kept beside the state).
    for (const c of this.allContainers()) this.filters.set(c.name, c.seccompFilterFile ? fs.readFileSync(c.seccompFilterFile) : undefined);
  }

  /**
   * The second half: this process is the pod's shim from now on (state.json says so). Output is read on into
   * each container's current CRI log (appended), exits go through the usual path (restartPolicy, back-off), a
   * container that exited while no shim ran is such an exit with its status lost (kubelet's
   * ContainerStatusUnknown, 137), probes start again, the active deadline is armed again, and what the dead
   * shim had in progress goes on: init containers, app containers not started yet, restarts it had pending
   * (their back-off starts afresh, as kubelet's does when kubelet restarts). A postStart hook the dead shim was
   * running is not run again: its container counts as started.
   */
  completeTakeover(): void {
    const previous = this.state.supervisor?.pid;
    this.state.supervisor = processRef(process.pid);
    this.startReturned = true;
    const gone = this.found.filter((f) => !f.exited).map((f) => f.state.name);
    this.event(
      'Normal',
      'TookOver',
      undefined,
      `Supervisor pid ${process.pid} took the pod over from supervisor pid ${previous ?? '?'}, which had died` +
        (gone.length ? `; exited meanwhile: ${gone.join(', ')}` : ''),
    );
    this.log.info('took the pod over', { previousShim: previous, pause: this.state.pause?.pid, exitedMeanwhile: gone });
    this.pauseExited!.then((status) => this.onPauseExit(status));
    const found = this.found;
    this.found = [];
    for (const { state, exited, fds } of found) this.adoptContainer(state, exited, fds);
    // Restarts the dead shim had pending (recorded with the exit): their timers died with it.
    for (const c of [...this.sidecars(), ...this.state.containers]) {
      if (c.status !== 'exited' || !c.restartPending || this.running.has(c.name)) continue;
      if (this.willRestart(c)) this.scheduleRestart(c.name);
      else c.restartPending = undefined;
    }
    this.save();
    this.armDeadline();
    this.stopSidecarsWhenAppsAreDone();
    void this.resumeStart();
  }

  private adoptContainer(state: ContainerState, exited: Promise<ExitStatus> | undefined, fds: Found['fds']): void {
    const name = state.name;
    const spec = this.containerSpec(name)!;
    this.oomBaseline.set(name, this.oomKillCount(name));
    const logs = new CriLogWriter(state.logPath);
    const io = ContainerIO.takenOver(spec, fds, logs, this.releaseStdin(name));
    // The namespace is held only if it is still the recorded one (its process runs): see holdMountNamespace.
    const held = exited && state.process ? holdMountNamespace(state.process.pid) : undefined;
    const mntNs = held && held.inode === state.mntNs ? held : undefined;
    if (held && !mntNs) fs.closeSync(held.fd);
    const whenExited = exited ?? Promise.resolve(LOST);
    const finished = whenExited
      .then((status) => this.onContainerExit(name, status, logs, io, mntNs !== undefined))
      .finally(() => mntNs && fs.closeSync(mntNs.fd));
    this.running.set(name, { exited: whenExited, finished, logs, io });
    if (exited) {
      // A postStart the dead shim was running is not run again (kubelet does not either): the container counts as
      // started now, no longer waiting for it.
      if (state.waiting?.reason === 'ContainerCreating') state.waiting = undefined;
      if (!spec.startupProbe) this.markStarted(name);
      this.startProber(spec, state);
    }
    this.log.info(exited ? 'container adopted' : 'container exited while no shim ran', { container: name, pid: state.process?.pid, fds: Object.keys(fds) });
  }

  /** After a takeover: init containers and app containers the dead shim had not got to. */
  private async resumeStart(): Promise<void> {
    try {
      if (!this.initialized) await this.runInitContainers();
      if (!this.appStarted) await this.startAppContainers();
    } catch (err) {
      if (err instanceof StartStopped) return;
      this.log.error('pod failed while initializing', { error: err instanceof Error ? err.message : String(err) });
      this.save();
    }
  }

  /** Told when an init container first enters its crash-loop back-off (see start). */
  private onInitBackOff?: () => void;

  /** CreateContainer + StartContainer; returns the container's pid. */
  private startContainer(
    container: ContainerSpec,
    image: ImageRecord,
    pausePid: number,
    seccompFilter: Buffer | undefined,
    createsPodNamespaces?: ContainerPlanInput['createsPodNamespaces'],
  ): number {
    const state = this.containerState(container.name);
    // A new CRI log per run, named by the restart count, as kubelet does (<container>/<restartCount>.log).
    state.logPath = path.join(this.paths.logDir, container.name, `${state.restartCount}.log`);
    this.oomBaseline.set(container.name, this.oomKillCount(container.name));
    const dirs = containerDirs(this.paths, container.name);
    for (const dir of [dirs.upper, dirs.work, dirs.rootfs]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    // Empty for each run; 0666 as kubelet makes it, so that a container of any user can write its message.
    const terminationLog = terminationLogFile(this.paths, container.name);
    fs.writeFileSync(terminationLog, '');
    fs.chmodSync(terminationLog, 0o666);
    for (const vm of container.volumeMounts) {
      if (vm.mountPropagation === 'HostToContainer') {
        const volume = this.spec.pod.spec.volumes.find((v) => v.name === vm.name)!;
        ensureSharedOrSlave(volumeHostPath(volume, this.paths), `container "${container.name}": volume "${vm.name}"`);
      }
      if (!vm.subPath) continue;
      const volume = this.spec.pod.spec.volumes.find((v) => v.name === vm.name)!;
      const root = volumeHostPath(volume, this.paths);
      ensureSubPath(root, vm.subPath, `container "${container.name}": volume "${vm.name}"`);
    }

    this.event('Normal', 'Pulled', container.name, `Container image "${image.name}" already present on machine`);
    // Everything that can fail comes before the spawn or is guarded, so that a started process is always
    // watched: an unreaped child of ours in the pod's PID namespace would keep the pause from ever exiting.
    const logs = new CriLogWriter(state.logPath);
    const io = ContainerIO.create(container, this.releaseStdin(container.name));
    let pid: number;
    let heldFds: ContainerState['heldFds'];
    try {
      // The pause holds copies of our ends of the pipes from before the container exists: whenever the shim
      // dies, the container never writes into a pipe without a reader (EPIPE) nor reads EOF from its stdin, and
      // a new shim takes them back.
      heldFds = this.holdInFdStore(container.name, io);
      state.spec = resolveEnv(state.spec, this.state.podIP);
      const request = planContainerSpawn(
        {
          pod: this.spec.pod.spec,
          container,
          image,
          process: state.spec,
          paths: this.paths,
          pausePid,
          stdio: io.terminal ? [-1, -1, -1] : io.childStdio(),
          hostDevices: state.spec.confinement.privileged ? hostDeviceNames() : undefined,
          seccompFilter,
          createsPodNamespaces,
        },
        isNotDirectory,
      );
      if (this.cgroups) request.cgroupProcsFiles = this.cgroups.procsFiles(containerLeaf(container.name));
      const explain = (steps: { step: string; index: number }[], p: number) => this.steps.addAll(describeSpawn(request, steps, `container/${container.name}`, p));
      let master: number | undefined;
      if (io.terminal) ({ pid, master } = spawnWithTerminal(request, `container "${container.name}"`, explain));
      else pid = spawnProcess(request, `container "${container.name}"`, explain);
      try {
        io.started(logs, master);
      } catch (err) {
        // A started process is always watched or gone: it must not stay a zombie in the pod's PID namespace.
        killAndReap(pid);
        throw err;
      }
      // A terminal's master exists only now. Best effort: the process runs, and is watched whatever happens here.
      if (master !== undefined) {
        try {
          heldFds = this.holdInFdStore(container.name, io);
        } catch (err) {
          this.log.error('the pause could not take the terminal; it will not outlive this shim', { container: container.name, error: String(err) });
        }
      }
    } catch (err) {
      io.abandon();
      void logs.close();
      throw err;
    }
    const exited = watchChild(pid);
    this.event('Normal', 'Created', container.name, `Created container ${container.name}`);
    this.event('Normal', 'Started', container.name, `Started container ${container.name}`);
    // Recorded at once: from here on a failed start (abort) or `rm -f` finds and kills it.
    Object.assign(state, {
      status: 'running',
      process: processRef(pid) ?? { pid, startTime: 0 },
      heldFds,
      startedAt: new Date().toISOString(),
      started: false,
      // The previous run's outcome is in lastState now. While a postStart hook runs the container is not yet
      // Running for kubelet ("its status is not set to RUNNING until the postStart handler completes").
      waiting: container.lifecycle?.postStart ? { reason: 'ContainerCreating', message: 'postStart hook running' } : undefined,
      restartPending: undefined,
      finishedAt: undefined,
      exitCode: undefined,
      signal: undefined,
      reason: undefined,
      message: undefined,
    } satisfies Partial<ContainerState>);
    const mntNs = holdMountNamespace(pid);
    state.mntNs = mntNs?.inode;
    const finished = exited
      .then((status) => this.onContainerExit(container.name, status, logs, io))
      .finally(() => mntNs && fs.closeSync(mntNs.fd));
    this.running.set(container.name, { exited, finished, logs, io });
    // On disk before its postStart runs: should the shim die during the hook, rm -f finds the process by state.
    this.save();
    this.log.info('container started', { container: container.name, pid, argv: state.spec.argv });
    return pid;
  }

  private allContainers(): ContainerState[] {
    return [...(this.state.initContainers ?? []), ...this.state.containers];
  }

  /** Each init container's state; `podns run` resolved their images and planned their processes. */
  private async prepareInitContainers(): Promise<void> {
    const inits = this.spec.pod.spec.initContainers ?? [];
    if (!inits.length) return;
    this.state.initContainers = [];
    for (const c of inits) {
      const image = this.spec.images[c.name]!;
      const process = this.spec.processes[c.name]!;
      this.state.initContainers.push({
        ...(c.restartPolicy === 'Always' ? { sidecar: true } : {}),
        name: c.name,
        image: image.name,
        imageId: image.id,
        status: 'created',
        restartCount: 0,
        logPath: `${this.paths.logDir}/${c.name}/0.log`,
        upperDir: containerDirs(this.paths, c.name).upper,
        spec: process,
      });
    }
  }

  /**
   * kubelet's SyncPod step 6: init containers one at a time, in order, each to exit 0 before the next; a
   * failure is retried after the crash-loop back-off unless restartPolicy is Never, which fails the pod.
   */
  private async runInitContainers(): Promise<void> {
    for (const c of this.spec.pod.spec.initContainers ?? []) {
      const state = this.containerState(c.name);
      if (c.restartPolicy === 'Always') {
        // A sidecar: started, not waited for; the next one starts once it counts as started (its postStart
        // returned and its startupProbe succeeded). Should it exit before that, it is restarted with the
        // crash-loop back-off like any sidecar exit, and the sequence waits on. After a takeover it may run
        // already (adopted) or be waiting for its restart: then only the wait is left.
        if (state.status === 'created') {
          this.throwIfStopped();
          this.startContainer(c, this.spec.images[c.name]!, this.holder, this.filters.get(c.name));
          this.save();
          await this.postStart(c);
        }
        await this.untilStarted(c.name);
        continue;
      }
      // Resumable (a shim that took the pod over picks up where the dead one was): done ones are skipped, a
      // running one (adopted) is waited for, a failed one goes through its back-off first.
      for (;;) {
        if (state.status === 'exited' && state.exitCode === 0) break;
        this.throwIfStopped();
        if (state.status === 'exited') await this.backOffInit(c.name);
        if (state.status !== 'running') {
          this.startContainer(c, this.spec.images[c.name]!, this.holder, this.filters.get(c.name));
          this.save();
        }
        await Promise.race([this.running.get(c.name)!.finished, this.stopRequested]);
      }
    }
    this.throwIfStopped();
    this.initialized = true;
    this.save();
  }

  /** After a failed init container: fail the pod under restartPolicy Never, else wait out the back-off (if any). */
  private async backOffInit(name: string): Promise<void> {
    const state = this.containerState(name);
    if (this.spec.pod.spec.restartPolicy === 'Never') {
      this.initFailed = true;
      this.save();
      const last = lastLogLine(state.logPath);
      throw new PodnsError(
        'shim.init',
        `init container "${name}" failed (Init:${state.reason ?? 'Error'}, exit code ${state.exitCode}); restartPolicy Never: the pod failed${last ? `; its last log line: ${last}` : ''}`,
      );
    }
    // The same back-off as the app containers (kubelet's doBackOff for init containers too): the first
    // retry is at once, and only a real wait is a CrashLoopBackOff that `podns run` reports (see start).
    const backOff = this.backOffOf(name);
    const finishedAt = Date.parse(state.finishedAt!);
    const delay = backOff.remaining(finishedAt, Date.now());
    if (delay > 0) {
      this.enterBackOff(state, backOff);
      this.save();
      this.onInitBackOff?.();
      await Promise.race([new Promise((resolve) => setTimeout(resolve, delay)), this.stopRequested]);
      this.throwIfStopped();
    }
    backOff.next(finishedAt, Date.now());
    state.lastState = { terminated: kubeTerminated(state) };
    state.restartCount += 1;
  }

  /** ip, nft and CNI plugins, each call logged as a step as it is made. */
  private networkRunner(): TracingRunner {
    return new TracingRunner(new SpawnRunner(), (argv, input) => this.steps.addAll(describeCommand(argv, input, 'network')));
  }

  /** The pod's network (bridge mode): veth, address, route, hostPorts; each piece recorded before it is made. */
  private async connectNetwork(): Promise<void> {
    const cfg = this.spec.network;
    if (cfg.mode === 'none') return;
    const record = (r: PodNetworkRecord) => {
      this.state.network = r;
      this.save();
    };
    // Sidecars publish ports too (a proxy's); plain init containers have none.
    const hostPorts = hostPortsOf([...(this.spec.pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...this.spec.pod.spec.containers]);
    if (cfg.mode === 'cni') {
      // The standard plugins, per the CNI spec, against the pinned netns; the same pod IP behaviour.
      const rec = await setUpCni(cfg, this.networkRunner(), this.paths.libRoot, this.paths.id, this.paths.netnsPin, hostPorts, record);
      this.state.podIP = rec.ip;
      this.save();
      return;
    }
    const rec = await setUpPodNetwork(cfg, this.networkRunner(), this.paths.libRoot, this.paths.id, this.paths.id, hostPorts, record);
    this.state.podIP = rec.ip;
    this.save();
  }

  /**
   * The pod cgroup (kubelet's pod-level limits), a leaf for the pause and one per container, each with its
   * limits, before any process exists; the layout is in state.json first, so teardown finds them whatever happens.
   */
  private createCgroups(): void {
    const plan = this.spec.cgroup;
    if (!plan) return;
    const containers = [...(this.spec.pod.spec.initContainers ?? []), ...this.spec.pod.spec.containers];
    const layout = planLayout(plan.host, plan.parents, this.paths.id, containers.map((c) => c.name));
    this.state.cgroups = layout;
    this.save();
    this.cgroups = openCgroupDriver(layout, { attachDeviceFilter });
    this.cgroups.onStep = (what, command) => this.steps.add({ actor: 'cgroup', what, command });
    this.cgroups.create(undefined, podLimits(this.spec.pod.spec, plan.pidsLimit));
    this.cgroups.create(PAUSE_LEAF, sandboxLimits());
    for (const c of containers) {
      this.cgroups.create(containerLeaf(c.name), containerLimits(c, this.containerState(c.name).spec.confinement.privileged));
    }
    this.log.info('cgroups created', { version: layout.version, pod: Object.values(layout.pod)[0] });
  }

  private oomKillCount(name: string): number {
    try {
      return this.cgroups?.oomKills(containerLeaf(name)) ?? 0;
    } catch {
      return 0;
    }
  }

  private oomKilled(name: string): boolean {
    return this.oomKillCount(name) > (this.oomBaseline.get(name) ?? 0);
  }

  private async removeCgroups(): Promise<void> {
    await removePodCgroups(this.state).catch((err) => this.log.error('cgroup removal failed', { error: String(err) }));
  }

  /** Built here, and kept beside the pod's state so that `podns exec` applies the very same program. */
  private async seccompFilterFor(state: ContainerState): Promise<Buffer | undefined> {
    const filter = await seccompFilterOf(state.spec.confinement, this.paths.libRoot);
    if (filter) {
      state.seccompFilterFile = path.join(this.paths.runDir, `seccomp-${state.name}.bpf`);
      fs.writeFileSync(state.seccompFilterFile, filter, { mode: 0o600 });
    }
    return filter;
  }

  private containerState(name: string): ContainerState {
    const state = this.allContainers().find((c) => c.name === name);
    if (!state) throw new PodnsError('shim.container', `pod "${this.state.name}" has no container "${name}"`);
    return state;
  }

  /**
   * `mntNsHeld`: the container's mount namespace is held open by us (so its recorded inode is still its own);
   * false for a container that exited while no shim ran, whose inode may name another namespace by now.
   */
  private async onContainerExit(name: string, status: ExitStatus, logs: CriLogWriter, io: ContainerIO, mntNsHeld = true): Promise<void> {
    const state = this.containerState(name);
    this.probers.get(name)?.stop();
    this.probers.delete(name);
    if (this.sandboxGone() && name !== this.state.containers[0]!.name) state.endedWithSandbox = true;
    // Processes the main one left behind in a shared PID namespace (re-parented to pause) go with it;
    // they may hold the log pipe, so they go before the log is closed.
    for (const pid of this.leftoverPids(state, mntNsHeld)) this.kill(pid, 'SIGKILL');
    await logs.close().catch((err) => this.log.error('log close failed', { container: name, error: String(err) }));
    // The run's output is read to the end: the pause may drop its copies of the pipes now.
    this.nudgeFdStore();
    const lost = status.exitCode === null && status.signal === null;
    // A container that exits by a signal reports 128+signal, as kubelet shows it (SIGKILL: 137). A status that was
    // lost counts as kubelet counts it: 137, ContainerStatusUnknown.
    const exitCode = lost ? 137 : (status.exitCode ?? 128 + status.signal!);
    const spec = this.containerSpec(name);
    const message = lost
      ? `The container's exit was not seen: the supervisor that started it died, and supervisor pid ${process.pid} took the pod over after it had exited (its status is lost)`
      : terminationMessage(terminationLogFile(this.paths, name), state.logPath, spec?.terminationMessagePolicy ?? 'File', exitCode);
    Object.assign(state, {
      status: 'exited',
      started: false,
      finishedAt: new Date().toISOString(),
      exitCode,
      signal: status.signal ?? undefined,
      // As containerd reports it: an OOM kill in the container's cgroup makes the reason OOMKilled (exit 137).
      reason: lost ? 'ContainerStatusUnknown' : this.oomKilled(name) ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      message,
    } satisfies Partial<ContainerState>);
    state.restartPending = this.willRestart(state) || undefined;
    this.save();
    io.ended(exitCode);
    if (state.reason === 'OOMKilled') this.event('Warning', 'OOMKilled', name, `Container ${name} was killed by the OOM killer (exit code ${exitCode})`);
    this.log.info('container exited', { container: name, exitCode, signal: status.signal });
    if (state.restartPending) this.scheduleRestart(name);
    this.save();
    if (!state.sidecar) this.stopSidecarsWhenAppsAreDone();
  }

  /** Hands the run's fds (ContainerIO.heldFds) to the pause's fd store; returns their identities for state.json. */
  private holdInFdStore(name: string, io: ContainerIO): ContainerState['heldFds'] {
    const held = Object.entries(io.heldFds());
    if (!this.fdStore || held.length === 0) return undefined;
    this.fdStore.hold(held.map(([, fd]) => fd), `container "${name}"'s stdio`);
    return Object.fromEntries(held.map(([role, fd]) => [role, fdIdentity(fd)]));
  }

  /** For ContainerIO: stdin closed on purpose (stdinOnce) is taken back from the pause first, so EOF reaches the container. */
  private releaseStdin(name: string): (fd: number) => void {
    return (fd) => this.fdStore?.drop([fd], `container "${name}"'s stdin`);
  }

  /** What is left of a container whose main process exited: its mount namespace's processes, and its cgroup's. */
  private leftoverPids(state: ContainerState, mntNsHeld: boolean): number[] {
    const pids = new Set<number>();
    if (mntNsHeld && state.mntNs !== undefined) for (const pid of pidsInMountNamespace(state.mntNs)) pids.add(pid);
    if (this.cgroups) for (const pid of this.cgroups.pids(containerLeaf(state.name))) pids.add(pid);
    return [...pids];
  }

  private nudgeFdStore(): void {
    try {
      this.fdStore?.nudge();
    } catch (err) {
      // The pause is gone (the sandbox died): nothing is held any more.
      this.log.debug('fd store nudge failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The restartable init containers, in their order. */
  private sidecars(): ContainerState[] {
    return (this.state.initContainers ?? []).filter((c) => c.sidecar);
  }

  /** Resolves once the sidecar counts as started (see runInitContainers); rejects when the pod is stopping. */
  private untilStarted(name: string): Promise<void> {
    const state = this.containerState(name);
    if (state.started) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.stopping) reject(this.stoppedWhileInitializing());
        else if (state.started) resolve();
        else setTimeout(check, 50);
      };
      check();
    });
  }

  /** Marks the container started (kubelet's Started) and saves. */
  private markStarted(name: string): void {
    const state = this.containerState(name);
    if (state.status !== 'running' || state.started) return;
    state.started = true;
    this.save();
  }

  /**
   * kubelet's sidecar rule: once every app container has terminated for good (none running, none waiting to
   * restart), the sidecars are stopped, in reverse order, and not restarted; the pod's phase is the app
   * containers' (Succeeded or Failed).
   */
  private stopSidecarsWhenAppsAreDone(): void {
    if (!this.appStarted || this.stopping || this.sidecarsStopping || this.sidecars().length === 0) return;
    if (!this.state.containers.every((c) => c.status === 'exited' && !this.restartTimers.has(c.name))) return;
    this.sidecarsStopping = true;
    this.log.info('app containers done; stopping sidecars');
    void (async () => {
      for (const c of this.sidecars().reverse()) {
        this.cancelRestart(c.name);
        await this.killContainer(c.name, this.gracePeriod, `Stopping container ${c.name}: the pod's app containers have terminated`);
        await this.running.get(c.name)?.finished;
      }
      this.save();
    })();
  }

  /** restartPolicy decides, unless podns stopped it; with --infra=none the first container holds the pod's namespaces and cannot come back. */
  private willRestart(state: ContainerState): boolean {
    if (this.stopping || state.stoppedByUser) return false;
    // Sidecars come back whatever the pod's restartPolicy, until the app containers are done for good.
    if (state.sidecar) return !this.sidecarsStopping;
    // Init containers are retried by runInitContainers, in order.
    if (this.state.initContainers?.includes(state)) return false;
    if (this.spec.infra === 'none' && (state.name === this.state.containers[0]!.name || this.sandboxGone())) return false;
    return shouldRestart(this.spec.pod.spec.restartPolicy, state.exitCode ?? 0);
  }

  /** With --infra=none: the first container held the pod's namespaces and has exited; nothing can start in them again. */
  private sandboxGone(): boolean {
    if (this.spec.infra !== 'none') return false;
    const holder = this.state.containers[0]!;
    return holder.stoppedByUser === true || holder.status === 'exited' || !isAlive(holder.process) || isExiting(holder.process!.pid);
  }

  private backOffOf(name: string): CrashLoopBackOff {
    let backOff = this.backOffs.get(name);
    if (!backOff) this.backOffs.set(name, (backOff = new CrashLoopBackOff(this.backOffScale)));
    return backOff;
  }

  /** Waiting: CrashLoopBackOff, with kubelet's message and BackOff event; only for a restart that really waits. */
  private enterBackOff(state: ContainerState, backOff: CrashLoopBackOff): void {
    const { name } = state;
    state.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${formatDelay(backOff.current)} restarting failed container=${name} pod=${this.state.name}` };
    this.event('Warning', 'BackOff', name, `Back-off restarting failed container ${name} in pod ${this.state.name}`);
  }

  /** A new run once the back-off since the exit has passed: at once after the first exit (see CrashLoopBackOff). */
  private scheduleRestart(name: string): void {
    const state = this.containerState(name);
    state.restartPending = true;
    const backOff = this.backOffOf(name);
    const delay = backOff.remaining(Date.parse(state.finishedAt!), Date.now());
    if (delay > 0) this.enterBackOff(state, backOff);
    this.log.info('restart scheduled', { container: name, delayMs: delay, restartCount: state.restartCount });
    // A timer even for 0 ms: the pending restart is what keeps the pod Running meanwhile, and a stop cancels it.
    this.restartTimers.set(name, setTimeout(() => this.restartContainer(name), delay));
  }

  private restartContainer(name: string): void {
    this.restartTimers.delete(name);
    const state = this.containerState(name);
    if (this.stopping || state.stoppedByUser) {
      state.restartPending = undefined;
      return;
    }
    this.backOffOf(name).next(Date.parse(state.finishedAt!), Date.now());
    state.lastState = { terminated: kubeTerminated(state) };
    state.restartCount += 1;
    // kubelet keeps the logs of the current and the previous run only.
    if (state.restartCount >= 2) fs.rmSync(path.join(this.paths.logDir, name, `${state.restartCount - 2}.log`), { force: true });
    const container = this.containerSpec(name)!;
    try {
      this.startContainer(container, this.spec.images[name]!, this.holder, this.filters.get(name));
      this.postStart(container).catch((err) => this.log.error('postStart failed', { container: name, error: String(err) }));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error('restart failed', { container: name, error: message });
      this.event('Warning', 'Failed', name, `Error: ${message}`);
      const now = new Date().toISOString();
      Object.assign(state, { status: 'exited', exitCode: 128, reason: 'StartError', message, startedAt: now, finishedAt: now } satisfies Partial<ContainerState>);
      this.scheduleRestart(name);
    }
    this.save();
  }

  private cancelRestart(name: string): void {
    const timer = this.restartTimers.get(name);
    if (!timer) return;
    clearTimeout(timer);
    this.restartTimers.delete(name);
    Object.assign(this.containerState(name), { waiting: undefined, restartPending: undefined });
  }

  private onPauseExit(status: ExitStatus): void {
    if (this.stopping) return;
    // The sandbox is gone: kubelet would recreate the pod; podns reports it failed and cleans up.
    this.log.error('pause exited unexpectedly; stopping the pod', { exitCode: status.exitCode, signal: status.signal });
    this.phaseFinal = true;
    this.state.phase = 'Failed';
    void this.stopPod(0).then(() => this.onStopped?.());
  }

  /** Called when the pod has stopped for good and the shim may exit. */
  onStopped?: () => void;

  private kill(pid: number, signal: NodeJS.Signals | number): void {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }

  /** StopContainer: the image's stop signal (SIGTERM by default), then SIGKILL after the grace period. */
  async stopContainer(name: string, graceSeconds: number): Promise<ContainerState> {
    const state = this.containerState(name);
    state.stoppedByUser = true;
    this.cancelRestart(name);
    await this.killContainer(name, graceSeconds, `Stopping container ${name}`);
    await this.running.get(name)?.finished;
    this.save();
    return state;
  }

  /**
   * kubelet's killContainer: the preStop hook, counted against the grace period, then the stop signal, then
   * SIGKILL once the grace period is used up. As kubelet does, a preStop that eats the grace period still
   * leaves the process 2 s after the stop signal (minimumGracePeriodInSeconds).
   */
  private async killContainer(name: string, graceSeconds: number, message: string): Promise<void> {
    const state = this.containerState(name);
    const running = this.running.get(name);
    if (state.status !== 'running' || !running || !state.process || !isAlive(state.process)) return;
    const pid = state.process.pid;
    this.event('Normal', 'Killing', name, message);
    const deadline = Date.now() + graceSeconds * 1000;
    const preStop = this.containerSpec(name)?.lifecycle?.preStop;
    let graceMs = graceSeconds * 1000;
    if (preStop && graceSeconds > 0) {
      const failure = await Promise.race([this.runHook(state, preStop, graceMs), running.exited.then(() => undefined)]);
      if (failure) this.event('Warning', 'FailedPreStopHook', name, `PreStopHook failed: ${failure}`);
      graceMs = Math.max(deadline - Date.now(), 2000);
    }
    const image = this.spec.images[name];
    this.kill(pid, graceMs > 0 ? stopSignalNumber(image?.config.StopSignal) : 'SIGKILL');
    const timedOut = await Promise.race([
      running.exited.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
    ]);
    if (timedOut) {
      this.log.info('grace period over, killing', { container: name });
      this.kill(pid, 'SIGKILL');
      await running.exited;
    }
  }

  private containerSpec(name: string): ContainerSpec | undefined {
    return [...(this.spec.pod.spec.initContainers ?? []), ...this.spec.pod.spec.containers].find((c) => c.name === name);
  }

  /**
   * One lifecycle hook; resolves with undefined on success, else with what went wrong (for the event). exec:
   * in the container, as podns exec; httpGet: from the shim to the pod IP (or the hook's host).
   */
  private async runHook(state: ContainerState, hook: LifecycleHandler, timeoutMs: number): Promise<string | undefined> {
    try {
      if ('sleep' in hook) {
        // kubelet's runSleepHandler: a timer in the kubelet, nothing runs in the container.
        await new Promise((resolve) => setTimeout(resolve, Math.min(hook.sleep.seconds * 1000, timeoutMs)).unref());
        return undefined;
      }
      if ('exec' in hook) {
        let output = '';
        const code = await execInContainer(state, hook.exec.command, timeoutMs, {
          cgroupProcsFiles: this.cgroups?.procsFiles(containerLeaf(state.name)),
          output: (text) => (output = text),
        });
        return code === 0 ? undefined : `command ${JSON.stringify(hook.exec.command)} exited with ${code}: ${output.trim()}`;
      }
      const host = hook.httpGet.host ?? this.state.podIP;
      if (!host) return 'httpGet hooks need a pod IP, and this pod has none (network mode none)';
      const outcome = await checkHttp({ host, port: hook.httpGet.port, path: hook.httpGet.path, headers: hook.httpGet.httpHeaders, timeoutMs });
      return outcome.ok ? undefined : `Get "http://${host}:${hook.httpGet.port}${hook.httpGet.path}": ${outcome.message}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /**
   * The postStart hook of a container just started: as kubelet, the next container starts only when it has
   * returned; a failing hook kills the container (FailedPostStartHook), which restartPolicy may bring back.
   */
  private async postStart(container: ContainerSpec): Promise<void> {
    const hook = container.lifecycle?.postStart;
    const state = this.containerState(container.name);
    const pid = state.process?.pid;
    if (hook) {
      const failure = await this.runHook(state, hook, POST_START_TIMEOUT_MS);
      if (state.process?.pid === pid && state.waiting?.reason === 'ContainerCreating') {
        state.waiting = undefined;
        this.save();
      }
      if (failure && !this.stopping && state.status === 'running') {
        this.event('Warning', 'FailedPostStartHook', container.name, `PostStartHook failed: ${failure}`);
        await this.killContainer(container.name, this.gracePeriod, `FailedPostStartHook: container ${container.name} will be killed`);
        return;
      }
    }
    // Probes start once the container counts as started (after its postStart), for this run only.
    if (state.status === 'running' && state.process?.pid === pid) {
      if (!container.startupProbe) this.markStarted(container.name);
      this.startProber(container, state);
    }
  }

  private startProber(container: ContainerSpec, state: ContainerState): void {
    if (!container.livenessProbe && !container.readinessProbe && !container.startupProbe) return;
    const label: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };
    const name = container.name;
    const prober = new ContainerProber(
      container,
      {
        exec: (argv, timeoutMs) => execInContainer(state, argv, timeoutMs, { cgroupProcsFiles: this.cgroups?.procsFiles(containerLeaf(name)) }),
        podIP: this.state.podIP,
        netnsPath: this.state.netnsPin,
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
    );
    this.probers.set(name, prober);
    prober.start();
  }

  /**
   * A client attaches to a running container's current run (CRI Attach): its output from now on, its stdin
   * when it asks for it and the container keeps one, its terminal's size. Refused when it is not running.
   */
  attach(name: string, listener: AttachListener, usesStdin: boolean): { io: ContainerIO; leave: () => void } {
    const state = this.containerState(name);
    const running = this.running.get(name);
    if (state.status !== 'running' || !running) {
      const why = state.waiting?.reason ?? state.reason ?? state.status;
      throw new PodnsError('shim.attach', `container "${name}" of pod "${this.state.name}" is not running (${why})`);
    }
    if (usesStdin && !running.io.stdinOpen) {
      throw new PodnsError('shim.attach', `container "${name}" of pod "${this.state.name}" was not started with stdin: true, so there is no stdin to attach to`);
    }
    return { io: running.io, leave: running.io.attach(listener, usesStdin) };
  }

  /** StopPodSandbox: every container, then the pause; the network namespace pin and host mounts go. */
  async stopPod(graceSeconds: number): Promise<void> {
    this.stopping = true;
    this.phaseFinal = true;
    this.requestStop();
    clearTimeout(this.deadlineTimer);
    for (const name of [...this.restartTimers.keys()]) this.cancelRestart(name);
    // kubelet's order: the app (and init) containers together, then the sidecars one by one in reverse order,
    // each with what is left of the grace period (at least kubelet's minimum of 2 s, unless the stop is forced).
    const deadline = Date.now() + graceSeconds * 1000;
    await Promise.all(this.allContainers().filter((c) => !c.sidecar).map((c) => this.stopContainer(c.name, graceSeconds)));
    for (const c of this.sidecars().reverse()) {
      await this.stopContainer(c.name, graceSeconds === 0 ? 0 : Math.max((deadline - Date.now()) / 1000, 2));
    }
    if (this.state.pause && isAlive(this.state.pause)) this.kill(this.state.pause.pid, 'SIGKILL');
    await this.pauseExited;
    this.fdStore?.close();
    await killPodProcesses(this.state);
    await this.removeCgroups();
    await releasePodResources(this.state, this.paths.libRoot);
    if (this.state.phase !== 'Failed') this.state.phase = 'Stopped';
    this.save();
  }

  /** RemovePodSandbox: stop (SIGKILL when forced) and delete every file of the pod. */
  async remove(force: boolean): Promise<void> {
    await this.stopPod(force ? 0 : this.spec.pod.spec.terminationGracePeriodSeconds);
    removePodFiles(this.paths);
  }

  /** After a failed start: kill what was started, undo what was made, delete the files. */
  async abort(): Promise<void> {
    this.stopping = true;
    this.phaseFinal = true;
    this.requestStop();
    clearTimeout(this.deadlineTimer);
    for (const name of [...this.restartTimers.keys()]) this.cancelRestart(name);
    await killPodProcesses(this.state).catch((err) => this.log.error('abort: kill failed', { error: String(err) }));
    // Bounded: the CLI is waiting for our report, whatever state the kernel left us in.
    const settled = Promise.all([...this.running.values()].map((r) => r.finished)).then(() => this.pauseExited);
    const timedOut = await Promise.race([settled.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 10_000).unref())]);
    if (timedOut) this.log.error('abort: processes did not exit in 10 s; removing what can be removed');
    await this.removeCgroups();
    try {
      await releasePodResources(this.state, this.paths.libRoot);
    } finally {
      removePodFiles(this.paths);
    }
  }
}
