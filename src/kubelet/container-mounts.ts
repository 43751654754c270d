/**
 * The mounts kubelet hands the runtime for a container (its makeMounts): each volumeMount as the volume's
 * directory on the host (subPath appended), read-only as asked or as kubelet always mounts API data, with its
 * propagation and recursive read-only; and the termination-log file. Pure but for nothing: paths only.
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import type { ContainerMount } from '../runtime/records.js';
import { volumeHostPath } from '../runtime/volume-source.js';
import type { PodPaths } from '../state/paths.js';

/** The file behind a container's terminationMessagePath, in the pod's dir; made empty before each run. */
export function terminationLogFile(paths: Pick<PodPaths, 'containersDir'>, name: string): string {
  return path.join(paths.containersDir, name, 'termination-log');
}

export function containerMounts(container: ContainerSpec, pod: PodSpec, paths: Pick<PodPaths, 'volumesDir' | 'containersDir'>): ContainerMount[] {
  const volumes = container.volumeMounts.map((vm): ContainerMount => {
    const volume = pod.volumes.find((v) => v.name === vm.name)!;
    // `podns run` puts the expansion of a subPathExpr in subPath; without it the volume's root would be mounted.
    if (vm.subPathExpr !== undefined && vm.subPath === undefined) {
      throw new PodnsError('container.plan', `container "${container.name}": volume "${vm.name}": subPathExpr ${JSON.stringify(vm.subPathExpr)} was not expanded`);
    }
    const root = volumeHostPath(volume, paths);
    // Volumes of API data are always read-only in the container, as kubelet mounts them.
    const readonly =
      vm.readOnly ||
      'configMap' in volume ||
      'secret' in volume ||
      'downwardAPI' in volume ||
      'projected' in volume ||
      ('persistentVolumeClaim' in volume && volume.persistentVolumeClaim.readOnly);
    return {
      hostPath: vm.subPath ? path.join(root, vm.subPath) : root,
      containerPath: vm.mountPath,
      readonly,
      ...(vm.mountPropagation ? { propagation: vm.mountPropagation === 'HostToContainer' ? ('hostToContainer' as const) : ('bidirectional' as const) } : {}),
      ...(vm.recursiveReadOnly ? { recursiveReadOnly: vm.recursiveReadOnly } : {}),
    };
  });
  // kubelet bind-mounts a writable file of the pod's at terminationMessagePath (default /dev/termination-log).
  const terminationLog: ContainerMount = {
    hostPath: terminationLogFile(paths, container.name),
    containerPath: container.terminationMessagePath ?? '/dev/termination-log',
    readonly: false,
  };
  return [...volumes, terminationLog];
}
