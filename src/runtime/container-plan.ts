/**
 * Plans a container: from the Pod's container spec and its image to the exact spawn request — the argv by
 * Kubernetes' command/args rules, the environment, the user, and the ordered list of mounts that builds the
 * root (overlay, /proc, /dev, /sys, the pod's /etc files, volumes). Pure: it only reads the image's
 * passwd/group files, so unit tests check a plan without a kernel.
 */
import path from 'node:path';
import { volumeHostPath } from './volume-source.js';
import { PodnsError } from '../errors.js';
import type { ImageRecord } from '../image/types.js';
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import type { PodPaths } from '../state/paths.js';
import type { ProcessSpec } from '../state/pod-state.js';
import { CLONE, MS, type MountStep, type SpawnRequest } from '../sys/native.js';
import { resolveUser, type ResolvedUser } from './image-user.js';
import { imageEnv, kubeletEnvEntries, materialiseEnv, needsPodIP, type EnvContext, type EnvPlan, type PlannedProcess } from './env.js';
import { maskingMounts, ownCapabilities, planConfinement, securityFor, type Confinement } from '../security/confinement.js';
import { DEFAULT_PATH } from './exec-plan.js';

// An exec is planned in exec-plan.ts (exec loads that alone); its callers may take it from here too.
export { planExecSpawn } from './exec-plan.js';

export interface ContainerDirs {
  upper: string;
  work: string;
  rootfs: string;
}

export function containerDirs(paths: PodPaths, name: string): ContainerDirs {
  const base = path.join(paths.containersDir, name);
  return { upper: path.join(base, 'upper'), work: path.join(base, 'work'), rootfs: path.join(base, 'rootfs') };
}

/** Kubernetes' rules (and Docker's): command replaces Entrypoint, args replaces Cmd; args alone keep Entrypoint. */
export function containerArgv(container: ContainerSpec, image: ImageRecord): string[] {
  const entrypoint = container.command ?? image.config.Entrypoint ?? [];
  const args = container.command !== undefined ? (container.args ?? []) : (container.args ?? image.config.Cmd ?? []);
  return [...entrypoint, ...args];
}

/** Who a container runs as and under which policy, for messages: kubelet's `name_namespace(uid)` form. */
export interface ContainerIdentity {
  pod: string;
  container: string;
}

/**
 * The container's user with Kubernetes' precedence: securityContext.runAsUser/runAsGroup of the container,
 * then of the pod, then the image's User; supplementalGroups and fsGroup join its groups. runAsNonRoot is
 * checked as kubelet does, with kubelet's messages.
 */
export function planUser(pod: PodSpec, container: ContainerSpec, image: ImageRecord, id: ContainerIdentity): ResolvedUser {
  const sc = container.securityContext ?? {};
  const psc = pod.securityContext;
  const what = `container "${id.container}"`;
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const user =
    runAsUser !== undefined
      ? resolveUser(`${runAsUser}${runAsGroup !== undefined ? `:${runAsGroup}` : ''}`, image.layers, what)
      : resolveUser(image.config.User, image.layers, what);
  if (runAsUser === undefined && runAsGroup !== undefined) {
    user.gid = runAsGroup;
    user.groups = [runAsGroup, ...user.groups.slice(1)];
  }
  const extra = [...psc.supplementalGroups, ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])];
  user.groups = [...new Set([...user.groups, ...extra])];

  if (sc.runAsNonRoot ?? psc.runAsNonRoot) {
    const where = `(pod: "${id.pod}", container: ${id.container})`;
    const imageUser = (image.config.User ?? '').split(':')[0] ?? '';
    if (runAsUser === 0) throw new PodnsError('container.runAsNonRoot', `container's runAsUser breaks non-root policy ${where}`);
    if (runAsUser === undefined && imageUser !== '' && !/^\d+$/.test(imageUser)) {
      throw new PodnsError('container.runAsNonRoot', `container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root ${where}`);
    }
    if (user.uid === 0) throw new PodnsError('container.runAsNonRoot', `container has runAsNonRoot and image will run as root ${where}`);
  }
  return user;
}

/**
 * The container's process. With `envCtx` (the pod's metadata, the node, the file's ConfigMaps and Secrets) env
 * is kubelet's (envFrom, valueFrom, $(VAR) expansion in env, command and args); without it only env values.
 * A plan needing status.podIP keeps its envPlan for the shim's resolveEnv.
 */
export function planProcess(
  pod: PodSpec,
  container: ContainerSpec,
  image: ImageRecord,
  hostname: string,
  id: ContainerIdentity,
  envCtx?: EnvContext,
  warn?: (line: string) => void,
): ProcessSpec {
  const what = `container "${id.container}"`;
  const plan: EnvPlan = {
    entries: envCtx ? kubeletEnvEntries(pod, container, envCtx, warn) : container.env.map((e) => ({ name: e.name, value: e.value, expand: true as const })),
    // containerd's WithTTY: TERM=xterm for a container with a terminal, unless the image or the manifest sets it.
    image: [...(container.tty ? ['TERM=xterm'] : []), ...imageEnv(image.config.Env)],
    hostname,
    argv: argvTemplate(container, image),
  };
  const { env, argv } = materialiseEnv(plan, '');
  if (argv.length === 0) throw new PodnsError('container.plan', `${what}: no command specified (the image has no Entrypoint or Cmd)`);
  const user = planUser(pod, container, image, id);
  const spec: PlannedProcess = {
    argv,
    env,
    cwd: container.workingDir ?? (image.config.WorkingDir || '/'),
    user: { uid: user.uid, gid: user.gid, groups: user.groups },
    confinement: planConfinement(pod, container, ownCapabilities()),
  };
  if (needsPodIP(plan)) spec.envPlan = plan;
  return spec;
}

/** containerArgv, marking the manifest's command and args for $(VAR) expansion (never the image's). */
function argvTemplate(container: ContainerSpec, image: ImageRecord): EnvPlan['argv'] {
  const mine = (list: string[]) => list.map((text) => ({ text, expand: true as const }));
  const theirs = (list: string[] | undefined) => (list ?? []).map((text) => ({ text }));
  const entrypoint = container.command ? mine(container.command) : theirs(image.config.Entrypoint);
  const args = container.command !== undefined ? mine(container.args ?? []) : container.args ? mine(container.args) : theirs(image.config.Cmd);
  return [...entrypoint, ...args];
}

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const DEV_LINKS: [string, string][] = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
  ['/dev/ptmx', 'pts/ptmx'],
];

/** The default mounts runc and containerd give a Pod container (see docs: runtime-defaults). */
function baseMounts(paths: PodPaths, conf: Confinement, hostDevices: string[]): MountStep[] {
  const inRoot = (m: MountStep): MountStep => ({ inRootfs: true, create: 'dir', ...m });
  return [
    inRoot({ source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV }),
    // nodev on everything a container can write (the device nodes below are bind mounts with flags of their
    // own): a node made with mknod cannot be opened. Until the cgroup device policy (issue 6) this is the
    // guard; privileged containers get neither.
    inRoot({ source: 'tmpfs', target: '/dev', fstype: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME | nodev(conf), data: 'mode=755,size=65536k' }),
    inRoot({
      source: 'devpts',
      target: '/dev/pts',
      fstype: 'devpts',
      flags: MS.NOSUID | MS.NOEXEC,
      data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
    }),
    // One /dev/shm per pod, as containerd does: the pod shares its IPC namespace, so POSIX shm is pod-wide.
    inRoot({ source: paths.shmDir, target: '/dev/shm', flags: MS.BIND, remountFlags: MS.NOSUID | MS.NOEXEC | MS.NODEV }),
    inRoot({ source: 'mqueue', target: '/dev/mqueue', fstype: 'mqueue', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV }),
    // /sys is read-only but for privileged containers, as with runc.
    inRoot({ source: 'sysfs', target: '/sys', fstype: 'sysfs', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | (conf.privileged ? 0 : MS.RDONLY) }),
    ...maskingMounts(conf),
    // Device nodes are bind mounts of the host's (as rootless runc does): no mknod needed, same devices.
    // Privileged containers get every device of the host, as runc gives them.
    ...(conf.privileged ? hostDevices : DEVICES).map((d) =>
      inRoot({ source: `/dev/${d}`, target: `/dev/${d}`, flags: MS.BIND, create: 'file' }),
    ),
    ...DEV_LINKS.map(([link, to]): MountStep => ({ kind: 'symlink', inRootfs: true, source: to, target: link })),
    ...['hostname', 'hosts', 'resolv.conf'].map((f) =>
      inRoot({ source: path.join(paths.etcDir, f), target: `/etc/${f}`, flags: MS.BIND, create: 'file' }),
    ),
  ];
}

function nodev(conf: Confinement): number {
  return conf.privileged ? 0 : MS.NODEV;
}

function volumeMounts(container: ContainerSpec, pod: PodSpec, paths: PodPaths, conf: Confinement): MountStep[] {
  // Parents before children (/var/log before /var/log/nginx), as runc sorts mounts by destination depth.
  const sorted = [...container.volumeMounts].sort(
    (a, b) => a.mountPath.split('/').length - b.mountPath.split('/').length,
  );
  return sorted.map((vm) => {
    const volume = pod.volumes.find((v) => v.name === vm.name)!;
    let source = volumeHostPath(volume, paths);
    // `podns run` puts the expansion of a subPathExpr in subPath; without it the volume's root would be mounted.
    if (vm.subPathExpr !== undefined && vm.subPath === undefined) {
      throw new PodnsError('container.plan', `container "${container.name}": volume "${vm.name}": subPathExpr ${JSON.stringify(vm.subPathExpr)} was not expanded`);
    }
    if (vm.subPath) source = path.join(source, vm.subPath);
    // Volumes of API data are always read-only in the container, as kubelet mounts them.
    const readOnly =
      vm.readOnly ||
      'configMap' in volume ||
      'secret' in volume ||
      'downwardAPI' in volume ||
      'projected' in volume ||
      ('persistentVolumeClaim' in volume && volume.persistentVolumeClaim.readOnly);
    return {
      inRootfs: true,
      source,
      target: vm.mountPath,
      flags: MS.BIND | MS.REC,
      create: 'dir',
      remountFlags: (readOnly ? MS.RDONLY : 0) | nodev(conf),
      ...(vm.mountPropagation === 'HostToContainer' ? { propagation: MS.REC | MS.SLAVE } : {}),
      ...(vm.recursiveReadOnly ? { recursiveReadOnly: vm.recursiveReadOnly === 'Enabled' ? (2 as const) : (1 as const) } : {}),
    };
  });
}

/**
 * containerd's rule for mountPropagation: a HostToContainer mount needs the container's root rslave (so its
 * bind keeps receiving the host's mount events), and then every other bind is made rprivate explicitly, as
 * containerd's spec gives them ("rprivate"), so that only the asked-for mounts follow the host.
 */
function applyPropagation(mounts: MountStep[]): { mounts: MountStep[]; rootPropagation?: number } {
  if (!mounts.some((m) => m.propagation !== undefined)) return { mounts };
  return {
    mounts: mounts.map((m) => (m.propagation === undefined && ((m.flags ?? 0) & MS.BIND) !== 0 ? { ...m, propagation: MS.REC | MS.PRIVATE } : m)),
    rootPropagation: MS.SLAVE,
  };
}

/** The file behind a container's terminationMessagePath, in the pod's dir; the shim makes it before each start. */
export function terminationLogFile(paths: PodPaths, name: string): string {
  return path.join(paths.containersDir, name, 'termination-log');
}

/**
 * As kubelet does: a per-container file of the pod's, bind-mounted at terminationMessagePath (default
 * /dev/termination-log), writable, read by the runtime after the container exits.
 */
function terminationLogMount(paths: PodPaths, container: ContainerSpec, conf: Confinement): MountStep {
  return {
    inRootfs: true,
    source: terminationLogFile(paths, container.name),
    target: container.terminationMessagePath ?? '/dev/termination-log',
    flags: MS.BIND,
    create: 'file',
    remountFlags: nodev(conf),
  };
}

export interface ContainerPlanInput {
  /** Built by the caller from process.confinement (the addon's libseccomp runs before the fork). */
  seccompFilter?: Buffer;
  /** For privileged containers: the host's device nodes (names below /dev). */
  hostDevices?: string[];
  pod: PodSpec;
  container: ContainerSpec;
  image: ImageRecord;
  process: ProcessSpec;
  paths: PodPaths;
  /** The process holding the pod's namespaces: the pause, or with --infra=none the first container. */
  pausePid: number;
  stdio: [number, number, number];
  /**
   * --infra=none: this container is the first and makes the pod's namespaces itself (as `docker run` does for
   * the container others join with --net=container:); pausePid is then unused.
   */
  createsPodNamespaces?: { hostname: string; sysctls: { path: string; value: string }[]; host: { network: boolean; ipc: boolean; pid: boolean } };
}

/** Volume sources that are files must be mounted on files: the planner asks the caller which are. */
export function planContainerSpawn(input: ContainerPlanInput, isFile: (p: string) => boolean = () => false): SpawnRequest {
  const { pod, container, image, process: proc, paths, pausePid, stdio } = input;
  const conf = proc.confinement;
  const dirs = containerDirs(paths, container.name);
  // overlayfs lists lowerdir top first; image layers are stored lowest first.
  const lower = [...image.layers].reverse().join(':');
  const overlay: MountStep = {
    source: 'overlay',
    target: dirs.rootfs,
    fstype: 'overlay',
    flags: nodev(conf),
    data: `lowerdir=${lower},upperdir=${dirs.upper},workdir=${dirs.work}`,
  };
  const volumes = volumeMounts(container, pod, paths, conf).map((m) => (m.source && isFile(m.source) ? { ...m, create: 'file' as const } : m));
  const ns = (kind: string) => `/proc/${pausePid}/ns/${kind}`;
  // With hostPID the pause is in the host's PID namespace, and so is every container (as with kubelet).
  const sharesPid = pod.shareProcessNamespace || pod.hostPID;
  const creates = input.createsPodNamespaces;
  const namespaces = creates
    ? {
        cloneFlags:
          CLONE.NEWNS |
          (creates.host.network ? 0 : CLONE.NEWNET | CLONE.NEWUTS) |
          (creates.host.ipc ? 0 : CLONE.NEWIPC) |
          (creates.host.pid ? 0 : CLONE.NEWPID),
        sysctls: creates.sysctls,
        ...(creates.host.network ? {} : { hostname: creates.hostname, loopbackUp: true }),
      }
    : {
        joinNamespaces: {
          net: ns('net'),
          ipc: ns('ipc'),
          uts: ns('uts'),
          ...(sharesPid ? { pid: ns('pid') } : {}),
        },
        cloneFlags: CLONE.NEWNS | (sharesPid ? 0 : CLONE.NEWPID),
      };
  const { mounts, rootPropagation } = applyPropagation([overlay, ...baseMounts(paths, conf, input.hostDevices ?? []), ...volumes, terminationLogMount(paths, container, conf)]);
  return {
    ...namespaces,
    ...(rootPropagation ? { rootPropagation } : {}),
    newSession: true,
    mounts,
    rootfs: dirs.rootfs,
    cwd: proc.cwd,
    user: proc.user,
    stdio,
    path: proc.argv[0],
    searchPath: proc.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH,
    argv: proc.argv,
    env: proc.env,
    security: securityFor(conf, proc.user.uid, input.seccompFilter),
  };
}
