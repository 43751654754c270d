/**
 * The pod's volumes on the host, kubelet's part: made ready before the containers that mount them start
 * (prepareVolumes), a volumeMount's subPath created safely inside its volume (ensureSubPath), a Memory
 * emptyDir's size (memoryEmptyDirSize). The containers get them as mounts (container-mounts.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Kernel } from '../kernel/kernel.js';
import type { PodSpec } from '../manifest/types.js';
import { podMemoryLimit } from '../manifest/pod-resources.js';
import { parseQuantity } from '../manifest/quantity.js';
import type { PodPaths } from '../state/paths.js';
import { PodnsError } from '../errors.js';
import { volumeFiles, writeVolumeFiles } from '../runtime/config-volumes.js';
import { volumeHostPath } from '../runtime/volume-source.js';
import { mountTmpfs } from '../runtime/sandbox.js';

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

/**
 * Every volume of the pod made ready on the host (kubelet's volume manager): emptyDirs (Memory ones on a tmpfs
 * sized as kubelet sizes it), hostPaths checked or created by their type, named volumes made on first use, and
 * the files of configMap, secret, downwardAPI and projected volumes (secrets and the downward API on a tmpfs of
 * their own). Each tmpfs is recorded through `record` before it is mounted, so teardown finds it.
 */
export function prepareVolumes(kernel: Pick<Kernel, 'mount'>, spec: PodSpec, paths: Pick<PodPaths, 'volumesDir'>, record: (target: string) => void): void {
  const tmpfs = (target: string, data: string) => mountTmpfs(kernel, target, data, record);
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
