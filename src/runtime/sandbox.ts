/**
 * The pod sandbox: the pause process that creates and holds the pod's namespaces, the pin of its network
 * namespace at /run/netns/<pod> (so `ip netns` sees it and it outlives the pause), and the pod-wide mounts
 * on the host side (the shared /dev/shm, Memory-backed emptyDirs, secret, downwardAPI and projected volumes), with
 * the files of the configMap, secret, downwardAPI and projected volumes. RunPodSandbox / StopPodSandbox in CRI terms.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PodSpec } from '../manifest/types.js';
import { podMemoryLimit } from '../manifest/pod-resources.js';
import { parseQuantity } from '../manifest/quantity.js';
import type { PodPaths } from '../state/paths.js';
import type { PodState } from '../state/pod-state.js';
import { CLONE, MNT_DETACH, MS, mount, spawnProcess, umount, type SpawnRequest } from '../sys/native.js';
import { describeSpawn } from '../explain/describe-spawn.js';
import type { Step } from '../explain/step-log.js';
import { projectPath } from '../sys/project-path.js';
import { fromNodeError, PodnsError } from '../errors.js';
import { volumeFiles, writeVolumeFiles } from './config-volumes.js';
import { volumeHostPath } from './volume-source.js';

export function pauseBinary(): string {
  return process.env.PODNS_PAUSE ?? projectPath('build/Release/pause');
}

export interface HostNamespaces {
  network: boolean;
  ipc: boolean;
  pid: boolean;
}

/**
 * Starts pause as PID 1 of new pid/net/ipc/uts/mnt namespaces, in an empty tmpfs root. hostNetwork keeps the
 * host's network and UTS namespaces (as containerd does), hostIPC the IPC one, hostPID the PID one. With
 * `fdStore` (the two ends of FdStore.create) it is also the pod's fd store.
 */
export function startPause(
  paths: PodPaths,
  hostname: string,
  sysctls: { path: string; value: string }[],
  host: HostNamespaces,
  cgroupProcsFiles: string[] = [],
  explain?: (steps: Step[]) => void,
  fdStore?: [number, number],
): number {
  fs.mkdirSync(paths.pauseRoot, { recursive: true });
  const request: SpawnRequest = {
    cloneFlags:
      CLONE.NEWNS |
      (host.network ? 0 : CLONE.NEWNET | CLONE.NEWUTS) |
      (host.ipc ? 0 : CLONE.NEWIPC) |
      (host.pid ? 0 : CLONE.NEWPID),
    newSession: true,
    // Into the pause's cgroup (one cgroup.procs per v1 hierarchy) before it execs.
    cgroupProcsFiles,
    ...(host.network ? {} : { hostname, loopbackUp: true }),
    // The pod's namespaced sysctls, written by the pause itself inside the new net and IPC namespaces.
    sysctls,
    mounts: [{ source: 'tmpfs', target: paths.pauseRoot, fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV, data: 'size=64k,mode=755' }],
    rootfs: paths.pauseRoot,
    cwd: '/',
    execFile: pauseBinary(),
    argv: ['/pause'],
    // The fd store's two ends become its fds 3 and 4 (native/README.md, "The fd store"); asked for in the
    // environment, so that its command line stays Kubernetes' pause's.
    ...(fdStore ? { extraFds: fdStore } : {}),
    env: fdStore ? ['PODNS_FD_STORE=1'] : [],
  };
  return spawnProcess(request, 'pause', explain && ((steps, pid) => explain(describeSpawn(request, steps, 'pause', pid))));
}

/** Bind-mounts the pause's network namespace at the pin path; the caller records the pin first. */
export function pinNetworkNamespace(pausePid: number, pin: string): void {
  fs.mkdirSync(path.dirname(pin), { recursive: true, mode: 0o755 });
  try {
    fs.closeSync(fs.openSync(pin, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDONLY, 0o444));
  } catch (err) {
    throw fromNodeError('sandbox.pinNetns', err, `create network namespace pin "${pin}"`);
  }
  mount(`/proc/${pausePid}/ns/net`, pin, null, MS.BIND);
}

function isMountPoint(target: string): boolean {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === target);
}

/** Undoes a pin; idempotent (a missing pin or file is fine). */
export function unpinNetworkNamespace(pin: string): void {
  if (isMountPoint(pin)) umount(pin, MNT_DETACH);
  fs.rmSync(pin, { force: true });
}

/**
 * kubelet's calculateEmptyDirMemorySize: a Memory emptyDir's tmpfs is as large as its sizeLimit, bounded by the
 * pod's memory limit (pod-level, or every container's aggregate), or that limit alone; without either the
 * kernel's default (half the RAM) stays, where kubelet would use the node's allocatable memory.
 */
export function memoryEmptyDirSize(spec: PodSpec, sizeLimit: string | undefined): number | undefined {
  const podLimit = podMemoryLimit(spec);
  const limit = sizeLimit === undefined ? undefined : Math.ceil(parseQuantity(sizeLimit));
  if (limit !== undefined && limit > 0) return podLimit === undefined ? limit : Math.min(limit, podLimit);
  return podLimit;
}

/** The pod-wide host mounts, recorded in state before each is made. */
export function mountPodFilesystems(spec: PodSpec, paths: PodPaths, state: PodState, save: () => void): void {
  const tmpfs = (target: string, data: string) => {
    fs.mkdirSync(target, { recursive: true });
    state.hostMounts.push(target);
    save();
    mount('shm', target, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, data);
  };
  tmpfs(paths.shmDir, 'mode=1777,size=67108864');
  for (const volume of spec.volumes) {
    const dir = path.join(paths.volumesDir, volume.name);
    if ('emptyDir' in volume) {
      if (volume.emptyDir.medium === 'Memory') {
        const size = memoryEmptyDirSize(spec, volume.emptyDir.sizeLimit);
        tmpfs(dir, `mode=1777${size === undefined ? '' : `,size=${size}`}`);
      }
      else fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
      fs.chmodSync(dir, 0o777); // emptyDir is world-writable in Kubernetes (0777)
      const { fsGroup } = spec.securityContext;
      if (fsGroup !== undefined) {
        // kubelet's SetVolumeOwnership: group fsGroup, setgid so new files inherit it.
        fs.chownSync(dir, 0, fsGroup);
        fs.chmodSync(dir, 0o2777);
      }
    } else if ('hostPath' in volume) {
      prepareHostPath(volume.name, volume.hostPath.path, volume.hostPath.type);
    } else if ('persistentVolumeClaim' in volume) {
      prepareNamedVolume(volumeHostPath(volume, paths), spec.securityContext.fsGroup);
    } else {
      const files = volumeFiles(volume)!;
      // Secrets live in memory only, as kubelet keeps them: a tmpfs of their own, recorded like the others.
      // kubelet backs downwardAPI and projected volumes with a Memory emptyDir too (their plugins' wrappedVolumeSpec),
      // whose tmpfs root keeps the kernel's default mode, 1777.
      if ('configMap' in volume) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      else tmpfs(dir, 'secret' in volume ? 'mode=755' : 'mode=1777');
      writeVolumeFiles(dir, files, spec.securityContext.fsGroup, `volume "${volume.name}"`);
    }
  }
}

/**
 * A claim's named volume: made on first use, world-writable as a local provisioner's volumes are (and as an
 * emptyDir is), with fsGroup's group and setgid then; a volume that exists is used as it is, data and modes.
 */
function prepareNamedVolume(dir: string, fsGroup: number | undefined): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  fs.mkdirSync(dir, { mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  if (fsGroup !== undefined) {
    fs.chownSync(dir, 0, fsGroup);
    fs.chmodSync(dir, 0o2777);
  }
}

/** hostPath types as kubelet checks them (DirectoryOrCreate makes 0755 dirs, FileOrCreate 0644 files). */
function prepareHostPath(name: string, hostPath: string, type: string): void {
  const fail = (why: string) => {
    throw new PodnsError('sandbox.hostPath', `volume "${name}": hostPath "${hostPath}": ${why}`);
  };
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(hostPath);
  } catch {
    stat = undefined;
  }
  switch (type) {
    case 'DirectoryOrCreate':
      if (!stat) fs.mkdirSync(hostPath, { recursive: true, mode: 0o755 });
      else if (!stat.isDirectory()) fail('exists and is not a directory');
      return;
    case 'FileOrCreate':
      if (!stat) {
        fs.mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
        fs.writeFileSync(hostPath, '', { mode: 0o644 });
      } else if (!stat.isFile()) fail('exists and is not a file');
      return;
    case 'Directory':
      if (!stat?.isDirectory()) fail('is not a directory');
      return;
    case 'File':
      if (!stat?.isFile()) fail('is not a file');
      return;
    case 'Socket':
      if (!stat?.isSocket()) fail('is not a socket');
      return;
    case 'CharDevice':
      if (!stat?.isCharacterDevice()) fail('is not a character device');
      return;
    case 'BlockDevice':
      if (!stat?.isBlockDevice()) fail('is not a block device');
      return;
    default:
      if (!stat) fail('no such file or directory');
  }
}

export function unmountPodFilesystems(state: PodState): void {
  for (const target of [...state.hostMounts].reverse()) {
    if (isMountPoint(target)) umount(target, MNT_DETACH);
  }
  state.hostMounts = [];
}

/**
 * Creates a volumeMount's subPath inside its volume, as kubelet does (mode 0750), refusing any component
 * that is a symlink: a container could otherwise point its subPath at a host directory (CVE-2017-1002101).
 * The check and the later bind mount are not atomic; a container racing to swap in a symlink between the two
 * is not defended against yet.
 */
export function ensureSubPath(volumeRoot: string, subPath: string, what: string): void {
  let current = volumeRoot;
  for (const part of subPath.split('/').filter(Boolean)) {
    current = path.join(current, part);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(current);
    } catch {
      stat = undefined;
    }
    if (stat?.isSymbolicLink()) throw new PodnsError('sandbox.subPath', `${what}: subPath "${subPath}" goes through a symlink ("${current}"): refused`);
    if (!stat) fs.mkdirSync(current, { mode: 0o750 });
  }
}
