/**
 * The volumes whose content is data of the API (kubelet's AtomicWriter volumes): configMap, secret, downwardAPI
 * and projected. Their files were resolved before the supervisor starts (the manifest loader for ConfigMaps and
 * Secrets, `podns run` for the downward API) and are written into the volume's directory of the pod before any
 * container starts; the container sees them through a read-only bind mount. kubelet's AtomicWriter (`..data`
 * symlink swaps) is for updates, which podns never makes: plain files suffice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromNodeError, PodnsError } from '../errors.js';
import type { VolumeFile, VolumeSpec } from '../manifest/types.js';

/** What a configMap, secret, downwardAPI or projected volume holds; undefined for other volumes. */
export function volumeFiles(volume: VolumeSpec): VolumeFile[] | undefined {
  if ('configMap' in volume) return volume.configMap.files;
  if ('secret' in volume) return volume.secret.files;
  if ('downwardAPI' in volume) return resolved(volume.name, volume.downwardAPI.files);
  if (!('projected' in volume)) return undefined;
  // kubelet collects the sources into one map by path: a later source's file replaces an earlier one's.
  const byPath = new Map<string, VolumeFile>();
  for (const source of volume.projected.sources) {
    const files = 'configMap' in source ? source.configMap.files : 'secret' in source ? source.secret.files : 'downwardAPI' in source ? resolved(volume.name, source.downwardAPI.files) : [];
    for (const file of files) byPath.set(file.path, file);
  }
  return [...byPath.values()];
}

function resolved(name: string, files: VolumeFile[] | undefined): VolumeFile[] {
  // `podns run` resolves the downward API before it writes spec.json; a spec without them was not made by it.
  if (!files) throw new PodnsError('sandbox.downwardAPI', `volume "${name}": the downward API files were not resolved (podns run resolves them)`);
  return files;
}

/**
 * Writes `files` under `dir` (which exists: a directory, or a tmpfs). With fsGroup the files are group fsGroup
 * and group-readable, as kubelet's SetVolumeOwnership leaves a read-only volume.
 */
export function writeVolumeFiles(dir: string, files: VolumeFile[], fsGroup: number | undefined, what: string): void {
  for (const file of files) {
    const target = path.resolve(dir, file.path);
    // The loader refuses "..", absolute paths and a leading ".."; this is the last guard before a write.
    if (!target.startsWith(`${dir}/`)) throw new PodnsError('sandbox.configVolume', `${what}: path "${file.path}" leaves the volume`);
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      fs.writeFileSync(target, Buffer.from(file.data, 'base64'), { flag: 'wx' });
      let mode = file.mode;
      if (fsGroup !== undefined) {
        fs.chownSync(target, 0, fsGroup);
        mode |= 0o440;
      }
      // After the write: the process umask must not trim the mode the manifest asked for.
      fs.chmodSync(target, mode);
    } catch (err) {
      throw fromNodeError('sandbox.configVolume', err, `${what}: write "${target}"`);
    }
  }
}
