/**
 * mountPropagation against the real kernel, on hostPaths below a tmpfs the test makes and shares in its own temp
 * dir (no host mount's propagation is touched): HostToContainer — a mount the host makes below the source after
 * the pod started appears in the container that asked for it and not in one with the default (rprivate);
 * Bidirectional — a privileged container's mount below the source appears on the host and in another container
 * (HostToContainer), its unmount too, nothing else of the container reaches the host, and removal leaves no
 * mount; refused for an unprivileged container (file:line) and for a source on a private mount (one line).
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, type Podns } from './harness.js';
import { BUSYBOX, hostMountPoints, leaksAfterRemoval, shOk } from './support.js';

describe.skipIf(kernelSkip)('mountPropagation', () => {
  let podns: Podns;
  const pod = podName('prop-pod');
  const refused = podName('prop-private');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-prop-'));
  const shared = path.join(base, 'shared');
  const later = path.join(shared, 'later');
  const privateDir = path.join(base, 'private');
  const mounted: string[] = [];
  const manifest = (name: string, source: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  volumes: [{name: host, hostPath: {path: ${source}}}]
  containers:
  - name: follows
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    volumeMounts: [{name: host, mountPath: /host, mountPropagation: HostToContainer}]
  - name: private
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    volumeMounts: [{name: host, mountPath: /host}]
`;

  beforeAll(async () => {
    podns = await createPodns();
    for (const dir of [shared, privateDir]) {
      fs.mkdirSync(dir, { recursive: true });
      await execa('mount', ['-t', 'tmpfs', 'podns-prop', dir]);
      mounted.unshift(dir);
    }
    await execa('mount', ['--make-shared', shared]);
    await execa('mount', ['--make-private', privateDir]);
    fs.mkdirSync(later);
  });
  afterAll(async () => {
    for (const p of [pod, refused]) await podns?.run(['rm', '-f', p]);
    for (const dir of [later, ...mounted]) await execa('umount', [dir], { reject: false });
    fs.rmSync(base, { recursive: true, force: true });
    await podns?.dispose();
  });

  it("a host mount made after the start reaches HostToContainer mounts only", async () => {
    await podns.ok(['run', podns.writeManifest(pod, manifest(pod, shared))]);
    await execa('mount', ['-t', 'tmpfs', 'podns-later', later]);
    mounted.unshift(later);
    fs.writeFileSync(path.join(later, 'hello'), 'from the host\n');
    expect(await shOk(podns, pod, 'follows', 'cat /host/later/hello')).toBe('from the host');
    expect(await shOk(podns, pod, 'private', 'ls -A /host/later | wc -l')).toBe('0');
    // The container's root is rslave; its own other binds stay rprivate.
    expect(await shOk(podns, pod, 'follows', "grep ' /host ' /proc/self/mountinfo")).toMatch(/ master:\d+/);
    expect(await shOk(podns, pod, 'private', "grep ' /host ' /proc/self/mountinfo")).not.toMatch(/ (master|shared):\d+/);
    await podns.ok(['rm', '-f', pod]);
    expect(await leaksAfterRemoval(podns.root, [pod])).toEqual([]);
  });

  it('recursiveReadOnly: a read-only volume with a mount below it is read-only all the way down only when asked', async () => {
    const rro = podName('prop-rro');
    fs.mkdirSync(path.join(privateDir, 'sub'), { recursive: true });
    await execa('mount', ['-t', 'tmpfs', 'podns-sub', path.join(privateDir, 'sub')]);
    mounted.unshift(path.join(privateDir, 'sub'));
    try {
      await podns.ok([
        'run',
        podns.writeManifest(
          rro,
          `apiVersion: v1\nkind: Pod\nmetadata: {name: ${rro}}\nspec:\n  volumes: [{name: host, hostPath: {path: ${privateDir}}}]\n  containers:\n  - name: c\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    volumeMounts:\n    - {name: host, mountPath: /ro, readOnly: true}\n    - {name: host, mountPath: /rro, readOnly: true, recursiveReadOnly: Enabled}\n`,
        ),
      ]);
      // The well-known hole of a plain readOnly: the submount under it stays writable.
      expect(await shOk(podns, rro, 'c', 'touch /ro/sub/a && echo writable')).toBe('writable');
      const r = await podns.run(['exec', rro, '-c', 'c', '--', 'sh', '-c', 'touch /rro/sub/b']);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/Read-only file system/);
    } finally {
      await podns.run(['rm', '-f', rro]);
    }
  });

  it("Bidirectional: a privileged container's mount below the source reaches the host and a HostToContainer container, its unmount too; nothing else of it reaches the host", async () => {
    const bidi = podName('prop-bidi');
    const source = path.join(shared, 'csi');
    const inner = path.join(source, 'inner');
    fs.mkdirSync(inner, { recursive: true });
    const hostMounts = () => hostMountPoints().filter((m) => m.startsWith(`${base}/`) || m.startsWith(`${podns.root}/`));
    const before = hostMounts();
    try {
      await podns.ok([
        'run',
        podns.writeManifest(
          bidi,
          `apiVersion: v1\nkind: Pod\nmetadata: {name: ${bidi}}\nspec:\n  terminationGracePeriodSeconds: 1\n  volumes: [{name: csi, hostPath: {path: ${source}}}]\n  containers:\n` +
            `  - name: plugin\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    securityContext: {privileged: true}\n    volumeMounts: [{name: csi, mountPath: /csi, mountPropagation: Bidirectional}]\n` +
            `  - name: reader\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    volumeMounts: [{name: csi, mountPath: /csi, mountPropagation: HostToContainer}]\n`,
        ),
      ]);
      // The plugin's bind is a peer of the host's mount (shared:N), as rshared as containerd asks of runc.
      expect(await shOk(podns, bidi, 'plugin', "grep ' /csi ' /proc/self/mountinfo")).toMatch(/ shared:\d+ /);
      // Of the pod, only its /dev/shm is a host mount: the containers' roots, /proc, /sys ... stayed in their namespaces.
      expect(hostMounts().filter((m) => !before.includes(m))).toEqual([path.join(podns.root, 'lib', 'pods', bidi, 'shm')]);

      await shOk(podns, bidi, 'plugin', 'mount -t tmpfs podns-bidi /csi/inner && echo from the plugin > /csi/inner/hello');
      mounted.unshift(inner);
      expect(hostMountPoints()).toContain(inner);
      expect(fs.readFileSync(path.join(inner, 'hello'), 'utf8')).toBe('from the plugin\n');
      expect(await shOk(podns, bidi, 'reader', 'cat /csi/inner/hello')).toBe('from the plugin');

      await shOk(podns, bidi, 'plugin', 'umount /csi/inner');
      expect(hostMountPoints()).not.toContain(inner);
      expect(await shOk(podns, bidi, 'reader', 'ls -A /csi/inner | wc -l')).toBe('0');
      await podns.ok(['rm', '-f', bidi]);
      expect(hostMounts()).toEqual(before);
      expect(await leaksAfterRemoval(podns.root, [bidi])).toEqual([]);
    } finally {
      await podns.run(['rm', '-f', bidi]);
    }
  });

  it('Bidirectional: refused for an unprivileged container (file:line), and for a source on a private mount (one line); nothing left', async () => {
    const unprivileged = podName('prop-bidi-unpriv');
    const yaml = (name: string, source: string, securityContext: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  volumes: [{name: csi, hostPath: {path: ${source}}}]\n  containers:\n  - name: plugin\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n${securityContext}    volumeMounts: [{name: csi, mountPath: /csi, mountPropagation: Bidirectional}]\n`;
    const file = podns.writeManifest(unprivileged, yaml(unprivileged, shared, ''));
    const r = await podns.fails(['run', file]);
    expect(r.stderr.trim()).toBe(`podns: ${file}:10: spec.containers[0].volumeMounts[0].mountPropagation: forbidden: Bidirectional mount propagation is available only to privileged containers`);
    const onPrivate = podName('prop-bidi-private');
    const p = await podns.fails(['run', podns.writeManifest(onPrivate, yaml(onPrivate, privateDir, '    securityContext: {privileged: true}\n'))]);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/container "plugin": volume "csi": mountPropagation Bidirectional: ".*private" is on the mount ".*private", which is private: the container's mounts there would never reach the host/);
    expect(await leaksAfterRemoval(podns.root, [unprivileged, onPrivate])).toEqual([]);
  });

  it('a source on a private mount is refused in one line, nothing left', async () => {
    const r = await podns.fails(['run', podns.writeManifest(refused, manifest(refused, privateDir))]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/container "follows": volume "host": mountPropagation HostToContainer: ".*private" is on the mount ".*private", which is private/);
    expect(await leaksAfterRemoval(podns.root, [refused])).toEqual([]);
  });
});
