/**
 * Images against running pods. Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, kernelSkip, podName, type Podns } from './harness.js';

describe.skipIf(kernelSkip)('images in use', () => {
  let podns: Podns;
  const pod = podName('img-user');

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns?.dispose();
  });

  it('image rm of an image a pod uses is refused in one line, and the pod keeps running', async () => {
    await podns.ok([
      'run',
      podns.writeManifest(pod, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  containers:\n  - {name: c, image: yauritux/busybox-curl, command: [sleep, "3600"]}\n`),
    ]);
    const { stderr, exitCode } = await podns.fails(['image', 'rm', 'yauritux/busybox-curl']);
    expect(exitCode).toBe(1);
    expect(stderr.trim()).toBe(`podns: image "docker.io/yauritux/busybox-curl:latest" is in use by pod "${pod}" (container "c"); remove the pod first`);
    expect((await podns.run(['exec', pod, '--', 'true'])).exitCode).toBe(0);
  });

  it('once the pod is gone the image and its unshared layers are removed', async () => {
    await podns.ok(['rm', '-f', pod]);
    await podns.ok(['image', 'rm', 'yauritux/busybox-curl']);
    expect(await podns.ok(['images'])).not.toContain('busybox-curl');
    // The nginx image is still there, and so is exactly its one layer.
    expect(await podns.ok(['images'])).toContain('docker.io/library/nginx');
    expect(fs.readdirSync(path.join(podns.root, 'lib', 'images', 'layers')).filter((d) => !d.startsWith('.'))).toHaveLength(1);
    expect(findLeaks(podns.root, [pod])).toEqual([]);
  });
});
