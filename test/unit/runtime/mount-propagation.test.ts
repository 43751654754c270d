import { describe, expect, it } from 'vitest';
import { mountOf, parseMountInfo } from '../../../src/runtime/mount-propagation.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';

const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 27 0:40 / /data rw,relatime master:7 - tmpfs tmpfs rw
41 40 0:41 / /data/private\\040dir rw,relatime - tmpfs tmpfs rw
42 27 0:42 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('mount propagation', () => {
  it('reads each mount point, its propagation, file system type and super options from mountinfo', () => {
    expect(parseMountInfo(MOUNTINFO)).toEqual([
      { mountPoint: '/proc', propagation: 'private', fsType: 'proc', superOptions: ['rw'] },
      { mountPoint: '/', propagation: 'shared', fsType: 'ext4', superOptions: ['rw'] },
      { mountPoint: '/data', propagation: 'slave', fsType: 'tmpfs', superOptions: ['rw'] },
      { mountPoint: '/data/private dir', propagation: 'private', fsType: 'tmpfs', superOptions: ['rw'] },
      { mountPoint: '/sys/fs/cgroup', propagation: 'shared', fsType: 'cgroup2', superOptions: ['rw', 'nsdelegate', 'memory_recursiveprot'] },
    ]);
  });

  it('finds the mount a path lies on: the longest mount point containing it', () => {
    const mounts = parseMountInfo(MOUNTINFO);
    expect(mountOf('/srv/x', mounts)?.propagation).toBe('shared');
    expect(mountOf('/data/y', mounts)?.propagation).toBe('slave');
    expect(mountOf('/data/private dir/z', mounts)?.propagation).toBe('private');
    expect(mountOf('/database', mounts)?.mountPoint).toBe('/');
  });

  it('the manifest takes None, HostToContainer, and Bidirectional for a privileged container only (the API server\'s rule, with file:line)', () => {
    const pod = (mode: string, securityContext = '') =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: h, hostPath: {path: /srv}}]\n  containers:\n  - name: c\n    image: busybox\n${securityContext}    volumeMounts: [{name: h, mountPath: /h, mountPropagation: ${mode}}]\n`;
    const mode = (yaml: string) => parseManifests('pod.yaml', yaml).pods[0]!.spec.containers[0]!.volumeMounts[0]!.mountPropagation;
    expect(mode(pod('HostToContainer'))).toBe('HostToContainer');
    expect(mode(pod('None'))).toBeUndefined();
    expect(mode(pod('Bidirectional', '    securityContext: {privileged: true}\n'))).toBe('Bidirectional');
    const forbidden = /^pod\.yaml:9: spec\.containers\[0\]\.volumeMounts\[0\]\.mountPropagation: forbidden: Bidirectional mount propagation is available only to privileged containers$/;
    expect(() => parseManifests('pod.yaml', pod('Bidirectional'))).toThrow(forbidden);
    expect(() => parseManifests('pod.yaml', pod('Bidirectional', '    securityContext: {privileged: false}\n'))).toThrow(/available only to privileged containers/);
    expect(() => parseManifests('pod.yaml', pod('Sideways'))).toThrow(/unsupported value "Sideways": must be one of "Bidirectional", "HostToContainer", "None"/);
  });

  it('recursiveReadOnly: IfPossible or Enabled, only with readOnly and without mountPropagation', () => {
    const pod = (fields: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: h, hostPath: {path: /srv}}]\n  containers:\n  - name: c\n    image: busybox\n    volumeMounts: [{name: h, mountPath: /h, ${fields}}]\n`;
    expect(parseManifests('pod.yaml', pod('readOnly: true, recursiveReadOnly: Enabled')).pods[0]!.spec.containers[0]!.volumeMounts[0]!.recursiveReadOnly).toBe('Enabled');
    expect(parseManifests('pod.yaml', pod('readOnly: true, recursiveReadOnly: Disabled')).pods[0]!.spec.containers[0]!.volumeMounts[0]!.recursiveReadOnly).toBeUndefined();
    expect(() => parseManifests('pod.yaml', pod('recursiveReadOnly: IfPossible'))).toThrow(/recursiveReadOnly: may only be specified when readOnly is true/);
    expect(() => parseManifests('pod.yaml', pod('readOnly: true, mountPropagation: HostToContainer, recursiveReadOnly: Enabled'))).toThrow(/may only be specified when mountPropagation is None or not specified/);
  });
});
