/**
 * httpGet and tcpSocket probes inside a real pod's network namespace: a pod in network mode none has loopback
 * only, so the checks must run in its netns (nsenter --net + dist/kubelet/probe-connect.js), against nginx there.
 * Then the pod manager's prober end to end: a liveness exec probe that starts failing restarts the container, and
 * readiness follows an exec probe in `podns inspect`, and an httpGet readiness probe reaches nginx in a pod
 * without an IP.
 * Requires: root, the native build, dist/, the test images (see harness.ts), nsenter (util-linux).
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../src/manifest/types.js';
import { checkTcp } from '../../src/kubelet/probe-connect.js';
import { ContainerProber, netnsNetwork, type ProbeNetwork } from '../../src/kubelet/probes.js';
import { SpawnRunner } from '../../src/sys/command.js';
import { createPodns, inspect, kernelSkip, podName, projectRoot, sleep, waitFor, type Podns, pinOf } from './harness.js';
import { BUSYBOX, podYaml, sh } from './support.js';

describe.skipIf(kernelSkip)('probes in the pod network namespace', () => {
  let podns: Podns;
  let network: ProbeNetwork;
  const pod = podName('probe-net');
  let netnsPath: string;

  beforeAll(async () => {
    podns = await createPodns();
    netnsPath = pinOf(podns.root, pod);
    const containers = '  - name: web\n    image: nginx\n    ports: [{containerPort: 80}]\n';
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { containers }))]);
    network = netnsNetwork(netnsPath, new SpawnRunner(), path.join(projectRoot, 'dist', 'kubelet', 'probe-connect.js'));
    await waitFor(async () => (await network.tcp({ host: '127.0.0.1', port: 80, timeoutMs: 1000 })).ok, 15_000, 'nginx to listen in the pod');
  }, 120_000);
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('httpGet succeeds on nginx\'s 200 and fails on its 404, inside the pod', async () => {
    const ok = await network.http({ host: '127.0.0.1', port: 80, path: '/', headers: [], timeoutMs: 2000 });
    expect(ok.ok, ok.message).toBe(true);
    expect(ok.message).toContain('Welcome to nginx');
    expect(await network.http({ host: '127.0.0.1', port: 80, path: '/no-such-page', headers: [], timeoutMs: 2000 }))
      .toEqual({ ok: false, message: 'HTTP probe failed with statuscode: 404' });
  });

  it('tcpSocket succeeds on the open port and fails on a closed one; httpGet to the closed port fails', async () => {
    expect(await network.tcp({ host: '127.0.0.1', port: 80, timeoutMs: 1000 })).toEqual({ ok: true, message: '' });
    expect(await network.tcp({ host: '127.0.0.1', port: 8081, timeoutMs: 1000 }))
      .toEqual({ ok: false, message: 'dial tcp 127.0.0.1:8081: connect: connection refused (ECONNREFUSED)' });
    expect(await network.http({ host: '127.0.0.1', port: 8081, path: '/', headers: [], timeoutMs: 1000 }))
      .toEqual({ ok: false, message: 'Get "http://127.0.0.1:8081/": connection refused (ECONNREFUSED)' });
  });

  it('the checks run in the pod\'s network namespace: a port open on the host\'s loopback is closed there', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await checkTcp({ host: '127.0.0.1', port, timeoutMs: 1000 })).toEqual({ ok: true, message: '' });
      expect(await network.tcp({ host: '127.0.0.1', port, timeoutMs: 1000 }))
        .toEqual({ ok: false, message: `dial tcp 127.0.0.1:${port}: connect: connection refused (ECONNREFUSED)` });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a ContainerProber with only a netns path makes the container ready by tcpSocket, and not ready by httpGet on a closed port', async () => {
    const spec = (port: number): ContainerSpec => ({
      name: 'web', image: 'nginx', env: [], ports: [], volumeMounts: [],
      readinessProbe: { tcpSocket: { port }, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
      livenessProbe: { httpGet: { path: '/', port, scheme: 'HTTP', httpHeaders: [] }, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 2 },
    });
    const target = { exec: () => Promise.reject(new Error('no exec in this test')), netnsPath };
    const run = async (port: number) => {
      const seen: { ready: boolean[]; liveness: string[] } = { ready: [], liveness: [] };
      const prober = new ContainerProber(spec(port), target, {
        onResult: () => {},
        onLivenessFailure: (m) => seen.liveness.push(m),
        onReadyChange: (r) => seen.ready.push(r),
      });
      prober.start();
      try {
        await waitFor(() => seen.ready.length > 0 || seen.liveness.length > 0, 10_000, 'a probe verdict');
        if (port !== 80) await waitFor(() => seen.liveness.length > 0, 10_000, 'the liveness failure');
      } finally {
        prober.stop();
      }
      return seen;
    };
    expect(await run(80)).toEqual({ ready: [true], liveness: [] });
    const closed = await run(8081);
    expect(closed.ready).toEqual([]);
    expect(closed.liveness).toEqual(['Liveness probe failed: Get "http://127.0.0.1:8081/": connection refused (ECONNREFUSED)']);
  }, 30_000);
});

describe.skipIf(kernelSkip)('probes end to end, through the supervisor', () => {
  let podns: Podns;
  const pods: string[] = [];
  const scale = process.env.PODNS_BACKOFF_SCALE;

  beforeAll(async () => {
    // The crash-loop back-off (10 s first) shrunk, so the restart comes in well under a second.
    process.env.PODNS_BACKOFF_SCALE = '0.05';
    podns = await createPodns();
  }, 120_000);
  afterAll(async () => {
    if (scale === undefined) delete process.env.PODNS_BACKOFF_SCALE;
    else process.env.PODNS_BACKOFF_SCALE = scale;
    for (const pod of pods) await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  const run = async (base: string, containers: string) => {
    const pod = podName(base);
    pods.push(pod);
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { containers }))]);
    return pod;
  };
  const app = async (pod: string) => (await inspect(podns, pod)).containers[0]! as { status: string; ready?: boolean; restartCount: number };

  // sleep as PID 1 of its own PID namespace ignores SIGTERM: the probe's grace period (1 s, not the pod's 30 s)
  // is what ends it.
  it('restarts the container once its liveness exec probe fails failureThreshold times in a row, within the probe\'s grace period', async () => {
    const pod = await run('probe-live', `  - name: app
    image: ${BUSYBOX}
    command: ["sh", "-c", "touch /tmp/healthy; exec sleep 3600"]
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 2
      terminationGracePeriodSeconds: 1
`);
    await sleep(3_000);
    expect(await app(pod)).toMatchObject({ status: 'running', restartCount: 0 });
    expect((await sh(podns, pod, 'app', 'rm /tmp/healthy')).code).toBe(0);
    // Two failed probes (1 s apart), SIGTERM, SIGKILL 1 s later, then the restart after a 0.5 s back-off.
    await waitFor(async () => (await app(pod)).restartCount >= 1, 10_000, 'the restart');
    await waitFor(async () => (await app(pod)).status === 'running', 20_000, 'the container running again');
    // The new run touches /tmp/healthy again: it stays up.
    await sleep(3_000);
    expect(await app(pod)).toMatchObject({ status: 'running', restartCount: 1 });
  }, 60_000);

  it('shows readiness from an exec probe in inspect: not ready, ready, not ready again', async () => {
    const pod = await run('probe-ready', `  - name: app
    image: ${BUSYBOX}
    command: ["sh", "-c", "exec sleep 3600"]
    readinessProbe:
      exec: {command: [test, -f, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
`);
    await waitFor(async () => (await app(pod)).status === 'running', 10_000, 'the container running');
    await sleep(2_000);
    expect((await app(pod)).ready).toBe(false);
    expect((await sh(podns, pod, 'app', 'touch /tmp/ready')).code).toBe(0);
    await waitFor(async () => (await app(pod)).ready === true, 5_000, 'ready');
    expect((await sh(podns, pod, 'app', 'rm /tmp/ready')).code).toBe(0);
    await waitFor(async () => (await app(pod)).ready === false, 5_000, 'not ready');
    expect((await app(pod)).restartCount).toBe(0);
  }, 60_000);
  it('makes a pod without an IP ready by an httpGet probe run in its network namespace (nginx on 127.0.0.1:80)', async () => {
    const pod = await run('probe-http', `  - name: app
    image: nginx
    ports: [{name: web, containerPort: 80}]
    readinessProbe:
      httpGet: {path: /, port: web}
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
      failureThreshold: 1
`);
    await waitFor(async () => (await app(pod)).ready === true, 15_000, 'ready by httpGet');
    await sleep(2_000);
    expect(await app(pod)).toMatchObject({ status: 'running', ready: true, restartCount: 0 });
  }, 60_000);
});

