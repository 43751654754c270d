/**
 * persistentVolumeClaim volumes as named local volumes (podman kube play's mapping) against the real kernel:
 * data written by one pod is there for the next, readOnly holds, `podns volume ls` shows size and users,
 * `volume rm` refuses a volume in use and removes it once its pods are gone, `volume prune` removes the unused.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, type Podns } from './harness.js';
import { BUSYBOX, sh, shOk } from './support.js';

describe.skipIf(kernelSkip)('persistentVolumeClaim volumes', () => {
  let podns: Podns;
  const writer = podName('pvc-writer');
  const reader = podName('pvc-reader');
  const claim = podName('pvc-data');
  const manifest = (name: string, readOnly: boolean) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  securityContext: {runAsUser: 1000, fsGroup: 2000}
  containers:
  - name: app
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: ${claim}, readOnly: ${readOnly}}
`;

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    for (const p of [writer, reader]) await podns?.run(['rm', '-f', p]);
    await podns?.run(['volume', 'prune']);
    await podns?.dispose();
  });

  it('keeps what one pod wrote for the next; a read-only claim cannot be written', async () => {
    await podns.ok(['run', podns.writeManifest(writer, manifest(writer, false))]);
    // A non-root user can write: the new volume is 0777 with fsGroup's group.
    await shOk(podns, writer, 'app', 'echo kept > /data/file');
    await podns.ok(['rm', '-f', writer]);
    const dir = `${podns.root}/lib/volumes/default/${claim}`;
    expect(fs.readFileSync(`${dir}/file`, 'utf8')).toBe('kept\n');
    expect(fs.statSync(dir).gid).toBe(2000);

    await podns.ok(['run', podns.writeManifest(reader, manifest(reader, true))]);
    expect(await shOk(podns, reader, 'app', 'cat /data/file')).toBe('kept');
    const write = await sh(podns, reader, 'app', 'echo x > /data/other');
    expect(write.code).not.toBe(0);
    expect(write.err).toMatch(/Read-only file system/);
  });

  it('volume ls shows it with its users; rm refuses while a pod uses it; prune and rm remove it', async () => {
    const table = await podns.ok(['volume', 'ls']);
    expect(table).toMatch(new RegExp(`^default\\s+${claim}\\s+\\S+\\s+${reader}\\s`, 'm'));
    const busy = await podns.fails(['volume', 'rm', claim]);
    expect(busy.stderr.trim()).toMatch(new RegExp(`volume "${claim}" is used by pod "${reader}" \\(remove the pod first: podns rm\\)$`));
    await podns.ok(['rm', '-f', reader]);
    expect(await podns.ok(['volume', 'rm', claim])).toBe(`volume/${claim} removed`);
    expect(fs.existsSync(`${podns.root}/lib/volumes/default/${claim}`)).toBe(false);
    expect((await podns.fails(['volume', 'rm', claim])).stderr).toMatch(/not found/);
  });
});
