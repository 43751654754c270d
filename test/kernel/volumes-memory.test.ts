/**
 * A Memory emptyDir is a tmpfs sized as kubelet sizes it: its sizeLimit; a write past it fails with ENOSPC.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, type Podns } from './harness.js';
import { BUSYBOX, sh, shOk } from './support.js';

describe.skipIf(kernelSkip)('Memory emptyDir sizeLimit', () => {
  let podns: Podns;
  const pod = podName('mem-dir');

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('is the tmpfs size; writing past it fails', async () => {
    await podns.ok([
      'run',
      podns.writeManifest(pod, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  volumes: [{name: scratch, emptyDir: {medium: Memory, sizeLimit: 8Mi}}]\n  containers:\n  - {name: c, image: ${BUSYBOX}, command: [sleep, "3600"], volumeMounts: [{name: scratch, mountPath: /scratch}]}\n`),
    ]);
    // df -k: 1K-blocks of the tmpfs.
    expect(await shOk(podns, pod, 'c', "df -k /scratch | awk 'NR==2 {print $2}'")).toBe('8192');
    const r = await sh(podns, pod, 'c', 'dd if=/dev/zero of=/scratch/big bs=1M count=10');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/No space left on device/);
  });
});
