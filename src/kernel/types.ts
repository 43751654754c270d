/**
 * The vocabulary of the kernel seam (kernel.ts): what a spawn request says, the Linux constants podns passes,
 * an exit status, a process identity. Pure types and constants: importing this loads no addon.
 */
export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  BIND: 4096,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

export const MNT_DETACH = 2;

export type NamespaceKind = 'ipc' | 'uts' | 'net' | 'pid' | 'cgroup' | 'mnt' | 'user';
/**
 * The addon's namespace indexes (spawn.h enum podns_ns), for reading `index` back. The intermediate joins the
 * first ones in this order (mnt last); cgroup and user are joined by the final process: cgroup once it is in its
 * cgroup, user after its mounts and pivot_root, just before its ids and capabilities are set.
 */
export const JOIN_ORDER: NamespaceKind[] = ['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt', 'user'];

export interface MountStep {
  /** mask: hide the target (empty read-only tmpfs on a dir, /dev/null on a file); readonly: bind it on itself
   *  read-only. Both skip a missing target. */
  kind?: 'mount' | 'symlink' | 'mask' | 'readonly';
  /** Target relative to the rootfs, resolved with symlinks confined to it. */
  inRootfs?: boolean;
  source?: string;
  target: string;
  fstype?: string;
  flags?: number;
  data?: string;
  create?: 'dir' | 'file';
  remountFlags?: number;
  /** mount(NULL, target, NULL, propagation) last: MS.REC|MS.SLAVE, MS.REC|MS.PRIVATE, MS.REC|MS.SHARED. */
  propagation?: number;
  /**
   * mountPropagation Bidirectional: the source's mount tree is cloned (open_tree) before the new namespace's "/"
   * stops propagating, and attached at the target (move_mount), so it stays a peer of the host's mount.
   */
  bindAsPeer?: boolean;
  /** Read-only below the target too (mount_setattr AT_RECURSIVE): 1 if the kernel can, 2 required. */
  recursiveReadOnly?: 1 | 2;
  /**
   * hostUsers: false: an idmapped bind of the source (open_tree clone, mount_setattr MOUNT_ATTR_IDMAP with the
   * user namespace of joinNamespaces.user, move_mount onto the target), recursive with MS.REC.
   */
  idmap?: boolean;
}

/** A pod's user namespace ids (hostUsers: false): container id 0..size-1 is host id base..base+size-1. */
export interface UserNamespaceMap {
  uidBase: number;
  gidBase: number;
  size: number;
}

/** Capability sets are 64-bit masks (bit n = capability n). */
export interface SecuritySpec {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  noNewPrivs: boolean;
  /** A classic BPF program (struct sock_filter[], 8 bytes each); absent: no filter. */
  seccompFilter?: Buffer;
  readonlyRoot: boolean;
}

export interface SpawnRequest {
  joinNamespaces?: Partial<Record<NamespaceKind, string>>;
  cloneFlags?: number;
  /**
   * With CLONE.NEWUSER in cloneFlags (a pause only: the direct shape): the uid_map and gid_map the caller
   * writes for the new user namespace before the child goes on ("0 <base> <size>").
   */
  userns?: UserNamespaceMap;
  /** Propagation of "/" in the new mount namespace: MS.SLAVE (HostToContainer mounts need it); MS.PRIVATE by default. */
  rootPropagation?: number;
  newSession?: boolean;
  hostname?: string;
  loopbackUp?: boolean;
  mounts?: MountStep[];
  rootfs?: string;
  cwd?: string;
  user?: { uid: number; gid: number; groups: number[] };
  stdio?: [number, number, number];
  /** fds that become 3, 4, ... in the final process (at most 8); every other fd is closed at exec. */
  extraFds?: number[];
  /** execveat() this host file (opened before the fork), e.g. the pause binary. */
  execFile?: string;
  path?: string;
  searchPath?: string;
  argv: string[];
  env: string[];
  /** Confinement of the final process; absent: it keeps the caller's capabilities. */
  security?: SecuritySpec;
  /** A terminal in the container (OCI process.terminal); set by spawnWithTerminal, which returns its master. */
  terminal?: boolean;
  /** Ask the addon for the trace of every step (spawnProcess's onSteps sets it). */
  trace?: boolean;
  /** The cgroup.procs file of the cgroup the final process joins (writing "0") before anything else. */
  cgroupProcsFile?: string;
  /** Several cgroup.procs files, joined in order (cgroup v1: one per hierarchy); at most 16. */
  cgroupProcsFiles?: string[];
  /** Written through /proc/sys by the final process, in its new namespaces, before the mounts. */
  sysctls?: { path: string; value: string }[];
}

export interface ExitStatus {
  exitCode: number | null;
  signal: number | null;
  error?: string;
}

/** A process beyond its pid: the start time (clock ticks after boot) tells it from a later one with the same pid. */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

/** The most fds one message may carry (the pause's receive buffer). */
export const FD_STORE_MAX_PER_MESSAGE = 16;

/**
 * What buildSeccompFilter compiles, in Docker's vocabulary (SCMP_ACT_*, SCMP_CMP_*), flat: no includes or
 * excludes left (src/security resolves those). Unknown syscall names are skipped, as runc does.
 */
export interface SeccompFilterSpec {
  defaultAction: string;
  defaultErrno?: number;
  /** libseccomp names; default x86_64, x86, x32 (Docker's archMap for amd64). */
  architectures?: string[];
  syscalls: {
    names: string[];
    action: string;
    errno?: number;
    args?: { index: number; op: string; value: number | bigint; valueTwo?: number | bigint }[];
  }[];
}

