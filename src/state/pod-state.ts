/**
 * The record of a pod on disk (state.json). The supervisor writes it on every change; the CLI reads it for ps,
 * exec, logs and inspect, and a new supervisor adopts the pod, or tears it down, from it alone. Every kernel object is
 * recorded before it is created, so teardown never has to guess.
 */
import type { ImageRecord } from '../image/types.js';
import type { PodManifest } from '../manifest/types.js';
import type { Confinement } from '../security/confinement.js';
import type { CgroupHost, CgroupLayout } from '../cgroup/layout.js';
import type { BridgeNetworkRecord } from '../network/bridge-network.js';
import type { CniNetworkRecord } from '../network/cni.js';

export type PodNetworkRecord = BridgeNetworkRecord | CniNetworkRecord;
import type { NetworkConfig } from '../network/network-config.js';

/** A process identified beyond its pid: the start time (clock ticks since boot) guards against pid reuse. */
export interface ProcessRef {
  pid: number;
  startTime: number;
}

/** The lines of /proc/<pid>/status that say what a process may do: its ids, its capability sets, no_new_privs, seccomp. */
export const PRIVILEGE_FIELDS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters'] as const;

/** Those lines as /proc prints them (tabs as spaces): `{"Uid": "65535 65535 65535 65535", "CapEff": "0000000000000000", ...}`. */
export type ProcessPrivileges = Partial<Record<(typeof PRIVILEGE_FIELDS)[number], string>>;

/** An open file told apart from every other: st_dev and st_ino (a pipe's inode on pipefs, a socket's on sockfs). */
export interface FdIdentity {
  dev: number;
  ino: number;
}

export interface ProcessSpec {
  argv: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; groups: number[] };
  /** Applied to the container's process and to every exec in it. */
  confinement: Confinement;
  /** hostUsers: false: it runs in the pod's user namespace, and so does every exec in it (user is inside it). */
  userNamespace?: boolean;
}

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerState {
  name: string;
  image: string;
  imageId: string;
  status: ContainerStatus;
  process?: ProcessRef;
  /** Inode of the container's mount namespace: finds every process of the container, exec sessions too. */
  mntNs?: number;
  /** The fds of this run the pause holds (its output pipes' read ends, by role): a new supervisor takes them back. */
  heldFds?: Record<string, FdIdentity>;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  signal?: number;
  reason?: string;
  /** The container's termination message (terminationMessagePath, or the log's tail), once it exited. */
  message?: string;
  stoppedByUser?: boolean;
  /** It died because the pod's namespaces went (--infra=none: the first container exited); not restarted. */
  endedWithSandbox?: boolean;
  /**
   * An app container or sidecar that exited and will be started again (restartPolicy, after its back-off). Set
   * with the exit, in the same write, so a reader never sees an exited container that is about to come back as
   * done for good (`run --attach` relies on it). Plain init containers are retried by the init loop instead.
   */
  restartPending?: boolean;
  /** Why it does not run now, in kubelet's words: ContainerCreating, CrashLoopBackOff, PodInitializing. */
  waiting?: { reason: string; message?: string };
  /** The run before this one, as kubelet's lastState.terminated. */
  lastState?: { terminated: TerminatedState };
  /** Running, and ready by its readiness probe (or without one): the Ready condition's input. */
  ready?: boolean;
  /** kubelet's ContainerStatus.started: running, its postStart returned and its startupProbe (if any) succeeded. */
  started?: boolean;
  /** An init container with restartPolicy Always: runs beside the app containers (KEP-753). */
  sidecar?: boolean;
  /** Starts after the first: its log is <container>/<restartCount>.log, as kubelet names them. */
  restartCount: number;
  logPath: string;
  upperDir: string;
  /** The seccomp program the container runs under (BPF), reused as it is by exec. */
  seccompFilterFile?: string;
  spec: ProcessSpec;
}

/** kubelet's phases; Stopped after `podns stop`; Unknown: no supervisor can hold it (reason says why). */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Stopped' | 'Unknown';

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** A container's state as kubelet reports it: exactly one of waiting, running and terminated. */
export type KubeContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt?: string } }
  | { terminated: TerminatedState };

export interface PodCondition {
  type: 'Initialized' | 'ContainersReady' | 'Ready';
  status: 'True' | 'False';
  reason?: string;
}

/** The recorded container in kubelet's shape (state.waiting / running / terminated). */
export function kubeContainerState(c: ContainerState): KubeContainerState {
  // Waiting first: a container whose postStart still runs is waiting for kubelet, though its process runs.
  if (c.waiting) return { waiting: c.waiting };
  if (c.status === 'running') return { running: { startedAt: c.startedAt } };
  if (c.status === 'exited') {
    return {
      terminated: { exitCode: c.exitCode ?? 0, signal: c.signal, reason: c.reason, message: c.message, startedAt: c.startedAt, finishedAt: c.finishedAt },
    };
  }
  return { waiting: { reason: 'ContainerCreating' } };
}

export interface PodState {
  id: string;
  /** Made by kubelet over the CRI: kubelet is its pod manager (phase from the sandbox's state, no status.json). */
  origin?: 'cri';
  name: string;
  namespace: string;
  uid: string;
  createdAt: string;
  hostname: string;
  phase: PodPhase;
  /** Why the pod is in its phase when kubelet says so (DeadlineExceeded), and the message. */
  reason?: string;
  message?: string;
  /** The supervisor process that holds the pod. */
  supervisor?: ProcessRef;
  pause?: ProcessRef;
  /** What the pause started with (the supervisor's privileges, which the clone copies), before it dropped them. */
  pauseStartedWith?: ProcessPrivileges;
  /** The pause's fd store (its sending end, fd 4), absent with --infra=none: how a new supervisor reaches it. */
  fdStore?: FdIdentity;
  /** Recorded before the bind mount is made, removed after it is undone. */
  netnsPin?: string;
  /** The pod's addresses and links (bridge or CNI mode), each recorded before it is made. */
  network?: PodNetworkRecord;
  podIP?: string;
  /** Host-side mounts podns made for the pod (shm, Memory emptyDirs), in creation order. */
  hostMounts: string[];
  /** The pod's cgroups (version, mounts, pod path per hierarchy, leaves), recorded before any is created. */
  cgroups?: CgroupLayout;
  shareProcessNamespace: boolean;
  /** Who holds the pod's namespaces: the pause (the default), or with --infra=none the first container. */
  infra: Infra;
  /** Initialized, ContainersReady, Ready, as kubelet sets them. */
  conditions?: PodCondition[];
  /** Run one by one to exit 0 before `containers` start. */
  initContainers?: ContainerState[];
  containers: ContainerState[];
}

/**
 * The pod manager's record of a pod (status.json): what kubelet knows of it — its phase and conditions, and of
 * each container the kubelet's ContainerStatus (state, last state, restart count, readiness, the run it is at)
 * — plus the host mounts it made for the pod's volumes. The runtime's records hold the rest (runtime/records.ts);
 * PodState is the two read together (kubelet/pod-view.ts).
 */
export interface PodStatusRecord {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  createdAt: string;
  hostname: string;
  phase: PodPhase;
  reason?: string;
  message?: string;
  /** The supervisor that manages the pod. */
  supervisor?: ProcessRef;
  shareProcessNamespace: boolean;
  infra: Infra;
  conditions?: PodCondition[];
  /** Host mounts made for the pod's volumes (Memory emptyDirs, secret, downwardAPI, projected), in creation order. */
  volumeMounts: string[];
  initContainers?: ContainerStatusRecord[];
  containers: ContainerStatusRecord[];
}

/** ContainerState without what the runtime records of a run (its process, namespaces, fds, directories, spec). */
export type ContainerStatusRecord = Omit<ContainerState, 'process' | 'mntNs' | 'heldFds' | 'upperDir' | 'seccompFilterFile' | 'spec'> & {
  /** The runtime's id of its current (or last) run. */
  containerId?: string;
};

/** The window of host IDs pods in user namespaces get their ranges from (runtime/userns-ranges.ts). */
export interface UserNamespaceRanges {
  /** The first host ID pods may get: a multiple of 65536, at least 65536. */
  firstID: number;
  /** How many IDs from firstID: a multiple of 65536. */
  length: number;
}

/** What `podns run` hands the supervisor: the validated manifest and the images it resolved. */
export interface PodSpecFile {
  pod: PodManifest;
  uid: string;
  images: Record<string, ImageRecord>;
  /** Each container's process, planned by `podns run` (so a bad user or runAsNonRoot fails before anything exists). */
  processes: Record<string, ProcessSpec>;
  /** Where the pod's cgroups go, resolved by `podns run`; absent: the pod gets no cgroups. */
  cgroup?: PodCgroupPlan;
  network: NetworkConfig;
  infra: Infra;
  /** hostUsers: false: the window of host IDs its range comes from (`<etc>/userns.json`), read by `podns run`. */
  userNamespaceRanges?: UserNamespaceRanges;
  /**
   * The `podns run` that reserved the pod and will hand it to the supervisor: until it has, a supervisor that
   * starts meanwhile leaves the pod alone (when that process is gone, the reservation is void).
   */
  reservedBy?: ProcessRef;
  /** TEST ONLY: PODNS_BACKOFF_SCALE of the `podns run` that made the pod (restart-policy.ts backOffScale). */
  backOffScale?: number;
}

export type Infra = 'pause' | 'none';

/** The cgroup host (v1 or v2, its mounts), the parent in each hierarchy and the pod's pids limit. */
export interface PodCgroupPlan {
  host: CgroupHost;
  parents: Record<string, string>;
  pidsLimit?: number;
}
