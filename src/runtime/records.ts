/**
 * The runtime service's part of the state on disk (what a CRI runtime keeps of its sandboxes and containers):
 * `<run dir>/sandbox.json` and `<run dir>/containers/<container id>.json`, each written atomically before the
 * kernel object it names exists, so that a sandbox can be torn down — or adopted by a new supervisor — from them
 * alone. What kubelet knows of the pod (phase, restart counts, readiness, waiting reasons) is the pod manager's,
 * in status.json; the CLI reads both through state/pod-view.ts.
 */
import path from 'node:path';
import type { CgroupLayout, CgroupHost } from '../cgroup/layout.js';
import type { CgroupLimits } from '../cgroup/resources.js';
import type { HostPortMapping } from '../network/bridge-plan.js';
import type { NetworkConfig } from '../network/network-config.js';
import { readJsonIfExists, writeJsonAtomic } from '../state/atomic-file.js';
import type { FdIdentity, Infra, PodNetworkRecord, ProcessPrivileges, ProcessRef, ProcessSpec } from '../state/pod-state.js';
import type { PodSpec } from '../manifest/types.js';
import type { UserNamespaceMap } from '../kernel/types.js';
import type { LeaseOwner, UserNamespaceRanges } from './userns-ranges.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** CRI NamespaceMode, for the namespaces a pod may share with the node. */
export type NamespaceMode = 'pod' | 'container' | 'node';

/** What RunPodSandbox is given (CRI PodSandboxConfig, in podns's words). */
export interface SandboxConfig {
  /** The sandbox's id: the pod's id for pods of `podns run` (the name of its run directory), a random hex id over CRI. */
  id: string;
  /** Made over the CRI (kubelet is its pod manager): no status.json, no spec.json, only the runtime's records. */
  origin?: 'cri';
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  /** The kernel hostname (the FQDN with setHostnameAsFQDN). */
  hostname: string;
  /** /etc/hosts: the pod's short name and DNS domain (with a subdomain), and hostAliases. */
  hosts: { name: string; domain?: string; aliases: PodSpec['hostAliases'] };
  /** /etc/resolv.conf as kubelet computes it from dnsPolicy and dnsConfig (the node's own with hostNetwork). */
  dns: Pick<PodSpec, 'dnsPolicy' | 'dnsConfig'>;
  /** CRI port_mappings: the hostPorts the pod publishes. */
  portMappings: HostPortMapping[];
  /** Where the pod's CRI logs go (CRI log_directory). */
  logDirectory: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** CRI NamespaceOption: pod (its own), node (hostNetwork/hostPID/hostIPC), container (pid only: no shareProcessNamespace). */
  namespaces: { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode };
  /** Namespaced sysctls, written by the pause in its new namespaces. */
  sysctls: { path: string; value: string }[];
  /** The pod cgroup (CRI cgroup_parent, and the pod-level resources); absent: no cgroups. */
  cgroup?: { host: CgroupHost; parents: Record<string, string>; limits: CgroupLimits };
  network: NetworkConfig;
  /** podns's own: `none` starts no pause, the first container holds the pod's namespaces. */
  infra: Infra;
  /** CRI: the sandbox may hold privileged containers (kubelet sets it when one of them is). */
  privileged?: boolean;
  /**
   * hostUsers: false: the pod gets a user namespace of its own, made with the pause, with 65536 IDs from this
   * window (`<etc>/userns.json`, userns-ranges.ts); every container joins it.
   */
  userNamespace?: { ranges: UserNamespaceRanges; leaseDir: string } | { given: UserNamespaceMap };
}

export type SandboxState = 'ready' | 'notready';

export interface SandboxRecord {
  id: string;
  config: SandboxConfig;
  state: SandboxState;
  createdAt: string;
  /** The supervisor that runs it. */
  supervisor?: ProcessRef;
  /** The holder of the pod's namespaces: the pause, or with infra none the first container. */
  pause?: ProcessRef;
  /**
   * What the pause started with: the supervisor's privileges when it cloned it (the clone copies them; the spawn
   * gives the pause no security steps), before the pause dropped them all (native/pause.c).
   */
  pauseStartedWith?: ProcessPrivileges;
  /** The pause's fd store (its sending end, fd 4): how a new supervisor reaches it. */
  fdStore?: FdIdentity;
  netnsPin?: string;
  network?: PodNetworkRecord;
  podIP?: string;
  /** Host-side mounts of the sandbox (its /dev/shm), in creation order. */
  hostMounts: string[];
  cgroups?: CgroupLayout;
  /**
   * The pod's ID range (hostUsers: false) and its lease, recorded right after the allocation, before the pause;
   * no lease for a range kubelet allocated (CRI userns_options: kubelet's userns manager owns it).
   */
  userNamespace?: UserNamespaceMap & { leaseDir?: string; owner?: LeaseOwner };
}

/** A mount the container gets from the pod (CRI Mount): a volume, a file, the termination log. */
export interface ContainerMount {
  hostPath: string;
  containerPath: string;
  readonly: boolean;
  /** CRI MountPropagation; private by default. */
  propagation?: 'private' | 'hostToContainer' | 'bidirectional';
  /** CRI recursive_read_only: `IfPossible` when the kernel can, `Enabled` required. */
  recursiveReadOnly?: 'IfPossible' | 'Enabled';
  /** CRI mount_options: what the bind is remounted with besides read-only (and nodev, which podns always adds). */
  options?: ('noexec' | 'nodev' | 'nosuid')[];
}

/** What CreateContainer is given (CRI ContainerConfig; the process already resolved against its image). */
export interface ContainerConfig {
  name: string;
  /** CRI attempt: the restart count this container is the run of. */
  attempt: number;
  /** `digest`: the registry manifest's, when the image was pulled (CRI image_ref). */
  image: { name: string; id: string; layers: string[]; stopSignal?: string; digest?: string };
  process: ProcessSpec;
  mounts: ContainerMount[];
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  logPath: string;
  resources: CgroupLimits;
  labels?: Record<string, string>;
  /** CRI annotations, kept verbatim. */
  annotations?: Record<string, string>;
  /** CRI: the image as kubelet named it (ImageSpec.image), for ContainerStatus. */
  imageSpec?: string;
  /** CRI: LinuxContainerResources as kubelet sent them (last UpdateContainerResources), for ContainerStatus. */
  criResources?: object;
}

/** CRI ContainerState. */
export type ContainerRuntimeState = 'created' | 'running' | 'exited';

export interface ContainerRecord {
  /**
   * `<sandbox id>.<name>.<attempt>`: unique on the node, as a CRI container id must be (container names are DNS
   * labels, without dots, so the last two fields are always the name and the attempt).
   */
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  state: ContainerRuntimeState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  signal?: number;
  /** OOMKilled, Completed, Error, or ContainerStatusUnknown for an exit nobody saw; StartError when it could not start. */
  reason?: string;
  message?: string;
  process?: ProcessRef;
  /** Inode of its mount namespace: finds every process of the container, exec sessions too. */
  mntNs?: number;
  /** The fds of this run the pause holds (by role): a new supervisor takes them back. */
  heldFds?: Record<string, FdIdentity>;
  /** Its writable layer and the mount point of its root. */
  dirs: { upper: string; work: string; rootfs: string };
  /** The seccomp program it runs under (BPF), reused as it is by exec. */
  seccompFilterFile?: string;
  /** With infra none: this container made the pod's namespaces (its exit takes them down). */
  holdsPodNamespaces?: boolean;
}

export function containerId(sandboxId: string, name: string, attempt: number): string {
  return `${sandboxId}.${name}.${attempt}`;
}

/** The record's file name in its sandbox's containers/ directory: `<name>.<attempt>`. */
function localName(record: Pick<ContainerRecord, 'config'>): string {
  return `${record.config.name}.${record.config.attempt}`;
}

export function sandboxFile(runDir: string): string {
  return path.join(runDir, 'sandbox.json');
}

export function containersDir(runDir: string): string {
  return path.join(runDir, 'containers');
}

export function containerFile(runDir: string, record: Pick<ContainerRecord, 'config'>): string {
  return path.join(containersDir(runDir), `${localName(record)}.json`);
}

export function readSandbox(runDir: string): SandboxRecord | undefined {
  return readJsonIfExists<SandboxRecord>(sandboxFile(runDir));
}

export function writeSandbox(runDir: string, record: SandboxRecord): void {
  writeJsonAtomic(sandboxFile(runDir), record);
}

/** Every container record of a sandbox, oldest attempt first within a name. */
export function readContainers(runDir: string): ContainerRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(containersDir(runDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((f) => readJsonIfExists<ContainerRecord>(path.join(containersDir(runDir), f)))
    .filter((r): r is ContainerRecord => r !== undefined)
    .sort((a, b) => (a.config.name === b.config.name ? a.config.attempt - b.config.attempt : 0));
}

export function writeContainer(runDir: string, record: ContainerRecord): void {
  fs.mkdirSync(containersDir(runDir), { recursive: true, mode: 0o700 });
  writeJsonAtomic(containerFile(runDir, record), record);
}

export function deleteContainerRecord(runDir: string, record: ContainerRecord): void {
  fs.rmSync(containerFile(runDir, record), { force: true });
}
