/**
 * downwardAPI and projected volumes and subPathExpr, seen from inside a running container: the two examples
 * of kubernetes.io's "Expose Pod Information to Containers Through Files" (labels/annotations, container
 * resources) byte for byte, file modes, read-only tmpfs mounts recorded as host mounts and gone after rm, a
 * projected volume of ConfigMap, Secret and downward API files, a subPathExpr from the pod's name, a missing
 * variable refused in one line, and a manifest exported with `kubectl get pod -o yaml` (kubelet's
 * kube-api-access-* volume) running with `namespace` in its serviceaccount directory.
 * Requires: root, the native build, dist/, the test images (see harness.ts). Pods are named dwn-*.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, projectRoot, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, hostMountPoints, leaksAfterRemoval, sh, shOk } from './support.js';

/** What /proc/mounts inside the container says of a mount point: [fstype, options]. */
async function mountOf(podns: Podns, pod: string, container: string, target: string): Promise<[string, string[]] | undefined> {
  const mounts = (await shOk(podns, pod, container, 'cat /proc/mounts')).split('\n').map((l) => l.split(' '));
  const m = mounts.find((f) => f[1] === target);
  return m ? [m[2]!, m[3]!.split(',')] : undefined;
}

describe.skipIf(kernelSkip)('downwardAPI, projected and subPathExpr (network none)', () => {
  let podns: Podns;
  const pod = podName('dwn-files');

  beforeAll(async () => {
    podns = await createPodns();
    const manifest = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  app.conf: "listen 8080"
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData:
  password: hunter2
---
apiVersion: v1
kind: Pod
metadata:
  name: ${pod}
  uid: 6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f
  labels:
    zone: us-est-coast
    cluster: test-cluster1
    rack: rack-22
  annotations:
    build: two
    builder: john-doe
    note: "say \\"hi\\"\\n\\tbye"
spec:
  containers:
  - name: client-container
    image: ${BUSYBOX}
    command: ["/bin/sh", "-c", "while true; do sleep 3600; done"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    resources:
      requests: {memory: "32Mi", cpu: "125m"}
      limits: {memory: "64Mi", cpu: "250m"}
    volumeMounts:
    - {name: podinfo, mountPath: /etc/podinfo}
    - {name: bundle, mountPath: /etc/bundle}
    - {name: scratch, mountPath: /scratch, subPathExpr: "$(POD_NAME)/logs"}
  volumes:
  - name: podinfo
    downwardAPI:
      defaultMode: 0440
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: meta/name, fieldRef: {fieldPath: metadata.name}, mode: 0400}
      - {path: meta/uid, fieldRef: {fieldPath: metadata.uid}}
      - {path: zone, fieldRef: {fieldPath: "metadata.labels['zone']"}}
      - {path: cpu_limit, resourceFieldRef: {containerName: client-container, resource: limits.cpu, divisor: 1m}}
      - {path: cpu_request, resourceFieldRef: {containerName: client-container, resource: requests.cpu, divisor: 1m}}
      - {path: mem_limit, resourceFieldRef: {containerName: client-container, resource: limits.memory, divisor: 1Mi}}
      - {path: mem_request, resourceFieldRef: {containerName: client-container, resource: requests.memory, divisor: 1Mi}}
  - name: bundle
    projected:
      defaultMode: 0400
      sources:
      - configMap:
          name: settings
          items: [{key: app.conf, path: conf/app.conf, mode: 0444}]
      - secret: {name: creds}
      - downwardAPI:
          items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]
      - serviceAccountToken: {path: token}
  - {name: scratch, emptyDir: {}}
`;
    await podns.ok(['run', podns.writeManifest(pod, manifest)]);
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it("labels and annotations: the docs' output, sorted key=\"value\" lines with Go's quoting, no final newline", async () => {
    expect(await shOk(podns, pod, 'client-container', 'cat /etc/podinfo/labels')).toBe('cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"');
    expect(await shOk(podns, pod, 'client-container', 'cat /etc/podinfo/annotations')).toBe('build="two"\nbuilder="john-doe"\nnote="say \\"hi\\"\\n\\tbye"');
    const labels = 'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"';
    expect(await shOk(podns, pod, 'client-container', 'wc -c < /etc/podinfo/labels')).toBe(String(labels.length));
  });

  it('single fields: name, uid, one label', async () => {
    expect(await shOk(podns, pod, 'client-container', 'cat /etc/podinfo/meta/name; echo; cat /etc/podinfo/meta/uid; echo; cat /etc/podinfo/zone')).toBe(
      `${pod}\n6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f\nus-est-coast`,
    );
  });

  it("container resources: the docs' example, 250m/125m in millicores and 64Mi/32Mi in Mi", async () => {
    expect(await shOk(podns, pod, 'client-container', 'cd /etc/podinfo && for f in cpu_limit cpu_request mem_limit mem_request; do echo "$f=$(cat $f)"; done')).toBe(
      'cpu_limit=250\ncpu_request=125\nmem_limit=64\nmem_request=32',
    );
  });

  it("modes: the item's mode, else defaultMode", async () => {
    expect(await shOk(podns, pod, 'client-container', 'stat -c "%n %a" /etc/podinfo/labels /etc/podinfo/meta/name /etc/podinfo/meta/uid')).toBe(
      '/etc/podinfo/labels 440\n/etc/podinfo/meta/name 400\n/etc/podinfo/meta/uid 440',
    );
  });

  it('the downwardAPI volume is a tmpfs (memory-backed, as kubelet backs it), read-only in the container', async () => {
    expect(await mountOf(podns, pod, 'client-container', '/etc/podinfo')).toEqual(['tmpfs', expect.arrayContaining(['ro'])]);
    const w = await sh(podns, pod, 'client-container', 'echo x > /etc/podinfo/new');
    expect(w.code).not.toBe(0);
    expect(w.err).toMatch(/Read-only file system/);
  });

  it('projected: the ConfigMap item, the Secret key and the namespace in one directory, modes from the item or defaultMode, no token', async () => {
    expect(await shOk(podns, pod, 'client-container', 'cd /etc/bundle && find . -type f | sort')).toBe('./conf/app.conf\n./namespace\n./password');
    expect(await shOk(podns, pod, 'client-container', 'cd /etc/bundle && cat conf/app.conf; echo; cat password; echo; cat namespace')).toBe('listen 8080\nhunter2\ndefault');
    expect(await shOk(podns, pod, 'client-container', 'cd /etc/bundle && stat -c "%n %a" conf/app.conf password namespace')).toBe('conf/app.conf 444\npassword 400\nnamespace 400');
    expect(await mountOf(podns, pod, 'client-container', '/etc/bundle')).toEqual(['tmpfs', expect.arrayContaining(['ro'])]);
  });

  it("subPathExpr: $(POD_NAME)/logs is a directory of the volume's, made on the host side", async () => {
    await shOk(podns, pod, 'client-container', 'echo hello > /scratch/out');
    const state = (await inspect(podns, pod)) as unknown as { paths: { libDir: string } };
    expect(fs.readFileSync(path.join(state.paths.libDir, 'volumes', 'scratch', pod, 'logs', 'out'), 'utf8')).toBe('hello\n');
  });

  it('both tmpfs are host mounts of the pod, gone after rm', async () => {
    const state = (await inspect(podns, pod)) as unknown as { hostMounts: string[] };
    const dirs = state.hostMounts.filter((m) => /\/volumes\/(podinfo|bundle)$/.test(m));
    expect(dirs).toHaveLength(2);
    for (const d of dirs) expect(hostMountPoints()).toContain(d);
    await podns.ok(['rm', '-f', pod]);
    for (const d of dirs) expect(hostMountPoints()).not.toContain(d);
    expect(await leaksAfterRemoval(podns.root, [pod])).toEqual([]);
  });

  it('a subPathExpr with a variable the container does not have: one line, exit 1, nothing created', async () => {
    const bad = podName('dwn-bad');
    const file = podns.writeManifest(bad, `apiVersion: v1
kind: Pod
metadata: {name: ${bad}}
spec:
  containers:
  - name: main
    image: ${BUSYBOX}
    command: ["/bin/sh", "-c", "sleep 3600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch, subPathExpr: "$(POD_NAME)"}
  volumes:
  - {name: scratch, emptyDir: {}}
`);
    const r = await podns.fails(['run', file]);
    expectCleanError(r, new RegExp(`pod "${bad}": container "main": volumeMounts\\[0\\]\\.subPathExpr "\\$\\(POD_NAME\\)": missing value for POD_NAME$`));
    expect(fs.existsSync(path.join(podns.root, 'run', 'pods', bad))).toBe(false);
    expect(await leaksAfterRemoval(podns.root, [bad])).toEqual([]);
  });
});

describe.skipIf(kernelSkip)('a manifest exported with kubectl get pod -o yaml', () => {
  let podns: Podns;
  const pod = podName('dwn-exported');
  let stderr = '';

  beforeAll(async () => {
    podns = await createPodns();
    const fixture = fs.readFileSync(path.join(projectRoot, 'test/unit/manifest/fixtures/exported-kube-api-access.yaml'), 'utf8');
    const file = podns.writeManifest(pod, fixture.replace('name: web-7d4b9c8f6d-x2x9p', `name: ${pod}`));
    const r = await podns.run(['run', file]);
    if (r.exitCode !== 0) throw new Error(`podns run failed (${r.exitCode}): ${r.stderr}`);
    stderr = String(r.stderr);
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('runs, saying on stderr that there is no token and no cluster CA', () => {
    expect(stderr).toMatch(/:65: spec\.volumes\[0\]\.projected\.sources\[0\]\.serviceAccountToken: ignored: there is no API server to issue a service account token; no file "token" is written$/m);
    expect(stderr).toMatch(/:72: spec\.volumes\[0\]\.projected\.sources\[1\]\.configMap\.name: configmap "kube-root-ca\.crt" not found: treated as optional .*, so no "ca\.crt" is written$/m);
  });

  it('the serviceaccount directory holds namespace, read-only on a tmpfs', async () => {
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    expect(await shOk(podns, pod, 'nginx', `ls -A ${dir}`)).toBe('namespace');
    expect(await shOk(podns, pod, 'nginx', `cat ${dir}/namespace`)).toBe('default');
    expect(await shOk(podns, pod, 'nginx', `stat -c %a ${dir}/namespace`)).toBe('644');
    const w = await sh(podns, pod, 'nginx', `touch ${dir}/token`);
    expect(w.err).toMatch(/Read-only file system/);
    // The image links /var/run to /run: the mount point is where the link leads.
    const real = await shOk(podns, pod, 'nginx', `readlink -f ${dir}`);
    expect(await mountOf(podns, pod, 'nginx', real)).toEqual(['tmpfs', expect.arrayContaining(['ro'])]);
  });
});
