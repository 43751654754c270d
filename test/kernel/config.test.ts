/**
 * env from every source, seen inside the container (`podns exec POD -- env`): value with $(VAR) expansion,
 * fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, envFrom with a prefix; $(VAR) in the command;
 * a configMap volume with items and defaultMode, a secret volume on a tmpfs of its own (both read-only);
 * status.podIP in a pod with a network (a private network namespace); a missing ConfigMap refused in one line.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, hostMountPoints, leaksAfterRemoval, sh, shOk } from './support.js';

function envOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

describe.skipIf(kernelSkip)('env, ConfigMap and Secret (network none)', () => {
  let podns: Podns;
  const pod = podName('cfg-pod');
  let env: Record<string, string>;

  beforeAll(async () => {
    podns = await createPodns();
    const manifest = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  COLOR: blue
  SIZE: L
  app.conf: |
    listen 8080
binaryData:
  blob.bin: AAEC
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: Opaque
data:
  username: YWRtaW4=
stringData:
  password: hunter2
---
apiVersion: v1
kind: Pod
metadata:
  name: ${pod}
  uid: 0f5e8c43-1d2b-4f6a-9a51-3c1e5b2a7d10
  labels: {app: shop, tier: web}
  annotations: {owner: team-a}
spec:
  serviceAccountName: robot
  containers:
  - name: main
    image: ${BUSYBOX}
    command: ["/bin/sh", "-c", "echo '$(GREETING) $$(GREETING) $(UNKNOWN)' > /tmp/cmd; while true; do sleep 3600; done"]
    resources:
      limits: {cpu: 250m, memory: 64Mi}
      requests: {cpu: 100m, memory: 32Mi}
    envFrom:
    - prefix: CFG_
      configMapRef: {name: settings}
    - secretRef: {name: creds}
    env:
    - {name: CFG_COLOR, value: red}
    - {name: GREETING, value: "hello $(POD_NAME) in $(CFG_SIZE) $(LATER)"}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - {name: AFTER, value: "$(POD_NAME)/$(POD_NS) $$(POD_NAME)"}
    - name: POD_NS
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: POD_UID
      valueFrom: {fieldRef: {fieldPath: metadata.uid}}
    - name: APP
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
    - name: OWNER
      valueFrom: {fieldRef: {fieldPath: "metadata.annotations['owner']"}}
    - name: NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - name: SA
      valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: CPU_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.cpu}}
    - name: CPU_REQUEST_MILLI
      valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}
    - name: MEM_LIMIT_MI
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    - name: SIDE_CPU
      valueFrom: {resourceFieldRef: {containerName: side, resource: limits.cpu}}
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: settings, key: COLOR}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: creds, key: password}}
    - name: OPTIONAL
      valueFrom: {configMapKeyRef: {name: absent, key: x, optional: true}}
    - {name: LATER, value: late}
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: secret, mountPath: /etc/secret}
  - name: side
    image: ${BUSYBOX}
    command: ["/bin/sh", "-c", "while true; do sleep 3600; done"]
  volumes:
  - name: config
    configMap:
      name: settings
      defaultMode: 0440
      items:
      - {key: app.conf, path: conf/app.conf, mode: 0600}
      - {key: COLOR, path: color}
  - name: secret
    secret:
      secretName: creds
      defaultMode: 0400
`;
    await podns.ok(['run', podns.writeManifest(pod, manifest)]);
    env = envOf(await podns.ok(['exec', pod, '-c', 'main', '--', 'env']));
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('value: $(VAR) from variables defined before it, $$ escapes, later ones left as written', () => {
    expect(env.GREETING).toBe('hello $(POD_NAME) in L $(LATER)');
    expect(env.AFTER).toBe(`${pod}/$(POD_NS) $(POD_NAME)`);
    expect(env.LATER).toBe('late');
  });

  it('fieldRef: name, namespace, uid, a label, an annotation, nodeName, serviceAccountName; podIP empty without a network', () => {
    expect(env).toMatchObject({
      POD_NAME: pod,
      POD_NS: 'default',
      POD_UID: '0f5e8c43-1d2b-4f6a-9a51-3c1e5b2a7d10',
      APP: 'shop',
      OWNER: 'team-a',
      NODE: os.hostname(),
      SA: 'robot',
      POD_IP: '',
    });
  });

  it("resourceFieldRef: 250m → 1 core (rounded up), 100m in millicores, 64Mi in Mi; no limit → the node's CPUs", () => {
    expect(env).toMatchObject({ CPU_LIMIT: '1', CPU_REQUEST_MILLI: '100', MEM_LIMIT_MI: '64', SIDE_CPU: String(os.cpus().length) });
  });

  it('configMapKeyRef, secretKeyRef; a missing optional one is unset', () => {
    expect(env.COLOR).toBe('blue');
    expect(env.PASSWORD).toBe('hunter2');
    expect('OPTIONAL' in env).toBe(false);
  });

  it('envFrom: every key, with the prefix; env overrides it', () => {
    expect(env).toMatchObject({ CFG_SIZE: 'L', 'CFG_app.conf': 'listen 8080\n'.trimEnd(), username: 'admin', password: 'hunter2', CFG_COLOR: 'red' });
  });

  it("HOME is the image user's home from its /etc/passwd, as runc sets it when nothing else does", () => {
    expect(env.HOME).toBe('/root');
  });

  it('$(VAR) in the command is expanded before the shell sees it', async () => {
    expect(await shOk(podns, pod, 'main', 'cat /tmp/cmd')).toBe('hello $(POD_NAME) in L $(LATER) $(GREETING) $(UNKNOWN)');
  });

  it('configMap volume: only the items, at their paths, with their mode or defaultMode; read-only', async () => {
    expect(await shOk(podns, pod, 'main', 'cd /etc/config && find . -type f | sort')).toBe('./color\n./conf/app.conf');
    expect(await shOk(podns, pod, 'main', 'cat /etc/config/conf/app.conf /etc/config/color')).toBe('listen 8080\nblue');
    expect(await shOk(podns, pod, 'main', 'stat -c %a /etc/config/conf/app.conf /etc/config/color')).toBe('600\n440');
    const w = await sh(podns, pod, 'main', 'echo x > /etc/config/new');
    expect(w.code).not.toBe(0);
    expect(w.err).toMatch(/Read-only file system/);
  });

  it('secret volume: every key with defaultMode, on a tmpfs, read-only (/proc/mounts inside)', async () => {
    expect(await shOk(podns, pod, 'main', 'ls /etc/secret')).toBe('password\nusername');
    expect(await shOk(podns, pod, 'main', 'cat /etc/secret/username; echo; cat /etc/secret/password')).toBe('admin\nhunter2');
    expect(await shOk(podns, pod, 'main', 'stat -c %a /etc/secret/password')).toBe('400');
    const mounts = (await shOk(podns, pod, 'main', 'cat /proc/mounts')).split('\n').map((l) => l.split(' '));
    const secret = mounts.find((m) => m[1] === '/etc/secret');
    expect(secret?.[2]).toBe('tmpfs');
    expect(secret?.[3]?.split(',')).toContain('ro');
    const config = mounts.find((m) => m[1] === '/etc/config');
    expect(config?.[2]).not.toBe('tmpfs');
    expect(config?.[3]?.split(',')).toContain('ro');
  });

  it('the secret tmpfs is a host mount of the pod, gone after rm', async () => {
    const state = (await inspect(podns, pod)) as unknown as { hostMounts: string[] };
    const secretDir = state.hostMounts.find((m) => m.endsWith('/volumes/secret'));
    expect(secretDir).toBeDefined();
    expect(hostMountPoints()).toContain(secretDir);
    await podns.ok(['rm', '-f', pod]);
    expect(hostMountPoints()).not.toContain(secretDir);
    expect(fs.existsSync(secretDir!)).toBe(false);
    expect(await leaksAfterRemoval(podns.root, [pod])).toEqual([]);
  });

  it('a missing ConfigMap is one line with file:line, and nothing is created', async () => {
    const bad = podName('cfg-bad');
    const file = podns.writeManifest(bad, `apiVersion: v1
kind: Pod
metadata: {name: ${bad}}
spec:
  containers:
  - name: main
    image: ${BUSYBOX}
    envFrom:
    - configMapRef: {name: nowhere}
`);
    const r = await podns.fails(['run', file]);
    expectCleanError(r, new RegExp(`${path.basename(file).replace('.', '\\.')}:9: spec\\.containers\\[0\\]\\.envFrom\\[0\\]\\.configMapRef\\.name: configmap "nowhere" not found$`));
    expect(fs.existsSync(path.join(podns.root, 'run', 'pods', bad))).toBe(false);
  });
});

describe.skipIf(kernelSkip)('status.podIP (a pod with a network)', () => {
  let podns: Podns;
  const pod = podName('cfg-ip');

  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
    await podns.ok([
      'run',
      podns.writeManifest(pod, `apiVersion: v1
kind: Pod
metadata: {name: ${pod}}
spec:
  containers:
  - name: main
    image: ${BUSYBOX}
    command: ["/bin/sh", "-c", "echo $(POD_IP) > /tmp/ip; while true; do sleep 3600; done"]
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: POD_IPS
      valueFrom: {fieldRef: {fieldPath: status.podIPs}}
    - {name: URL, value: "http://$(POD_IP):8080/"}
`),
    ]);
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('is the address the supervisor gave the pod, in env, in values that use it and in the command', async () => {
    const ip = ((await inspect(podns, pod)) as unknown as { podIP: string }).podIP;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const env = envOf(await podns.ok(['exec', pod, '--', 'env']));
    expect(env).toMatchObject({ POD_IP: ip, POD_IPS: ip, URL: `http://${ip}:8080/` });
    expect(await shOk(podns, pod, 'main', 'cat /tmp/ip')).toBe(ip);
    expect(await shOk(podns, pod, 'main', `ip -4 addr show eth0 | grep -c "inet ${ip}/"`)).toBe('1');
  });
});
