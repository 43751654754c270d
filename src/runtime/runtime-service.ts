/**
 * The runtime service: what a CRI runtime is (containerd's CRI plugin, CRI-O), in-process. Its verbs are CRI's —
 * RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus, CreateContainer, StartContainer,
 * StopContainer, RemoveContainer, ContainerStatus, ExecSync, Exec, Attach, PortForward — and it holds no policy: no restart, no
 * probe, no hook, no ordering. The pod manager (src/kubelet/) drives it for the pods of `podns run`, as kubelet
 * drives a runtime; the CRI endpoint will expose it to kubelet itself.
 *
 * It owns its part of the state on disk (records.ts: sandbox.json, containers/<id>.json), each object recorded
 * before the kernel object exists. It tells its watchers (one per sandbox) of every container exit — after the
 * exit is recorded, leftovers killed and the log closed — and of a sandbox whose namespaces died. All kernel work
 * goes through the Kernel it is given (the kernel seam); file-based kernel interfaces (cgroupfs, /proc) and
 * commands (`ip`, `nft`, CNI plugins) through their own injected pieces.
 *
 * A supervisor that starts after another died adopts each sandbox (adoptSandbox): its pause and running
 * containers are watched through pidfds, the pipes and terminals the pause held are taken back, logs appended to.
 */
import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';
import os from 'node:os';
import { PodnsError, SysError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import type { ExitStatus, ProcessIdentity } from '../kernel/types.js';
import type { Logger } from '../log.js';
import { CriLogWriter } from '../logs/cri-log-writer.js';
import { StepLog } from '../explain/step-log.js';
import { describeCommand } from '../explain/describe-command.js';
import { describeSpawn } from '../explain/describe-spawn.js';
import { openCgroupDriver } from '../cgroup/open-driver.js';
import type { CgroupDriver, CgroupStats } from '../cgroup/driver.js';
import { containerLeaf, PAUSE_LEAF, planLayout } from '../cgroup/layout.js';
import { sandboxLimits } from '../cgroup/resources.js';
import { setUpPodNetwork, tearDownPodNetwork, type BridgeCache } from '../network/bridge-network.js';
import { setUpCni, tearDownCni } from '../network/cni.js';
import { SpawnRunner, TracingRunner, type CommandRunner } from '../sys/command.js';
import { seccompFilterOf } from '../security/seccomp-filter.js';
import type { PodPaths } from '../state/paths.js';
import type { PodNetworkRecord } from '../state/pod-state.js';
import { ContainerIO, type AttachListener, type HeldRole } from './container-io.js';
import { containerDirs, planContainerSpawn, stagedLayerDirs, type PodNamespaces } from './container-plan.js';
import { containerCgroups } from './container-cgroups.js';
import { execSync, type ExecOptions, type ExecTarget } from './exec-sync.js';
import { startExecSession, type ExecSession, type ExecSessionOptions } from './exec-session.js';
import { FdStore, fdIdentity, fdTable, takeHeldFd } from './fd-store.js';
import { hostDeviceNames } from './host-devices.js';
import { ensurePropagationSource } from './mount-propagation.js';
import { connectToPodPort } from './pod-port.js';
import { writePodFiles } from './pod-files.js';
import { isAlive, pidsInMountNamespace, processPrivileges, processRef } from './proc.js';
import { assertNoMountsBelow, killSandboxProcesses, releaseSandbox, releaseUserNamespace, removeSandboxCgroups } from './pod-teardown.js';
import { allocateRange } from './userns-ranges.js';
import {
  containerId,
  deleteContainerRecord,
  readContainers,
  readSandbox,
  writeContainer,
  writeSandbox,
  type ContainerConfig,
  type ContainerRecord,
  type SandboxConfig,
  type SandboxRecord,
} from './records.js';
import { mountTmpfs, pauseDropSteps, pinNetworkNamespace, startPause } from './sandbox.js';

/** What a sandbox's watcher hears. */
export interface SandboxWatcher {
  /** A container's run is over: recorded (state exited), leftovers killed, its log closed. */
  containerExited(record: ContainerRecord): void;
  /** The sandbox's namespaces are gone (its pause died, or with infra none the first container). */
  sandboxDied(status: ExitStatus): void;
}

export interface RuntimeOptions {
  kernel: Kernel;
  log: Logger;
  /** `ip`, `nft` and the CNI plugins; a SpawnRunner by default. */
  commands?: CommandRunner;
  /** podns's data root (Localhost seccomp profiles, the seccomp cache, network leases). */
  libRoot: string;
  /** Whether `pid` is exiting (the init of a dying PID namespace waits for its namespace before it is a zombie). */
  isExiting?: (pid: number) => boolean;
  /**
   * Where the containers' and the pause's processes are read (liveness, start times, mount namespaces, the pause's
   * fd table): '/proc' by default; unit tests point it at the fake kernel's proc tree. This process's own entry is
   * always read in /proc.
   */
  procRoot?: string;
}

/** The status of an exit nobody saw: the process was gone when the supervisor that adopted its sandbox came. */
const LOST: ExitStatus = { exitCode: null, signal: null, error: 'ENODATA' };

/** An image's StopSignal ("SIGQUIT", "QUIT" or "3") as a number; SIGTERM when unset or unknown. */
export function stopSignalNumber(name: string | undefined): number {
  const signals = os.constants.signals as Record<string, number>;
  if (!name) return signals.SIGTERM!;
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase();
  return signals[upper.startsWith('SIG') ? upper : `SIG${upper}`] ?? signals.SIGTERM!;
}

interface Run {
  exited: Promise<ExitStatus>;
  /** Resolves once the exit is recorded: leftovers killed, log closed, record saved, watcher told. */
  finished: Promise<void>;
  logs: CriLogWriter;
  io: ContainerIO;
}

interface Container {
  record: ContainerRecord;
  filter?: Buffer;
  /** oom_kill count of its cgroup when this run started: only new kills are its own. */
  oomBaseline: number;
  run?: Run;
}

interface Sandbox {
  record: SandboxRecord;
  paths: PodPaths;
  steps: StepLog;
  cgroups?: CgroupDriver;
  fdStore?: FdStore;
  holderExited?: Promise<ExitStatus>;
  containers: Map<string, Container>;
  watcher?: SandboxWatcher;
  /** Being stopped: a container exit is the stop's, and the sandbox's death is expected. */
  stopping: boolean;
  /** StopPodSandbox has finished: nothing of it runs, its resources are released. */
  stopped: boolean;
}

export class RuntimeService {
  private readonly kernel: Kernel;
  private readonly log: Logger;
  private readonly commands: CommandRunner;
  private readonly libRoot: string;
  private readonly isExiting: (pid: number) => boolean;
  private readonly procRoot: string;
  private readonly sandboxes = new Map<string, Sandbox>();
  /** The bridges (and nft table) known to exist: a pod's network is then two `ip` runs. */
  private readonly bridges: BridgeCache = new Map();
  /** Every container of every sandbox, by its node-wide id. */
  private readonly containers = new Map<string, { sandbox: Sandbox; container: Container }>();

  constructor(options: RuntimeOptions) {
    this.kernel = options.kernel;
    this.log = options.log;
    this.commands = options.commands ?? new SpawnRunner();
    this.libRoot = options.libRoot;
    this.procRoot = options.procRoot ?? '/proc';
    this.isExiting = options.isExiting ?? ((pid) => isExitingInProc(pid, this.procRoot));
  }

  /** The sandbox's watcher: its container exits and its death (one per sandbox, set before they can happen). */
  watch(sandboxId: string, watcher: SandboxWatcher): void {
    this.sandbox(sandboxId).watcher = watcher;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Sandboxes

  /**
   * RunPodSandbox: the pod cgroup and the pause's leaf, the sandbox's /dev/shm, the pause (PID 1 of the pod's new
   * namespaces, and the pod's fd store), the netns pin, the network, the pod's /etc files. With infra none there
   * is no pause: the first container started makes the namespaces, and the pin and network follow it. On a
   * failure what was made stays recorded: the caller stops and removes the sandbox.
   */
  async runPodSandbox(config: SandboxConfig, paths: PodPaths, watcher?: SandboxWatcher): Promise<string> {
    if (this.sandboxes.has(config.id)) throw new PodnsError('runtime.runPodSandbox', `sandbox "${config.id}" exists`);
    if (config.userNamespace && config.infra === 'none') throw new PodnsError('runtime.runPodSandbox', `sandbox "${config.id}": a user namespace needs the pause (infra none)`);
    const record: SandboxRecord = { id: config.id, config, state: 'notready', createdAt: new Date().toISOString(), supervisor: processRef(process.pid), hostMounts: [] };
    const sandbox: Sandbox = { record, paths, steps: new StepLog(paths.stepsFile), containers: new Map(), stopping: false, stopped: false, watcher };
    this.sandboxes.set(config.id, sandbox);
    const save = () => writeSandbox(paths.runDir, record);
    const t0 = Date.now();
    fs.mkdirSync(paths.libDir, { recursive: true, mode: 0o700 });
    save();

    if (config.cgroup) {
      const layout = planLayout(config.cgroup.host, config.cgroup.parents, config.id, []);
      record.cgroups = layout;
      save();
      sandbox.cgroups = this.openCgroups(sandbox);
      // Recorded before they are made, as every kernel object: the removal takes them away again when empty.
      layout.createdParents = sandbox.cgroups.missingParents();
      save();
      sandbox.cgroups.create(undefined, config.cgroup.limits);
      sandbox.cgroups.create(PAUSE_LEAF, sandboxLimits());
      this.log.info('cgroups created', { pod: config.id, version: layout.version });
    }
    // One /dev/shm per pod, as containerd makes it: the pod shares its IPC namespace, so POSIX shm is pod-wide.
    mountTmpfs(this.kernel, paths.shmDir, 'mode=1777,size=67108864', (t) => (record.hostMounts.push(t), save()), 'shm');
    sandbox.steps.add({ actor: 'sandbox', what: `mount tmpfs on ${paths.shmDir}`, command: `mount -t tmpfs -o nosuid,nodev,noexec tmpfs ${paths.shmDir}` });

    if (config.infra === 'none') {
      // Its /etc files are bind-mounted by the first container, and rewritten in place once the pod has its IP.
      this.writePodFiles(sandbox);
      return config.id;
    }
    if (config.userNamespace) this.allocateUserNamespace(sandbox);
    const store = FdStore.create(this.kernel);
    record.fdStore = store.store.identity;
    // What the pause starts with: the clone copies the supervisor's privileges, which the pause then drops.
    const startedWith = processPrivileges('self', this.procRoot);
    let pid: number;
    try {
      pid = await startPause(
        this.kernel,
        paths,
        config.hostname,
        config.sysctls,
        hostNamespaces(config),
        sandbox.cgroups?.procsFiles(PAUSE_LEAF),
        (steps) => sandbox.steps.addAll(steps),
        store.pauseFds,
        record.userNamespace,
      );
    } catch (err) {
      store.store.close();
      throw err;
    } finally {
      store.closeReceiveEnd();
    }
    sandbox.fdStore = store.store;
    record.pause = processRef(pid, this.procRoot) ?? { pid, startTime: 0 };
    if (startedWith) record.pauseStartedWith = startedWith;
    save();
    sandbox.holderExited = this.watchChild(pid);
    void sandbox.holderExited.then((status) => this.onSandboxDeath(sandbox, status));
    // The pause drops its privileges while the network is set up: nothing of the network needs it done, and the
    // step log takes the drop as /proc shows it once it is.
    const dropped = pauseDropSteps(pid, startedWith, this.procRoot).catch(() => []);
    const t1 = Date.now();
    await this.connect(sandbox, pid);
    sandbox.steps.addAll(await dropped);
    record.state = 'ready';
    save();
    this.log.debug('sandbox running', { pod: config.id, pauseMs: t1 - t0, networkMs: Date.now() - t1 });
    return config.id;
  }

  /**
   * hostUsers: false: the pod's 65536 host IDs, leased (userns-ranges.ts) and recorded before the pause that maps
   * them exists; given back when the sandbox is removed.
   */
  private allocateUserNamespace(sandbox: Sandbox): void {
    const { record, paths } = sandbox;
    const config = record.config.userNamespace!;
    if ('given' in config) {
      // Over the CRI kubelet allocates (its userns manager, from its own window) and passes the mapping; the
      // step log shows it where the maps are written.
      record.userNamespace = { ...config.given };
      writeSandbox(paths.runDir, record);
      return;
    }
    const { ranges, leaseDir } = config;
    const owner = { runRoot: path.dirname(path.dirname(paths.runDir)), podId: record.id };
    const map = allocateRange(leaseDir, ranges, owner);
    record.userNamespace = { ...map, leaseDir, owner };
    writeSandbox(paths.runDir, record);
    sandbox.steps.add({
      actor: 'sandbox',
      what: `lease host IDs ${map.uidBase}-${map.uidBase + map.size - 1} for the pod's user namespace (${leaseDir}/${map.uidBase}, O_EXCL)`,
      command: `set -C; echo '${owner.runRoot} ${owner.podId}' > ${leaseDir}/${map.uidBase}`,
    });
  }

  /** The netns pin and the pod's network (not with hostNetwork), then the pod's /etc files with its IP. */
  private async connect(sandbox: Sandbox, holder: number): Promise<void> {
    const { record, paths } = sandbox;
    const save = () => writeSandbox(paths.runDir, record);
    if (record.config.namespaces.network !== 'node') {
      record.netnsPin = paths.netnsPin;
      save();
      pinNetworkNamespace(this.kernel, holder, paths.netnsPin);
      sandbox.steps.add({ actor: 'sandbox', what: `pin the network namespace at ${paths.netnsPin}`, command: `touch ${paths.netnsPin} && mount --bind /proc/${holder}/ns/net ${paths.netnsPin}` });
      await this.connectNetwork(sandbox);
    }
    this.writePodFiles(sandbox);
  }

  /** The pod's network (bridge or CNI mode): veth, address, route, hostPorts; each piece recorded before it is made. */
  private async connectNetwork(sandbox: Sandbox): Promise<void> {
    const { record, paths } = sandbox;
    const cfg = record.config.network;
    if (cfg.mode === 'none') return;
    const note = (r: PodNetworkRecord) => {
      record.network = r;
      writeSandbox(paths.runDir, record);
    };
    const runner = new TracingRunner(this.commands, (argv, input) => sandbox.steps.addAll(describeCommand(argv, input, 'network')));
    const ports = record.config.portMappings;
    const rec =
      cfg.mode === 'cni'
        ? await setUpCni(cfg, runner, this.libRoot, record.id, paths.netnsPin, ports, note)
        : await setUpPodNetwork(cfg, runner, this.libRoot, record.id, path.basename(paths.netnsPin), ports, note, this.bridges);
    record.podIP = rec.ip;
    writeSandbox(paths.runDir, record);
  }

  private writePodFiles(sandbox: Sandbox): void {
    const { config } = sandbox.record;
    writePodFiles(sandbox.paths.etcDir, {
      hostname: config.hostname,
      hostsName: config.hosts.name,
      domain: config.hosts.domain,
      podIPs: sandbox.record.podIP ? [sandbox.record.podIP] : [],
      spec: { ...config.dns, hostAliases: config.hosts.aliases, hostNetwork: config.namespaces.network === 'node' },
    });
  }

  /**
   * StopPodSandbox: every container is killed (kubelet has stopped them gracefully first, when it could), then
   * the pause; whatever is left in the pod's cgroups goes; the cgroups, the network, the pin and the host mounts
   * are released. The records stay (state notready) until RemovePodSandbox.
   */
  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.teardown(this.sandbox(sandboxId), false);
  }

  /** RemovePodSandbox: stopped first if it is not; then its records and directories (state and data) go. */
  async removePodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    await this.teardown(sandbox, true);
    this.release(sandboxId);
  }

  /**
   * The stop, and with `remove` the removal too, with what does not depend on each other at the same time: the
   * network goes while the processes die (`ip link del` alone waits ~25 ms for the kernel, and nothing of the pod
   * needs its network once it is being killed), the cgroups and the directories once they are dead.
   */
  private async teardown(sandbox: Sandbox, remove: boolean): Promise<void> {
    const { record } = sandbox;
    const id = record.id;
    const t0 = Date.now();
    const fail = (what: string) => (err: unknown) => this.log.error(`${what} failed`, { pod: id, error: String(err) });
    if (!sandbox.stopped) {
      sandbox.stopping = true;
      // The last started first (the app containers before the sidecars that were started ahead of them, as
      // kubelet's killPod orders them), then the pause.
      for (const c of [...sandbox.containers.values()].reverse()) if (c.record.state === 'running' && c.record.process) this.kernel.signal(c.record.process.pid, 'SIGKILL');
      if (record.pause && isAlive(record.pause, this.procRoot)) this.kernel.signal(record.pause.pid, 'SIGKILL');
      const network = this.releaseNetwork(sandbox);
      // Bounded: whatever state the kernel left us in, the stop goes on and removes what it can.
      const settled = Promise.all([...sandbox.containers.values()].map((c) => c.run?.finished)).then(() => sandbox.holderExited);
      const timedOut = await Promise.race([settled.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 10_000).unref())]);
      if (timedOut) this.log.error('stop: processes did not exit in 10 s; removing what can be removed', { pod: id });
      sandbox.fdStore?.close();
      sandbox.fdStore = undefined;
      const records = [...sandbox.containers.values()].map((c) => c.record);
      await killSandboxProcesses(this.kernel, record, records, undefined, this.procRoot).catch(fail('stop: kill'));
      const cgroups = removeSandboxCgroups(record).catch(fail('stop: cgroup removal'));
      try {
        await network;
      } finally {
        // The pin after the network (CNI's DEL enters the namespace through it).
        await releaseSandbox(this.kernel, record, this.libRoot, this.commands).catch(fail('stop: release'));
        await cgroups;
        record.state = 'notready';
        sandbox.stopped = true;
        if (!remove) writeSandbox(sandbox.paths.runDir, record);
      }
    }
    if (remove) {
      for (const dir of [sandbox.paths.libDir, sandbox.paths.runDir]) assertNoMountsBelow(dir);
      await Promise.all([sandbox.paths.libDir, sandbox.paths.runDir].map((dir) => fs.promises.rm(dir, { recursive: true, force: true })));
      releaseUserNamespace(record);
    }
    this.log.debug(remove ? 'sandbox removed' : 'sandbox stopped', { pod: id, ms: Date.now() - t0 });
  }

  /** The pod's network goes: hostPorts, veth, address (or CNI DEL); recorded as it goes. */
  private async releaseNetwork(sandbox: Sandbox): Promise<void> {
    const { record } = sandbox;
    if (!record.network) return;
    const net = record.network;
    if (net.mode === 'cni') await tearDownCni(net, this.commands);
    else await tearDownPodNetwork(net, this.commands, this.libRoot, record.id);
    record.network = undefined;
    writeSandbox(sandbox.paths.runDir, record);
  }

  /** Forgets a sandbox without touching it (it is no longer supervised here; its records stay). */
  release(sandboxId: string): void {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    for (const id of sandbox.containers.keys()) this.containers.delete(id);
    this.sandboxes.delete(sandboxId);
  }

  hasSandbox(sandboxId: string): boolean {
    return this.sandboxes.has(sandboxId);
  }

  /** PodSandboxStatus: the record as it is now. */
  podSandboxStatus(sandboxId: string): SandboxRecord {
    return this.sandbox(sandboxId).record;
  }

  /** True while the pod's namespaces live: its pause, or with infra none its first container, runs and is not exiting. */
  sandboxAlive(sandboxId: string): boolean {
    const { record, containers } = this.sandbox(sandboxId);
    if (record.config.infra !== 'none') return !!record.pause && isAlive(record.pause, this.procRoot);
    const holder = [...containers.values()].find((c) => c.record.holdsPodNamespaces);
    const p = holder?.record.process;
    return !!holder && holder.record.state === 'running' && !!p && isAlive(p, this.procRoot) && !this.isExiting(p.pid);
  }

  /** True while the recorded process runs (not a zombie), as this runtime reads processes. */
  processAlive(ref: ProcessIdentity | undefined): boolean {
    return isAlive(ref, this.procRoot);
  }

  listPodSandbox(): SandboxRecord[] {
    return [...this.sandboxes.values()].map((s) => s.record);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Containers

  /**
   * CreateContainer: its record (state created), its directories, its cgroup leaf with its limits, its seccomp
   * program (compiled here, kept beside the state so that exec applies the very same one). Nothing runs yet.
   */
  async createContainer(sandboxId: string, config: ContainerConfig, givenId?: string): Promise<string> {
    const sandbox = this.sandbox(sandboxId);
    // Over the CRI the caller names it (a random id, as containerd's); for `podns run` `<sandbox>.<name>.<attempt>`.
    const id = givenId ?? containerId(sandboxId, config.name, config.attempt);
    if (sandbox.containers.has(id)) throw new PodnsError('runtime.createContainer', `container "${id}" exists in sandbox "${sandboxId}"`);
    if ([...sandbox.containers.values()].some((c) => c.record.config.name === config.name && c.record.config.attempt === config.attempt)) {
      throw new PodnsError('runtime.createContainer', `container "${config.name}" attempt ${config.attempt} exists in sandbox "${sandboxId}"`);
    }
    const dirs = containerDirs(sandbox.paths, `${config.name}.${config.attempt}`);
    // In a user namespace, the layers' idmapped staging points too (made here: nothing is created through an
    // idmapped mount, where host root has no ID).
    const staged = sandbox.record.userNamespace ? stagedLayerDirs(dirs, config.image.layers.length) : [];
    for (const dir of [dirs.upper, dirs.work, dirs.rootfs, ...staged]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const filter = await seccompFilterOf(config.process.confinement, this.libRoot);
    const record: ContainerRecord = { id, sandboxId, config, state: 'created', createdAt: new Date().toISOString(), dirs };
    if (filter) {
      record.seccompFilterFile = path.join(sandbox.paths.runDir, `seccomp-${config.name}.bpf`);
      fs.writeFileSync(record.seccompFilterFile, filter, { mode: 0o600 });
    }
    if (sandbox.cgroups) {
      const leaf = containerLeaf(config.name);
      if (!sandbox.record.cgroups!.leaves.includes(leaf)) {
        sandbox.record.cgroups!.leaves.push(leaf);
        writeSandbox(sandbox.paths.runDir, sandbox.record);
      }
      sandbox.cgroups = this.openCgroups(sandbox);
      sandbox.cgroups.create(leaf, config.resources);
    }
    writeContainer(sandbox.paths.runDir, record);
    this.add(sandbox, { record, filter, oomBaseline: 0 });
    return id;
  }

  /**
   * StartContainer: its stdio (pipes, or a terminal made in the container), handed to the pause's fd store before
   * the process exists; the spawn; its exit watched through a pidfd; its output copied into its CRI log. Returns
   * its pid. Everything that can fail comes before the spawn or is guarded, so that a started process is always
   * watched: an unreaped child in the pod's PID namespace would keep the pause from ever exiting.
   */
  async startContainer(id: string): Promise<number> {
    const t0 = Date.now();
    const { sandbox, container } = this.find(id);
    const { record } = container;
    const { config } = record;
    if (record.state !== 'created') throw new PodnsError('runtime.startContainer', `container "${id}" is ${record.state}, not created`);
    for (const m of config.mounts) ensurePropagationSource(m.hostPath, m.propagation, `container "${config.name}": mount "${m.containerPath}"`);
    const infraNone = sandbox.record.config.infra === 'none';
    const holder = infraNone ? [...sandbox.containers.values()].find((c) => c.record.holdsPodNamespaces) : undefined;
    const createsNamespaces = infraNone && !holder;
    if (infraNone && holder && !this.sandboxAlive(sandbox.record.id)) {
      throw new PodnsError('runtime.startContainer', `container "${config.name}": the pod's namespaces are gone (its first container held them, --infra=none)`);
    }
    const holderPid = infraNone ? holder?.record.process?.pid : sandbox.record.pause?.pid;
    const namespaces: PodNamespaces = createsNamespaces
      ? { creates: { hostname: sandbox.record.config.hostname, sysctls: sandbox.record.config.sysctls, host: hostNamespaces(sandbox.record.config) } }
      : { holderPid: holderPid!, sharePid: sandbox.record.config.namespaces.pid !== 'container' };
    container.oomBaseline = this.oomKills(sandbox, config.name);
    // No log path (a CRI container without log_path, as containerd takes it): the output is read and dropped.
    const logs = new CriLogWriter(config.logPath || '/dev/null');
    const io = ContainerIO.create(this.kernel, config, this.releaseStdin(sandbox, config.name));
    let pid: number;
    let heldFds: ContainerRecord['heldFds'];
    try {
      // The pause holds copies of our ends of the pipes from before the container exists: whenever the
      // supervisor dies, the container never writes into a pipe without a reader (EPIPE) nor reads EOF from its
      // stdin, and a new supervisor takes them back.
      heldFds = this.holdInFdStore(sandbox, config.name, io);
      const request = planContainerSpawn(
        {
          config,
          dirs: record.dirs,
          etcDir: sandbox.paths.etcDir,
          shmDir: sandbox.paths.shmDir,
          namespaces,
          stdio: io.terminal ? [-1, -1, -1] : io.childStdio(),
          hostDevices: config.process.confinement.privileged ? hostDeviceNames() : undefined,
          seccompFilter: container.filter,
          cgroups: sandbox.record.cgroups && containerCgroups(sandbox.record.cgroups, containerLeaf(config.name), config.process.confinement.privileged),
          ...(sandbox.record.userNamespace && holderPid ? { userNamespace: { path: `/proc/${holderPid}/ns/user`, map: sandbox.record.userNamespace } } : {}),
        },
        isNotDirectory,
      );
      if (sandbox.cgroups) request.cgroupProcsFiles = sandbox.cgroups.procsFiles(containerLeaf(config.name));
      const explain = (steps: { step: string; index: number }[], p: number) => sandbox.steps.addAll(describeSpawn(request, steps, `container/${config.name}`, p));
      let master: number | undefined;
      if (io.terminal) ({ pid, master } = await this.kernel.spawnWithTerminal(request, `container "${config.name}"`, explain));
      else pid = await this.kernel.spawn(request, `container "${config.name}"`, explain);
      try {
        io.started(logs, master);
      } catch (err) {
        this.kernel.killAndReap(pid);
        throw err;
      }
      // A terminal's master exists only now. Best effort: the process runs, and is watched whatever happens here.
      if (master !== undefined) {
        try {
          heldFds = this.holdInFdStore(sandbox, config.name, io);
        } catch (err) {
          this.log.error('the pause could not take the terminal; it will not outlive this supervisor', { pod: sandbox.record.id, container: config.name, error: String(err) });
        }
      }
    } catch (err) {
      io.abandon();
      void logs.close();
      throw err;
    }
    const exited = this.watchChild(pid);
    Object.assign(record, {
      state: 'running',
      process: processRef(pid, this.procRoot) ?? { pid, startTime: 0 },
      heldFds,
      startedAt: new Date().toISOString(),
      ...(createsNamespaces ? { holdsPodNamespaces: true } : {}),
    } satisfies Partial<ContainerRecord>);
    const mntNs = holdMountNamespace(pid, this.procRoot);
    record.mntNs = mntNs?.inode;
    // Recorded at once: from here on a failed start or a teardown from disk finds and kills it.
    writeContainer(sandbox.paths.runDir, record);
    const finished = exited.then((status) => this.onExit(sandbox, container, status, logs, io, true)).finally(() => mntNs && fs.closeSync(mntNs.fd));
    container.run = { exited, finished, logs, io };
    if (sandbox.stopping) {
      // The sandbox began to stop while this one set itself up (the spawn does not hold up the event loop): it
      // goes at once, its exit recorded like any other.
      this.kernel.signal(pid, 'SIGKILL');
      await finished;
      throw new PodnsError('runtime.startContainer', `container "${config.name}": its pod is being stopped`);
    }
    this.log.info('container started', { pod: sandbox.record.id, container: config.name, attempt: config.attempt, pid, argv: config.process.argv, ms: Date.now() - t0 });
    if (createsNamespaces) {
      // infra none: this container holds the pod's namespaces; the pin and the network follow it.
      sandbox.holderExited = exited;
      void exited.then((status) => this.onSandboxDeath(sandbox, status));
      return pid;
    }
    return pid;
  }

  /** infra none: after the first container started, the pod's pin, network and /etc files (they name its IP). */
  async connectSandboxTo(id: string): Promise<void> {
    const { sandbox, container } = this.find(id);
    await this.connect(sandbox, container.record.process!.pid);
    sandbox.record.state = 'ready';
    writeSandbox(sandbox.paths.runDir, sandbox.record);
  }

  /**
   * StopContainer: the image's stop signal (SIGTERM by default; SIGKILL with no time given), then SIGKILL when
   * `timeoutMs` has passed; resolves once the exit is recorded. Hooks are the pod manager's (preStop runs before).
   */
  async stopContainer(id: string, timeoutMs: number): Promise<void> {
    const { container } = this.find(id);
    const { record, run } = container;
    if (record.state !== 'running' || !run || !record.process || !isAlive(record.process, this.procRoot)) {
      await run?.finished;
      return;
    }
    const pid = record.process.pid;
    this.kernel.signal(pid, timeoutMs > 0 ? stopSignalNumber(record.config.image.stopSignal) : 'SIGKILL');
    const timedOut = await Promise.race([run.exited.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref())]);
    if (timedOut) {
      this.log.info('grace period over, killing', { pod: record.sandboxId, container: record.config.name });
      this.kernel.signal(pid, 'SIGKILL');
    }
    await run.finished;
  }

  /** RemoveContainer: killed first if it runs; its record and its directories go (its log is the caller's). */
  async removeContainer(id: string): Promise<void> {
    const { sandbox, container } = this.find(id);
    if (container.record.state === 'running') await this.stopContainer(id, 0);
    deleteContainerRecord(sandbox.paths.runDir, container.record);
    fs.rmSync(path.dirname(container.record.dirs.upper), { recursive: true, force: true });
    sandbox.containers.delete(id);
    this.containers.delete(id);
  }

  containerStatus(id: string): ContainerRecord {
    return this.find(id).container.record;
  }

  listContainers(sandboxId: string): ContainerRecord[] {
    return [...this.sandbox(sandboxId).containers.values()].map((c) => c.record);
  }

  /** ExecSync: `argv` in the running container's namespaces and cgroup; its exit code (rejects on timeout). */
  async execSync(id: string, argv: string[], timeoutMs: number, options: Pick<ExecOptions, 'output' | 'streams'> = {}): Promise<number> {
    const { target, cgroupProcsFiles } = this.execTarget(id);
    return execSync(this.kernel, target, argv, timeoutMs, { ...options, cgroupProcsFiles });
  }

  /** Exec: `argv` in the running container, its stdio as streams for the streaming server (exec-session.ts). */
  async exec(id: string, argv: string[], options: Pick<ExecSessionOptions, 'tty' | 'stdin'>): Promise<ExecSession> {
    const { target, cgroupProcsFiles } = this.execTarget(id);
    return startExecSession(this.kernel, target, argv, { ...options, cgroupProcsFiles });
  }

  /** PortForward: a connection to `port` on the sandbox's localhost, made in its network namespace (pod-port.ts). */
  portForward(sandboxId: string, port: number): Promise<net.Socket> {
    return connectToPodPort(this.kernel, this.sandbox(sandboxId).record, port);
  }

  /** What an exec in the container joins: its main process (running), spec, seccomp program and cgroup. */
  private execTarget(id: string): { target: ExecTarget; cgroupProcsFiles?: string[] } {
    const { sandbox, container } = this.find(id);
    const { record } = container;
    if (record.state !== 'running' || !record.process || !isAlive(record.process, this.procRoot)) {
      throw new PodnsError('runtime.exec', `container "${record.config.name}" is not running`);
    }
    return {
      target: { name: record.config.name, process: record.process, spec: record.config.process, seccompFilter: container.filter },
      cgroupProcsFiles: sandbox.cgroups?.procsFiles(containerLeaf(record.config.name)),
    };
  }

  /**
   * Attach: a client joins the container's current run — its output from now on, its stdin when it asks and the
   * container keeps one, its terminal's size. Refused when it does not run.
   */
  attach(id: string, listener: AttachListener, usesStdin: boolean): { io: ContainerIO; leave: () => void } {
    const { container } = this.find(id);
    const { record, run } = container;
    const name = record.config.name;
    if (record.state !== 'running' || !run) throw new PodnsError('runtime.attach', `container "${name}" is not running (${record.reason ?? record.state})`);
    if (usesStdin && !run.io.stdinOpen) {
      throw new PodnsError('runtime.attach', `container "${name}" was not started with stdin: true, so there is no stdin to attach to`);
    }
    return { io: run.io, leave: run.io.attach(listener, usesStdin) };
  }

  /** UpdateContainerResources: the container's cgroup leaf gets `limits` now; the record keeps them. */
  updateContainerResources(id: string, limits: ContainerConfig['resources'], criResources?: object): void {
    const { sandbox, container } = this.find(id);
    const { record } = container;
    if (record.state === 'exited') throw new PodnsError('runtime.updateResources', `container "${record.config.name}" has exited`);
    sandbox.cgroups?.create(containerLeaf(record.config.name), limits);
    record.config.resources = limits;
    if (criResources) record.config.criResources = criResources;
    writeContainer(sandbox.paths.runDir, record);
  }

  /** ReopenContainerLog: the running container's output goes to a new file at its log path (kubelet rotated it). */
  reopenContainerLog(id: string): void {
    const { container } = this.find(id);
    if (container.record.state !== 'running' || !container.run) throw new PodnsError('runtime.reopenLog', `container "${container.record.config.name}" is not running`);
    container.run.logs.reopen();
  }

  /** The cgroup figures of the sandbox's pod cgroup (no container: the whole pod) or of one container's leaf. */
  cgroupStats(sandboxId: string, containerId?: string): CgroupStats | undefined {
    const sandbox = this.sandbox(sandboxId);
    const leaf = containerId ? containerLeaf(this.find(containerId).container.record.config.name) : undefined;
    try {
      return sandbox.cgroups?.stats(leaf);
    } catch {
      return undefined;
    }
  }

  /** The cgroup.procs files of a container's leaf, for an exec spawned elsewhere. */
  cgroupProcsFiles(id: string): string[] | undefined {
    const { sandbox, container } = this.find(id);
    return sandbox.cgroups?.procsFiles(containerLeaf(container.record.config.name));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Exits

  /**
   * `mntNsHeld`: the container's mount namespace is held open by us (so its recorded inode is still its own);
   * false for a container that exited while no supervisor ran, whose inode may name another namespace by now.
   */
  private async onExit(sandbox: Sandbox, container: Container, status: ExitStatus, logs: CriLogWriter, io: ContainerIO, mntNsHeld: boolean): Promise<void> {
    const { record } = container;
    const name = record.config.name;
    try {
      // Processes the main one left behind (re-parented to pause in a shared PID namespace, or still in its
      // cgroup) go with it; they may hold the log pipe, so they go before the log is closed.
      for (const pid of this.leftoverPids(sandbox, record, mntNsHeld)) this.kernel.signal(pid, 'SIGKILL');
      await logs.close().catch((err) => this.log.error('log close failed', { pod: sandbox.record.id, container: name, error: String(err) }));
      // The run's output is read to the end: the pause may drop its copies of the pipes now.
      this.nudgeFdStore(sandbox);
      const lost = status.exitCode === null && status.signal === null;
      // A container that exits by a signal reports 128+signal, as kubelet shows it (SIGKILL: 137); a status that
      // was lost counts as kubelet counts it: 137, ContainerStatusUnknown.
      const exitCode = lost ? 137 : (status.exitCode ?? 128 + status.signal!);
      Object.assign(record, {
        state: 'exited',
        finishedAt: new Date().toISOString(),
        exitCode,
        signal: status.signal ?? undefined,
        // As containerd reports it: an OOM kill in the container's cgroup makes the reason OOMKilled (exit 137).
        reason: lost ? 'ContainerStatusUnknown' : this.oomKills(sandbox, name) > container.oomBaseline ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
        message: lost
          ? `The container's exit was not seen: the supervisor that started it died, and supervisor pid ${process.pid} took the pod over after it had exited (its status is lost)`
          : undefined,
      } satisfies Partial<ContainerRecord>);
      if (fs.existsSync(sandbox.paths.runDir)) writeContainer(sandbox.paths.runDir, record);
      io.ended(exitCode);
      this.log.info('container exited', { pod: sandbox.record.id, container: name, exitCode, signal: status.signal });
    } catch (err) {
      this.log.error('recording an exit failed', { pod: sandbox.record.id, container: name, error: String(err) });
    }
    try {
      sandbox.watcher?.containerExited(record);
    } catch (err) {
      this.log.error('a container exit handler failed', { pod: sandbox.record.id, container: name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }

  private onSandboxDeath(sandbox: Sandbox, status: ExitStatus): void {
    if (sandbox.stopping) return;
    sandbox.record.state = 'notready';
    if (fs.existsSync(sandbox.paths.runDir)) writeSandbox(sandbox.paths.runDir, sandbox.record);
    try {
      sandbox.watcher?.sandboxDied(status);
    } catch (err) {
      this.log.error('a sandbox death handler failed', { pod: sandbox.record.id, error: String(err) });
    }
  }

  /** What is left of a container whose main process exited: its mount namespace's processes, and its cgroup's. */
  private leftoverPids(sandbox: Sandbox, record: ContainerRecord, mntNsHeld: boolean): number[] {
    const pids = new Set<number>();
    if (mntNsHeld && record.mntNs !== undefined) for (const pid of pidsInMountNamespace(record.mntNs, this.procRoot)) pids.add(pid);
    if (sandbox.cgroups) for (const pid of sandbox.cgroups.pids(containerLeaf(record.config.name))) pids.add(pid);
    return [...pids];
  }

  /** The exit of a child we just spawned. Should watching fail, the child is killed and reaped at once. */
  private watchChild(pid: number): Promise<ExitStatus> {
    return new Promise((resolve, reject) => {
      try {
        this.kernel.watchExit(pid, resolve);
      } catch (err) {
        this.kernel.killAndReap(pid);
        reject(err);
      }
    });
  }

  /**
   * The exit of a process that is not our child (a dead supervisor started it): polled through its pidfd.
   * Undefined when the pid no longer names it — it exited while no supervisor ran (or the pid was recycled).
   */
  private watchForeign(target: ProcessIdentity): Promise<ExitStatus> | undefined {
    let resolve!: (status: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolve = r));
    try {
      this.kernel.watchForeignExit(target, resolve);
    } catch (err) {
      if (err instanceof SysError && err.code === 'ESRCH') return undefined;
      throw err;
    }
    return exited;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Adoption

  /**
   * Takes over a sandbox a dead supervisor left (its records on disk): the pause is watched through a pidfd (it is
   * not our child), its fd store reopened; each running container — verified by (pid, start time), so a recycled
   * pid is never adopted — is watched the same way, its pipes and terminal taken back from the pause, its output
   * read on into its log (appended). A container that exited while no supervisor ran is an exit like any other,
   * told to the watcher (set it first), with its status when the kernel kept it, else lost. Everything that can
   * fail comes first; a failure leaves the sandbox as it was (the fds taken are closed again).
   */
  adoptSandbox(paths: PodPaths, watcher: SandboxWatcher): SandboxRecord {
    const record = readSandbox(paths.runDir);
    if (!record) throw new PodnsError('runtime.adopt', `no sandbox record in ${paths.runDir}`);
    const pause = record.pause;
    if (!pause || !record.fdStore) throw new PodnsError('runtime.adopt', `sandbox "${record.id}" has no pause holding an fd store`);
    const pauseExited = this.watchForeign(pause);
    if (!pauseExited) throw new PodnsError('runtime.adopt', `its pause (pid ${pause.pid}) is gone`);
    const taken: number[] = [];
    const found: { container: Container; exited?: Promise<ExitStatus>; fds: Partial<Record<HeldRole, number>> }[] = [];
    let fdStore: FdStore | undefined;
    let cgroups: CgroupDriver | undefined;
    try {
      fdStore = FdStore.reopen(this.kernel, pause, record.fdStore);
      const table = fdTable(pause.pid, this.procRoot);
      for (const c of readContainers(paths.runDir)) {
        const filter = c.seccompFilterFile && fs.existsSync(c.seccompFilterFile) ? fs.readFileSync(c.seccompFilterFile) : undefined;
        const container: Container = { record: c, filter, oomBaseline: 0 };
        if (c.state !== 'running') {
          found.push({ container, fds: {} });
          continue;
        }
        const exited = c.process ? this.watchForeign(c.process) : undefined;
        const fds: Partial<Record<HeldRole, number>> = {};
        for (const [role, id] of Object.entries(c.heldFds ?? {})) {
          const fd = takeHeldFd(this.kernel, pause, table, id);
          if (fd !== undefined) {
            fds[role as HeldRole] = fd;
            taken.push(fd);
          }
        }
        found.push({ container, exited, fds });
      }
      if (record.cgroups) cgroups = openCgroupDriver(record.cgroups, { attachDeviceFilter: (d, p) => this.kernel.attachDeviceFilter(d, p) });
    } catch (err) {
      for (const fd of taken) fs.closeSync(fd);
      fdStore?.close();
      throw err;
    }
    // Commit: from here on this supervisor runs the sandbox.
    const sandbox: Sandbox = { record, paths, steps: new StepLog(paths.stepsFile), containers: new Map(), stopping: false, stopped: false, fdStore, cgroups, holderExited: pauseExited, watcher };
    if (cgroups) cgroups.onStep = (what, command) => sandbox.steps.add({ actor: 'cgroup', what, command });
    record.supervisor = processRef(process.pid);
    writeSandbox(paths.runDir, record);
    this.sandboxes.set(record.id, sandbox);
    void pauseExited.then((status) => this.onSandboxDeath(sandbox, status));
    for (const { container, exited, fds } of found) {
      this.add(sandbox, container);
      if (container.record.state === 'running') this.adoptRun(sandbox, container, exited, fds);
    }
    return record;
  }

  /**
   * A sandbox a dead supervisor left whose namespaces died meanwhile (its pause is gone): what is left of it is
   * torn down from its records, and it is registered as stopped — NotReady, the containers that ran exited with
   * their status lost (137, ContainerStatusUnknown, as kubelet counts a lost one) — so that its owner sees it and
   * removes it as it would any other.
   */
  async adoptStoppedSandbox(paths: PodPaths): Promise<SandboxRecord> {
    const record = readSandbox(paths.runDir);
    if (!record) throw new PodnsError('runtime.adopt', `no sandbox record in ${paths.runDir}`);
    const records = readContainers(paths.runDir);
    await killSandboxProcesses(this.kernel, record, records, undefined, this.procRoot);
    await removeSandboxCgroups(record);
    await releaseSandbox(this.kernel, record, this.libRoot, this.commands);
    record.state = 'notready';
    record.supervisor = processRef(process.pid);
    writeSandbox(paths.runDir, record);
    const sandbox: Sandbox = { record, paths, steps: new StepLog(paths.stepsFile), containers: new Map(), stopping: false, stopped: true };
    this.sandboxes.set(record.id, sandbox);
    for (const c of records) {
      if (c.state === 'running') {
        Object.assign(c, {
          state: 'exited',
          finishedAt: new Date().toISOString(),
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: `The pod's sandbox died while no supervisor ran; supervisor pid ${process.pid} found it gone (the container's status is lost)`,
        } satisfies Partial<ContainerRecord>);
        writeContainer(paths.runDir, c);
      }
      this.add(sandbox, { record: c, oomBaseline: 0 });
    }
    return record;
  }

  private adoptRun(sandbox: Sandbox, container: Container, exited: Promise<ExitStatus> | undefined, fds: Partial<Record<HeldRole, number>>): void {
    const { record } = container;
    container.oomBaseline = this.oomKills(sandbox, record.config.name);
    const logs = new CriLogWriter(record.config.logPath || '/dev/null');
    const io = ContainerIO.takenOver(record.config, fds, logs, this.releaseStdin(sandbox, record.config.name));
    // The namespace is held only if it is still the recorded one (its process runs): see holdMountNamespace.
    const held = exited && record.process ? holdMountNamespace(record.process.pid, this.procRoot) : undefined;
    const mntNs = held && held.inode === record.mntNs ? held : undefined;
    if (held && !mntNs) fs.closeSync(held.fd);
    const whenExited = exited ?? Promise.resolve(LOST);
    const finished = whenExited.then((status) => this.onExit(sandbox, container, status, logs, io, mntNs !== undefined)).finally(() => mntNs && fs.closeSync(mntNs.fd));
    container.run = { exited: whenExited, finished, logs, io };
    this.log.info(exited ? 'container adopted' : 'container exited while no supervisor ran', { pod: sandbox.record.id, container: record.config.name, pid: record.process?.pid, fds: Object.keys(fds) });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Helpers

  private sandbox(id: string): Sandbox {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) throw new PodnsError('runtime.sandbox', `no sandbox "${id}"`);
    return sandbox;
  }

  private find(id: string): { sandbox: Sandbox; container: Container } {
    const found = this.containers.get(id);
    if (!found) throw new PodnsError('runtime.container', `no container "${id}"`);
    return found;
  }

  private add(sandbox: Sandbox, container: Container): void {
    sandbox.containers.set(container.record.id, container);
    this.containers.set(container.record.id, { sandbox, container });
  }

  private openCgroups(sandbox: Sandbox): CgroupDriver {
    const driver = openCgroupDriver(sandbox.record.cgroups!, { attachDeviceFilter: (d, p) => this.kernel.attachDeviceFilter(d, p) });
    driver.onStep = (what, command) => sandbox.steps.add({ actor: 'cgroup', what, command });
    return driver;
  }

  private oomKills(sandbox: Sandbox, name: string): number {
    try {
      return sandbox.cgroups?.oomKills(containerLeaf(name)) ?? 0;
    } catch {
      return 0;
    }
  }

  /** Hands the run's fds (ContainerIO.heldFds) to the pause's fd store; returns their identities for the record. */
  private holdInFdStore(sandbox: Sandbox, name: string, io: ContainerIO): ContainerRecord['heldFds'] {
    const held = Object.entries(io.heldFds());
    if (!sandbox.fdStore || held.length === 0) return undefined;
    sandbox.fdStore.hold(held.map(([, fd]) => fd), `container "${name}"'s stdio`);
    return Object.fromEntries(held.map(([role, fd]) => [role, fdIdentity(fd)]));
  }

  /** For ContainerIO: stdin closed on purpose (stdinOnce) is taken back from the pause first, so EOF reaches the container. */
  private releaseStdin(sandbox: Sandbox, name: string): (fd: number) => void {
    return (fd) => sandbox.fdStore?.drop([fd], `container "${name}"'s stdin`);
  }

  private nudgeFdStore(sandbox: Sandbox): void {
    try {
      sandbox.fdStore?.nudge();
    } catch (err) {
      // The pause is gone (the sandbox died): nothing is held any more.
      this.log.debug('fd store nudge failed', { pod: sandbox.record.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** hostNetwork, hostIPC, hostPID as the spawn planner names them. */
function hostNamespaces(config: SandboxConfig): { network: boolean; ipc: boolean; pid: boolean } {
  return { network: config.namespaces.network === 'node', ipc: config.namespaces.ipc === 'node', pid: config.namespaces.pid === 'node' };
}

/**
 * Opens the container's mount namespace and keeps it open until its exit is handled: a held namespace cannot be
 * freed, so its inode number cannot pass to another pod's namespace while we still search by it. A process that
 * already exited has no namespace links any more: undefined then.
 */
function holdMountNamespace(pid: number, procRoot: string): { fd: number; inode: number } | undefined {
  try {
    const fd = fs.openSync(`${procRoot}/${pid}/ns/mnt`, 'r');
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

/**
 * PF_EXITING in /proc/<pid>/stat's flags (field 9): the init of a PID namespace that is exiting waits for the
 * kernel to kill the rest of its namespace (zap_pid_ns_processes) before it becomes a zombie, so the others'
 * exits are seen while it still looks alive.
 */
function isExitingInProc(pid: number, procRoot: string): boolean {
  try {
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return (flags & 0x4) !== 0;
  } catch {
    return true;
  }
}

