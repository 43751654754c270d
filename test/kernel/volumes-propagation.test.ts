/**
 * mountPropagation HostToContainer against the real kernel: a hostPath on a shared mount (a tmpfs the test makes
 * and shares), a mount the host makes below it after the pod started appears in the container that asked for
 * HostToContainer and not in one with the default (rprivate); a source on a private mount is refused in one line.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, type Podns } from './harness.js';
import { BUSYBOX, leaksAfterRemoval, shOk } from './support.js';

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

  it('a source on a private mount is refused in one line, nothing left', async () => {
    const r = await podns.fails(['run', podns.writeManifest(refused, manifest(refused, privateDir))]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/container "follows": volume "host": mountPropagation HostToContainer: ".*private" is on the mount ".*private", which is private/);
    expect(await leaksAfterRemoval(podns.root, [refused])).toEqual([]);
  });
});
