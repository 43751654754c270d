/**
 * configMap and secret volumes: the files the manifest loader resolved, written into the volume's directory
 * of the pod before any container starts (the container sees them through a read-only bind mount). kubelet's
 * AtomicWriter (`..data` symlink swaps) is for updates, which podns never makes: plain files suffice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromNodeError, PodnsError } from '../errors.js';
import type { ConfigVolumeSource } from '../manifest/types.js';

/**
 * Writes `source.files` under `dir` (which exists: a directory, or for a secret a tmpfs). With fsGroup the
 * files are group fsGroup and group-readable, as kubelet's SetVolumeOwnership leaves a read-only volume.
 */
export function writeConfigVolume(dir: string, source: ConfigVolumeSource, fsGroup: number | undefined, what: string): void {
  for (const file of source.files) {
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
