/**
 * The kubelet's role for one pod, in-process: bring the sandbox and the containers up in order, watch their
 * exits through pidfds, write their logs, stop them on request, and keep state.json true. One object per
 * pod, so a single process could later supervise many pods (design.md: memory per pod matters).
 */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import os from 'node:os';
import { PodnsError } from '../errors.js';
import type { ImageRecord } from '../image/types.js';
import type { Logger } from '../log.js';
import { CriLogWriter } from '../logs/cri-log-writer.js';
import type { ContainerSpec } from '../manifest/types.js';
import type { PodPaths } from '../state/paths.js';
import { writePodState, type ContainerState, type PodSpecFile, type PodState } from '../state/pod-state.js';
import { appendEvent } from '../state/events.js';
import { killAndReap, makePipe, spawnProcess, watchExit, type ExitStatus } from '../sys/native.js';
import { SpawnRunner, TracingRunner } from '../sys/command.js';
import { StepLog } from '../explain/step-log.js';
import { describeCommand } from '../explain/describe-command.js';
import { describeSpawn } from '../explain/describe-spawn.js';
import { hostPortsOf, setUpPodNetwork } from '../network/bridge-network.js';
import { setUpCni } from '../network/cni.js';
import type { PodNetworkRecord } from '../state/pod-state.js';
import { containerDirs, planContainerSpawn, type ContainerPlanInput } from '../runtime/container-plan.js';
import { resolveEnv } from '../runtime/env.js';
import { podHostname, writePodFiles } from '../runtime/pod-files.js';
import { hostDeviceNames } from '../runtime/host-devices.js';
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

interface Running {
  exited: Promise<ExitStatus>;
  /** Resolves once the exit is recorded: leftovers killed, log closed, state saved. */
  finished: Promise<void>;
  logs: CriLogWriter;
}

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

/** An image's StopSignal ("SIGQUIT", "QUIT" or "3") as a number; SIGTERM when unset or unknown. */
export function stopSignalNumber(name: string | undefined): number {
  const signals = os.constants.signals as Record<string, number>;
  if (!name) return signals.SIGTERM!;
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase();
  return signals[upper.startsWith('SIG') ? upper : `SIG${upper}`] ?? signals.SIGTERM!;
}

export class PodSupervisor {
  readonly state: PodState;
  private readonly running = new Map<string, Running>();
  private readonly steps: StepLog;
  private pauseExited?: Promise<ExitStatus>;
  private stopping = false;
  private cgroups?: CgroupDriver;

  constructor(
    private readonly paths: PodPaths,
    private readonly spec: PodSpecFile,
    private readonly log: Logger,
  ) {
    const { pod } = spec;
    this.steps = new StepLog(paths.stepsFile);
    this.state = {
      id: paths.id,
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      uid: spec.uid,
      createdAt: new Date().toISOString(),
      // hostNetwork pods share the node's UTS namespace, and so its hostname.
      hostname: pod.spec.hostNetwork ? os.hostname() : podHostname(pod.metadata.name, pod.spec.hostname),
      phase: 'Pending',
      shim: processRef(process.pid),
      hostMounts: [],
      shareProcessNamespace: pod.spec.shareProcessNamespace,
      infra: spec.infra,
      containers: pod.spec.containers.map((c) => {
        const image = spec.images[c.name]!;
        return {
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
    writePodState(this.paths.stateFile, this.state);
  }

  /** An event in kubelet's words, for `podns events`. */
  private event(type: 'Normal' | 'Warning', reason: string, container: string | undefined, message: string): void {
    appendEvent(this.paths.eventsFile, { type, reason, object: `pod/${this.state.name}${container ? `/${container}` : ''}`, message });
  }

  /** RunPodSandbox, then CreateContainer + StartContainer for each container in order. */
  async start(): Promise<void> {
    const { pod } = this.spec;
    const spec = pod.spec;
    this.save();
    fs.mkdirSync(this.paths.libDir, { recursive: true, mode: 0o700 });
    this.createCgroups();
    mountPodFilesystems(spec, this.paths, this.state, () => this.save());
    for (const target of this.state.hostMounts) {
      this.steps.add({ actor: 'sandbox', what: `mount tmpfs on ${target}`, command: `mount -t tmpfs -o nosuid,nodev,noexec tmpfs ${target}` });
    }

    const host = { network: spec.hostNetwork, ipc: spec.hostIPC, pid: spec.hostPID };
    const filters = new Map<string, Buffer | undefined>();
    for (const c of this.state.containers) filters.set(c.name, await this.seccompFilterFor(c));
    const podFiles = () =>
      writePodFiles(this.paths.etcDir, { hostname: this.state.hostname, podIPs: this.state.podIP ? [this.state.podIP] : [], spec });
    const [first, ...rest] = pod.spec.containers;

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
      holder = startPause(this.paths, this.state.hostname, sysctlWrites(spec), host, this.cgroups?.procsFiles(PAUSE_LEAF), (steps) => this.steps.addAll(steps));
      this.pauseExited = watchChild(holder);
      this.state.pause = processRef(holder) ?? { pid: holder, startTime: 0 };
      this.pauseExited.then((status) => this.onPauseExit(status));
    }
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
    }
    podFiles();
    const by = this.spec.infra === 'none' ? `container ${first!.name} (no pause)` : `pause pid ${holder}`;
    this.event('Normal', 'SandboxReady', undefined, `Pod sandbox ready: namespaces held by ${by}${this.state.podIP ? `, IP ${this.state.podIP}` : ''}`);
    this.log.info('sandbox ready', { holder, infra: this.spec.infra, netns: this.state.netnsPin, ip: this.state.podIP });

    for (const container of this.spec.infra === 'none' ? rest : pod.spec.containers) {
      this.startContainer(container, this.spec.images[container.name]!, holder, filters.get(container.name));
    }
    this.state.phase = 'Running';
    this.save();
  }

  /** CreateContainer + StartContainer; returns the container's pid. */
  private startContainer(
    container: ContainerSpec,
    image: ImageRecord,
    pausePid: number,
    seccompFilter: Buffer | undefined,
    createsPodNamespaces?: ContainerPlanInput['createsPodNamespaces'],
  ): number {
    const state = this.containerState(container.name);
    const dirs = containerDirs(this.paths, container.name);
    for (const dir of [dirs.upper, dirs.work, dirs.rootfs]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const vm of container.volumeMounts) {
      if (!vm.subPath) continue;
      const volume = this.spec.pod.spec.volumes.find((v) => v.name === vm.name)!;
      const root = 'hostPath' in volume ? volume.hostPath.path : path.join(this.paths.volumesDir, volume.name);
      ensureSubPath(root, vm.subPath, `container "${container.name}": volume "${vm.name}"`);
    }

    this.event('Normal', 'Pulled', container.name, `Container image "${image.name}" already present on machine`);
    // Everything that can fail comes before the spawn or is guarded, so that a started process is always
    // watched: an unreaped child of ours in the pod's PID namespace would keep the pause from ever exiting.
    const logs = new CriLogWriter(state.logPath);
    const [outRead, outWrite] = makePipe();
    const [errRead, errWrite] = makePipe();
    const devNull = fs.openSync('/dev/null', 'r');
    let pid: number;
    try {
      state.spec = resolveEnv(state.spec, this.state.podIP);
      const request = planContainerSpawn(
        {
          pod: this.spec.pod.spec,
          container,
          image,
          process: state.spec,
          paths: this.paths,
          pausePid,
          stdio: [devNull, outWrite, errWrite],
          hostDevices: state.spec.confinement.privileged ? hostDeviceNames() : undefined,
          seccompFilter,
          createsPodNamespaces,
        },
        isNotDirectory,
      );
      if (this.cgroups) request.cgroupProcsFiles = this.cgroups.procsFiles(containerLeaf(container.name));
      pid = spawnProcess(request, `container "${container.name}"`, (steps, p) =>
        this.steps.addAll(describeSpawn(request, steps, `container/${container.name}`, p)),
      );
    } catch (err) {
      for (const fd of [outRead, errRead]) fs.closeSync(fd);
      void logs.close();
      throw err;
    } finally {
      for (const fd of [outWrite, errWrite, devNull]) fs.closeSync(fd);
    }
    const exited = watchChild(pid);
    this.event('Normal', 'Created', container.name, `Created container ${container.name}`);
    this.event('Normal', 'Started', container.name, `Started container ${container.name}`);
    // Recorded at once: from here on a failed start (abort) or `rm -f` finds and kills it.
    Object.assign(state, {
      status: 'running',
      process: processRef(pid) ?? { pid, startTime: 0 },
      startedAt: new Date().toISOString(),
    } satisfies Partial<ContainerState>);
    const mntNs = holdMountNamespace(pid);
    state.mntNs = mntNs?.inode;
    logs.attach(new net.Socket({ fd: outRead, readable: true, writable: false }), 'stdout');
    logs.attach(new net.Socket({ fd: errRead, readable: true, writable: false }), 'stderr');
    const finished = exited
      .then((status) => this.onContainerExit(container.name, status, logs))
      .finally(() => mntNs && fs.closeSync(mntNs.fd));
    this.running.set(container.name, { exited, finished, logs });
    this.log.info('container started', { container: container.name, pid, argv: state.spec.argv });
    return pid;
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
    const hostPorts = hostPortsOf(this.spec.pod.spec.containers);
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
    const containers = this.spec.pod.spec.containers;
    const layout = planLayout(plan.host, plan.parents, this.paths.id, containers.map((c) => c.name));
    this.state.cgroups = layout;
    this.save();
    this.cgroups = openCgroupDriver(layout, { attachDeviceFilter });
    this.cgroups.onStep = (what, command) => this.steps.add({ actor: 'cgroup', what, command });
    this.cgroups.create(undefined, podLimits(containers, plan.pidsLimit));
    this.cgroups.create(PAUSE_LEAF, sandboxLimits());
    for (const c of containers) {
      this.cgroups.create(containerLeaf(c.name), containerLimits(c, this.containerState(c.name).spec.confinement.privileged));
    }
    this.log.info('cgroups created', { version: layout.version, pod: Object.values(layout.pod)[0] });
  }

  private oomKilled(name: string): boolean {
    try {
      return (this.cgroups?.oomKills(containerLeaf(name)) ?? 0) > 0;
    } catch {
      return false;
    }
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
    const state = this.state.containers.find((c) => c.name === name);
    if (!state) throw new PodnsError('shim.container', `pod "${this.state.name}" has no container "${name}"`);
    return state;
  }

  private async onContainerExit(name: string, status: ExitStatus, logs: CriLogWriter): Promise<void> {
    const state = this.containerState(name);
    // Processes the main one left behind in a shared PID namespace (re-parented to pause) go with it;
    // they may hold the log pipe, so they go before the log is closed.
    if (state.mntNs !== undefined) for (const pid of pidsInMountNamespace(state.mntNs)) this.kill(pid, 'SIGKILL');
    await logs.close().catch((err) => this.log.error('log close failed', { container: name, error: String(err) }));
    // A container that exits by a signal reports 128+signal, as kubelet shows it (SIGKILL: 137).
    const exitCode = status.exitCode ?? (status.signal !== null ? 128 + status.signal : 255);
    Object.assign(state, {
      status: 'exited',
      finishedAt: new Date().toISOString(),
      exitCode,
      signal: status.signal ?? undefined,
      // As containerd reports it: an OOM kill in the container's cgroup makes the reason OOMKilled (exit 137).
      reason: this.oomKilled(name) ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
    } satisfies Partial<ContainerState>);
    this.save();
    if (state.reason === 'OOMKilled') this.event('Warning', 'OOMKilled', name, `Container ${name} was killed by the OOM killer (exit code ${exitCode})`);
    else if (!state.stoppedByUser && exitCode !== 0) this.event('Warning', 'BackOff', name, `Container ${name} exited with code ${exitCode}; podns does not restart containers yet`);
    this.log.info('container exited', { container: name, exitCode, signal: status.signal });
  }

  private onPauseExit(status: ExitStatus): void {
    if (this.stopping) return;
    // The sandbox is gone: kubelet would recreate the pod; podns reports it failed and cleans up.
    this.log.error('pause exited unexpectedly; stopping the pod', { exitCode: status.exitCode, signal: status.signal });
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
    const running = this.running.get(name);
    state.stoppedByUser = true;
    if (state.status === 'running' && running && state.process && isAlive(state.process)) {
      this.event('Normal', 'Killing', name, `Stopping container ${name}`);
      const image = this.spec.images[name];
      this.kill(state.process.pid, graceSeconds > 0 ? stopSignalNumber(image?.config.StopSignal) : 'SIGKILL');
      const timedOut = await Promise.race([
        running.exited.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceSeconds * 1000).unref()),
      ]);
      if (timedOut) {
        this.log.info('grace period over, killing', { container: name });
        this.kill(state.process.pid, 'SIGKILL');
        await running.exited;
      }
    }
    await running?.finished;
    this.save();
    return state;
  }

  /** StopPodSandbox: every container, then the pause; the network namespace pin and host mounts go. */
  async stopPod(graceSeconds: number): Promise<void> {
    this.stopping = true;
    await Promise.all(this.state.containers.map((c) => this.stopContainer(c.name, graceSeconds)));
    if (this.state.pause && isAlive(this.state.pause)) this.kill(this.state.pause.pid, 'SIGKILL');
    await this.pauseExited;
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
