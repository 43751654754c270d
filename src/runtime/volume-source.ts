/**
 * Where a pod volume lives on the host: a hostPath's own path, a claim's named volume (resolved by `podns run`),
 * or the pod's directory for the volume (emptyDir, configMap, secret, downwardAPI, projected).
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
import type { VolumeSpec } from '../manifest/types.js';
import type { PodPaths } from '../state/paths.js';

export function volumeHostPath(volume: VolumeSpec, paths: Pick<PodPaths, 'volumesDir'>): string {
  if ('hostPath' in volume) return volume.hostPath.path;
  if ('persistentVolumeClaim' in volume) {
    // podns run resolves it against its roots; a spec without it was not made by podns run.
    if (!volume.persistentVolumeClaim.path) throw new PodnsError('volume.claim', `volume "${volume.name}": claim "${volume.persistentVolumeClaim.claimName}" has no volume directory`);
    return volume.persistentVolumeClaim.path;
  }
  return path.join(paths.volumesDir, volume.name);
}
