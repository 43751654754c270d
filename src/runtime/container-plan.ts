/**
 * Plans a container: from the Pod's container spec and its image to its process — the argv by Kubernetes'
 * command/args rules, the environment, the user, the confinement (planProcess, what `podns run` does before
 * anything exists) — and from the runtime's ContainerConfig to the exact spawn request: the ordered list of mounts
 * that builds the root (overlay, /proc, /dev, /sys, the sandbox's /etc files, the pod's mounts) and the
 * namespaces it joins or makes. Pure: it only reads the image's passwd/group files, so unit tests check a plan
 * without a kernel.
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
import type { ImageRecord } from '../image/types.js';
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import type { PodPaths } from '../state/paths.js';
import type { ProcessSpec } from '../state/pod-state.js';
import { CLONE, MS, type MountStep, type SpawnRequest, type UserNamespaceMap } from '../kernel/types.js';
import type { ContainerConfig, ContainerMount } from './records.js';
import { resolveUser, type ResolvedUser } from './image-user.js';
import { imageEnv, kubeletEnvEntries, materialiseEnv, needsPodIP, type EnvContext, type EnvPlan, type PlannedProcess } from './env.js';
import { maskingMounts, ownCapabilities, planConfinement, securityFor, type Confinement } from '../security/confinement.js';
import { DEFAULT_PATH } from './exec-plan.js';
import type { ContainerCgroups } from './container-cgroups.js';

// An exec is planned in exec-plan.ts (exec loads that alone); its callers may take it from here too.
export { planExecSpawn } from './exec-plan.js';

export interface ContainerDirs {
  upper: string;
  work: string;
  rootfs: string;
}

/** A container's writable layer and root mount point: `<lib>/pods/<pod>/containers/<container id>/`. */
export function containerDirs(paths: Pick<PodPaths, 'containersDir'>, id: string): ContainerDirs {
  const base = path.join(paths.containersDir, id);
  return { upper: path.join(base, 'upper'), work: path.join(base, 'work'), rootfs: path.join(base, 'rootfs') };
}

/**
 * hostUsers: false: where the image's layers are attached, idmapped, in the container's own mount namespace
 * before the overlay is mounted from them (`<container dir>/lower/<i>`, lowest layer first; made empty on the
 * host by CreateContainer, never mounted there). overlayfs cannot itself be idmapped (its mount_setattr fails
 * EINVAL, Linux 6.18 as 6.1) but takes idmapped layers (Linux 5.19+), so the layers are idmapped one by one.
 */
export function stagedLayerDirs(dirs: ContainerDirs, layers: number): string[] {
  const base = path.join(path.dirname(dirs.rootfs), 'lower');
  return Array.from({ length: layers }, (_, i) => path.join(base, String(i)));
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
 * A plan needing status.podIP keeps its envPlan for the supervisor's resolveEnv.
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
  const user = planUser(pod, container, image, id);
  const plan: EnvPlan = {
    entries: envCtx ? kubeletEnvEntries(pod, container, envCtx, warn) : container.env.map((e) => ({ name: e.name, value: e.value, expand: true as const })),
    // containerd's WithTTY: TERM=xterm for a container with a terminal, unless the image or the manifest sets it.
    image: [...(container.tty ? ['TERM=xterm'] : []), ...imageEnv(image.config.Env)],
    hostname,
    argv: argvTemplate(container, image),
    ...(user.home ? { home: user.home } : {}),
  };
  const { env, argv } = materialiseEnv(plan, '');
  if (argv.length === 0) throw new PodnsError('container.plan', `${what}: no command specified (the image has no Entrypoint or Cmd)`);
  const spec: PlannedProcess = {
    argv,
    env,
    cwd: container.workingDir ?? (image.config.WorkingDir || '/'),
    user: { uid: user.uid, gid: user.gid, groups: user.groups },
    confinement: planConfinement(pod, container, ownCapabilities()),
  };
  if (pod.hostUsers === false) {
    // The pod's user namespace maps IDs 0-65535 only: any other could not be set in it (setresuid: EINVAL).
    const unmapped = [user.uid, user.gid, ...user.groups].find((n) => n >= 65536);
    if (unmapped !== undefined) throw new PodnsError('container.plan', `${what}: ID ${unmapped} is outside the pod's user namespace (hostUsers: false maps 0-65535)`);
    spec.userNamespace = true;
  }
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
function baseMounts(etcDir: string, shmDir: string, conf: Confinement, hostDevices: string[], cgroupMounts: MountStep[], userns?: UserNamespaceMap): MountStep[] {
  const inRoot = (m: MountStep): MountStep => ({ inRootfs: true, create: 'dir', ...m });
  // In a user namespace: the host directories and files are idmapped binds (their owners read the same inside);
  // the tmpfs and devpts made here are owned by the container's root and tty group in host IDs, since their
  // options are read in the mounter's (the host's) user namespace.
  const idmap = userns ? { idmap: true } : {};
  const owner = userns ? `,uid=${userns.uidBase},gid=${userns.gidBase}` : '';
  const ttyGroup = userns ? userns.gidBase + 5 : 5;
  return [
    inRoot({ source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV }),
    // nodev on everything a container can write (the device nodes below are bind mounts with flags of their
    // own): a node made with mknod cannot be opened. Until the cgroup device policy (issue 6) this is the
    // guard; privileged containers get neither.
    inRoot({ source: 'tmpfs', target: '/dev', fstype: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME | nodev(conf), data: `mode=755,size=65536k${owner}` }),
    inRoot({
      source: 'devpts',
      target: '/dev/pts',
      fstype: 'devpts',
      flags: MS.NOSUID | MS.NOEXEC,
      data: `newinstance,ptmxmode=0666,mode=0620,gid=${ttyGroup}`,
    }),
    // One /dev/shm per pod, as containerd does: the pod shares its IPC namespace, so POSIX shm is pod-wide.
    inRoot({ source: shmDir, target: '/dev/shm', flags: MS.BIND, remountFlags: MS.NOSUID | MS.NOEXEC | MS.NODEV, ...idmap }),
    inRoot({ source: 'mqueue', target: '/dev/mqueue', fstype: 'mqueue', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV }),
    // /sys is read-only but for privileged containers, as with runc.
    inRoot({ source: 'sysfs', target: '/sys', fstype: 'sysfs', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | (conf.privileged ? 0 : MS.RDONLY) }),
    // /sys/fs/cgroup: the container's own cgroups (container-cgroups.ts).
    ...cgroupMounts,
    ...maskingMounts(conf),
    // Device nodes are bind mounts of the host's (as rootless runc does): no mknod needed, same devices.
    // Privileged containers get every device of the host, as runc gives them.
    ...(conf.privileged ? hostDevices : DEVICES).map((d) =>
      inRoot({ source: `/dev/${d}`, target: `/dev/${d}`, flags: MS.BIND, create: 'file' }),
    ),
    ...DEV_LINKS.map(([link, to]): MountStep => ({ kind: 'symlink', inRootfs: true, source: to, target: link })),
    ...['hostname', 'hosts', 'resolv.conf'].map((f) =>
      inRoot({ source: path.join(etcDir, f), target: `/etc/${f}`, flags: MS.BIND, create: 'file', ...idmap }),
    ),
  ];
}

const MOUNT_OPTION_FLAGS = { noexec: MS.NOEXEC, nodev: MS.NODEV, nosuid: MS.NOSUID } as const;

function nodev(conf: Confinement): number {
  return conf.privileged ? 0 : MS.NODEV;
}

/**
 * The pod's mounts for the container (CRI Mount: volumes, files, the termination log): binds made read-only as
 * asked, nodev unless privileged, parents before children (/var/log before /var/log/nginx) as runc sorts them.
 */
function podMounts(mounts: ContainerMount[], conf: Confinement, isFile: (p: string) => boolean, idmap: boolean): MountStep[] {
  const sorted = [...mounts].sort((a, b) => a.containerPath.split('/').length - b.containerPath.split('/').length);
  return sorted.map((m) => ({
    inRootfs: true,
    source: m.hostPath,
    target: m.containerPath,
    flags: MS.BIND | MS.REC,
    create: isFile(m.hostPath) ? ('file' as const) : ('dir' as const),
    remountFlags: (m.readonly ? MS.RDONLY : 0) | nodev(conf) | (m.options ?? []).reduce((flags, o) => flags | MOUNT_OPTION_FLAGS[o], 0),
    ...(m.propagation === 'hostToContainer' ? { propagation: MS.REC | MS.SLAVE } : {}),
    // Bidirectional: a peer of the host's mount (spawn.h bind_as_peer), rshared as containerd asks runc.
    ...(m.propagation === 'bidirectional' ? { propagation: MS.REC | MS.SHARED, bindAsPeer: true } : {}),
    ...(m.recursiveReadOnly ? { recursiveReadOnly: m.recursiveReadOnly === 'Enabled' ? (2 as const) : (1 as const) } : {}),
    ...(idmap ? { idmap: true } : {}),
  }));
}

/**
 * containerd's rule for mountPropagation: a HostToContainer mount needs the container's root rslave (so its
 * bind keeps receiving the host's mount events), and then every other bind is made rprivate explicitly, as
 * containerd's spec gives them ("rprivate"), so that only the asked-for mounts follow the host. A Bidirectional
 * mount gets its root rslave too, where containerd asks runc for rshared: runc needs the root shared to bind a
 * peer of the host's mount, podns clones the source before the root stops propagating (bindAsPeer), so nothing
 * but that bind is ever shared with the host.
 */
function applyPropagation(mounts: MountStep[]): { mounts: MountStep[]; rootPropagation?: number } {
  if (!mounts.some((m) => m.propagation !== undefined)) return { mounts };
  return {
    mounts: mounts.map((m) => (m.propagation === undefined && ((m.flags ?? 0) & MS.BIND) !== 0 ? { ...m, propagation: MS.REC | MS.PRIVATE } : m)),
    rootPropagation: MS.SLAVE,
  };
}

/** How the container reaches the pod's namespaces. */
export type PodNamespaces =
  /** Join those of `holderPid` (the pause): net, ipc, uts, and pid when the pod shares one. */
  | { holderPid: number; sharePid: boolean }
  /**
   * infra none: this container makes the pod's namespaces itself (as `docker run` does for the container others
   * join with --net=container:), `host` keeping the node's where the pod shares them.
   */
  | { creates: { hostname: string; sysctls: { path: string; value: string }[]; host: { network: boolean; ipc: boolean; pid: boolean } } };

export interface ContainerPlanInput {
  config: ContainerConfig;
  dirs: ContainerDirs;
  /** The sandbox's /etc files (hostname, hosts, resolv.conf) and its /dev/shm. */
  etcDir: string;
  shmDir: string;
  namespaces: PodNamespaces;
  stdio: [number, number, number];
  /** Built by the caller from the confinement (the addon's libseccomp runs before the fork). */
  seccompFilter?: Buffer;
  /** For privileged containers: the host's device nodes (names below /dev). */
  hostDevices?: string[];
  /** Its cgroup namespace and /sys/fs/cgroup (planContainerCgroups); absent: neither. */
  cgroups?: ContainerCgroups;
  /** hostUsers: false: the pod's user namespace (`/proc/<pause>/ns/user`) and its IDs. */
  userNamespace?: { path: string; map: UserNamespaceMap };
}

/** Mount sources that are files must be mounted on files: the planner asks the caller which are. */
export function planContainerSpawn(input: ContainerPlanInput, isFile: (p: string) => boolean = () => false): SpawnRequest {
  const { config, dirs, stdio } = input;
  const proc = config.process;
  const conf = proc.confinement;
  const userns = input.userNamespace;
  // In a user namespace each layer is first attached idmapped at a staging directory of the container's own mount
  // namespace (by host root: only it may idmap), and the overlay made of those. The upper layer is not idmapped:
  // what the container writes keeps its host IDs there (<base> + uid), and reads back the same through the
  // overlay; a mount point podns creates in the root as host root (mkdir through an idmapped upper would fail
  // EOVERFLOW: host uid 0 has no ID in the mapping) is owned by host root, nobody (65534) inside.
  const staged = userns ? stagedLayerDirs(dirs, config.image.layers.length) : [];
  const layerMounts: MountStep[] = staged.map((target, i) => ({ source: config.image.layers[i]!, target, flags: MS.BIND, idmap: true }));
  // overlayfs lists lowerdir top first; image layers are stored lowest first.
  const lower = [...(userns ? staged : config.image.layers)].reverse().join(':');
  const overlay: MountStep = {
    source: 'overlay',
    target: dirs.rootfs,
    fstype: 'overlay',
    flags: nodev(conf),
    data: `lowerdir=${lower},upperdir=${dirs.upper},workdir=${dirs.work}`,
  };
  const ns = input.namespaces;
  const cgroupNamespace = input.cgroups?.namespace ? CLONE.NEWCGROUP : 0;
  const namespaces: Pick<SpawnRequest, 'cloneFlags' | 'joinNamespaces' | 'sysctls' | 'hostname' | 'loopbackUp'> =
    'creates' in ns
      ? {
          cloneFlags:
            CLONE.NEWNS |
            cgroupNamespace |
            (ns.creates.host.network ? 0 : CLONE.NEWNET | CLONE.NEWUTS) |
            (ns.creates.host.ipc ? 0 : CLONE.NEWIPC) |
            (ns.creates.host.pid ? 0 : CLONE.NEWPID),
          sysctls: ns.creates.sysctls,
          ...(ns.creates.host.network ? {} : { hostname: ns.creates.hostname, loopbackUp: true }),
        }
      : {
          joinNamespaces: {
            net: `/proc/${ns.holderPid}/ns/net`,
            ipc: `/proc/${ns.holderPid}/ns/ipc`,
            uts: `/proc/${ns.holderPid}/ns/uts`,
            ...(ns.sharePid ? { pid: `/proc/${ns.holderPid}/ns/pid` } : {}),
          },
          cloneFlags: CLONE.NEWNS | cgroupNamespace | (ns.sharePid ? 0 : CLONE.NEWPID),
        };
  if (userns && namespaces.joinNamespaces) namespaces.joinNamespaces = { ...namespaces.joinNamespaces, user: userns.path };
  const { mounts, rootPropagation } = applyPropagation([
    ...layerMounts,
    overlay,
    ...baseMounts(input.etcDir, input.shmDir, conf, input.hostDevices ?? [], input.cgroups?.mounts ?? [], userns?.map),
    ...podMounts(config.mounts, conf, isFile, !!userns),
  ]);
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
