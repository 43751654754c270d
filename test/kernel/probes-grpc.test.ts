/**
 * gRPC probes end to end: a readiness probe on a pod without an IP (network mode none) reaches 127.0.0.1
 * inside the pod's network namespace, through nsenter and the connector script, and speaks grpc.health.v1.
 * The health server is a small Node HTTP/2 server started by the test inside that network namespace (the test
 * images have no gRPC server): not ready while nothing listens, ready on SERVING, not ready on NOT_SERVING.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, waitFor, type Podns } from './harness.js';
import { BUSYBOX, podYaml } from './support.js';

/** Answers Check with the status in the file next to it (1 SERVING, 2 NOT_SERVING), read on every call. */
const SERVER = `
const http2 = require('node:http2');
const fs = require('node:fs');
const statusFile = process.argv[2];
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('data', () => {});
  stream.on('end', () => {
    const status = Number(fs.readFileSync(statusFile, 'utf8'));
    const body = Buffer.from([0x08, status]);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length, 1);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.concat([head, body]));
  });
});
server.listen(50051, '127.0.0.1', () => console.log('listening'));
`;

interface Pod {
  conditions: { type: string; status: string }[];
  containers: { name: string; ready?: boolean }[];
  netnsPin?: string;
}

describe.skipIf(kernelSkip)('gRPC probes', () => {
  let podns: Podns;
  let server: ResultPromise | undefined;
  const pod = podName('grpc-ready');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-grpc-'));
  const statusFile = path.join(dir, 'status');
  const get = async () => (await inspect(podns, pod)) as unknown as Pod;

  beforeAll(async () => {
    podns = await createPodns();
    fs.writeFileSync(path.join(dir, 'server.cjs'), SERVER);
    fs.writeFileSync(statusFile, '1');
    await podns.ok([
      'run',
      podns.writeManifest(
        pod,
        podYaml(pod, {
          containers: `  - name: app\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "exec sleep 3600"]\n    readinessProbe: {grpc: {port: 50051}, periodSeconds: 1, timeoutSeconds: 1}\n`,
        }),
      ),
    ]);
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.catch(() => {});
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is not ready while nothing answers, ready on SERVING, not ready again on NOT_SERVING', async () => {
    await waitFor(async () => (await podns.ok(['events', pod])).includes('Readiness probe failed: timeout: failed to connect service "127.0.0.1:50051"'), 8000, 'a failed probe');
    expect((await get()).containers[0]!.ready).toBe(false);
    const netns = (await get()).netnsPin!;
    server = execa('nsenter', [`--net=${netns}`, process.execPath, path.join(dir, 'server.cjs'), statusFile], { reject: false });
    await waitFor(async () => (await get()).containers[0]!.ready === true, 8000, 'ready');
    expect((await get()).conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    fs.writeFileSync(statusFile, '2');
    await waitFor(async () => (await get()).containers[0]!.ready === false, 8000, 'not ready');
    expect(await podns.ok(['events', pod])).toMatch(/Readiness probe failed: service unhealthy \(responded with "NOT_SERVING"\)/);
  });
});
