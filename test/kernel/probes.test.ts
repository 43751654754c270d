/**
 * httpGet and tcpSocket probes inside a real pod's network namespace: a pod in network mode none has loopback
 * only, so the checks must run in its netns (nsenter --net + dist/shim/probe-connect.js), against nginx there.
 * Requires: root, the native build, dist/, the test images (see harness.ts), nsenter (util-linux).
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../src/manifest/types.js';
import { checkTcp } from '../../src/shim/probe-connect.js';
import { ContainerProber, netnsNetwork, type ProbeNetwork } from '../../src/shim/probes.js';
import { SpawnRunner } from '../../src/sys/command.js';
import { createPodns, kernelSkip, podName, projectRoot, waitFor, type Podns } from './harness.js';
import { podYaml } from './support.js';

describe.skipIf(kernelSkip)('probes in the pod network namespace', () => {
  let podns: Podns;
  let network: ProbeNetwork;
  const pod = podName('probe-net');
  const netnsPath = `/run/netns/${pod}`;

  beforeAll(async () => {
    podns = await createPodns();
    const containers = '  - name: web\n    image: nginx\n    ports: [{containerPort: 80}]\n';
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { containers }))]);
    network = netnsNetwork(netnsPath, new SpawnRunner(), path.join(projectRoot, 'dist', 'shim', 'probe-connect.js'));
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
