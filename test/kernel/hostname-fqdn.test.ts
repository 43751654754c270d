/**
 * subdomain and setHostnameAsFQDN against the real kernel: the pod's UTS hostname is its FQDN
 * (<hostname>.<subdomain>.default.svc.cluster.local) with setHostnameAsFQDN, the short name without; HOSTNAME
 * and /etc/hostname agree; an FQDN over 64 characters fails `podns run` in one line, nothing left.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, type Podns } from './harness.js';
import { BUSYBOX, leaksAfterRemoval, shOk } from './support.js';

describe.skipIf(kernelSkip)('subdomain and setHostnameAsFQDN', () => {
  let podns: Podns;
  const fqdn = podName('fq');
  const long = podName('fq-long');
  const manifest = (name: string, hostname: string, asFQDN: boolean) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  hostname: ${hostname}\n  subdomain: db\n  setHostnameAsFQDN: ${asFQDN}\n  containers:\n  - {name: c, image: ${BUSYBOX}, command: [sleep, "3600"]}\n`;

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', fqdn]);
    await podns?.dispose();
  });

  it('the kernel hostname, HOSTNAME and /etc/hostname are the FQDN', async () => {
    await podns.ok(['run', podns.writeManifest(fqdn, manifest(fqdn, 'db-0', true))]);
    const out = await shOk(podns, fqdn, 'c', 'hostname; echo $HOSTNAME; cat /etc/hostname');
    expect(out.split('\n')).toEqual(Array(3).fill('db-0.db.default.svc.cluster.local'));
    await podns.ok(['rm', '-f', fqdn]);
  });

  it('an FQDN over 64 characters fails run in one line', async () => {
    const r = await podns.fails(['run', podns.writeManifest(long, manifest(long, 'a'.repeat(40), true))]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/FQDN a{40}\.db\.default\.svc\.cluster\.local is too long \(64 characters is the max, 69 characters requested\)/);
    expect(await leaksAfterRemoval(podns.root, [long])).toEqual([]);
  });
});
