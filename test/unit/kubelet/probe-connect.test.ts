/** The httpGet and tcpSocket checks against servers on 127.0.0.1, and the connector script's argv and output. */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGrpc, checkHttp, checkTcp, connectorArgs, healthCheckRequest, servingStatus } from '../../../src/kubelet/probe-connect.js';

let server: http.Server;
let port: number;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    const routes: Record<string, () => void> = {
      '/ok': () => res.writeHead(200).end('fine'),
      '/fail': () => res.writeHead(500).end('broken'),
      '/redirect-here': () => res.writeHead(302, { location: '/ok' }).end(),
      '/redirect-away': () => res.writeHead(301, { location: 'http://192.0.2.1/elsewhere' }).end('moved'),
      '/loop': () => res.writeHead(302, { location: '/loop' }).end(),
      '/slow': () => setTimeout(() => res.writeHead(200).end(), 2000),
      '/not-modified': () => res.writeHead(304).end(),
    };
    (routes[req.url ?? ''] ?? (() => res.writeHead(404).end()))();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string, headers: { name: string; value: string }[] = [], timeoutMs = 1000) => checkHttp({ host: '127.0.0.1', port, path, headers, timeoutMs });

describe('checkHttp', () => {
  it('succeeds on 200-399 and fails on 400 and above with kubelet\'s message', async () => {
    expect(await get('/ok')).toEqual({ ok: true, message: 'fine' });
    expect(await get('/not-modified')).toEqual({ ok: true, message: '' });
    expect(await get('/fail')).toEqual({ ok: false, message: 'HTTP probe failed with statuscode: 500' });
    expect(await get('/missing')).toEqual({ ok: false, message: 'HTTP probe failed with statuscode: 404' });
  });

  it('sends kubelet\'s User-Agent and Accept unless the probe sets them, and the probe\'s headers', async () => {
    seen.length = 0;
    await get('/ok');
    await get('/ok', [{ name: 'User-Agent', value: 'mine' }, { name: 'X-Probe', value: '1' }, { name: 'Host', value: 'web.local' }]);
    expect([seen[0]!['user-agent'], seen[0]!.accept]).toEqual(['kube-probe/1.34', '*/*']);
    expect([seen[1]!['user-agent'], seen[1]!.accept, seen[1]!['x-probe'], seen[1]!.host]).toEqual(['mine', '*/*', '1', 'web.local']);
  });

  it('follows redirects on the same host; a redirect to another host ends the probe as a success', async () => {
    expect(await get('/redirect-here')).toEqual({ ok: true, message: 'fine' });
    expect(await get('/redirect-away')).toEqual({ ok: true, message: 'Probe terminated redirects, Response body: moved' });
    expect(await get('/loop')).toEqual({ ok: false, message: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects` });
  });

  it('fails on a timeout and on a closed port', async () => {
    const slow = await get('/slow', [], 200);
    expect(slow.ok).toBe(false);
    expect(slow.message).toMatch(/^Get "http:\/\/127\.0\.0\.1:\d+\/slow": timed out after 200 ms/);
    const closed = await closedPort();
    expect(await checkHttp({ host: '127.0.0.1', port: closed, path: '/', headers: [], timeoutMs: 1000 }))
      .toEqual({ ok: false, message: `Get "http://127.0.0.1:${closed}/": connection refused (ECONNREFUSED)` });
  });
});

describe('checkTcp', () => {
  it('succeeds when a connection opens, fails when it is refused', async () => {
    expect(await checkTcp({ host: '127.0.0.1', port, timeoutMs: 1000 })).toEqual({ ok: true, message: '' });
    const closed = await closedPort();
    expect(await checkTcp({ host: '127.0.0.1', port: closed, timeoutMs: 1000 }))
      .toEqual({ ok: false, message: `dial tcp 127.0.0.1:${closed}: connect: connection refused (ECONNREFUSED)` });
  });
});

describe('the connector script', () => {
  it('prints one JSON verdict for the argv connectorArgs builds', () => {
    const script = fileURLToPath(new URL('../../../src/kubelet/probe-connect.ts', import.meta.url));
    const run = (args: string[]) => execFileSync(process.execPath, [script, ...args], { encoding: 'utf8' });
    const args = connectorArgs('http', { host: '127.0.0.1', port, path: '/fail', headers: [{ name: 'X-A', value: 'b: c' }], timeoutMs: 1000 });
    expect(args).toEqual(['http', '127.0.0.1', String(port), '/fail', '1000', 'X-A: b: c']);
    // execFileSync blocks this process and so its server: the script itself is run against a closed port.
    expect(connectorArgs('tcp', { host: '127.0.0.1', port: 81, timeoutMs: 500 })).toEqual(['tcp', '127.0.0.1', '81', '500']);
    expect(JSON.parse(run(['tcp', '127.0.0.1', '1', '500']))).toEqual({ ok: false, message: 'dial tcp 127.0.0.1:1: connect: connection refused (ECONNREFUSED)' });
    expect(() => run(['tcp', '127.0.0.1'])).toThrow(/usage: probe-connect/);
  });
});

/**
 * A port nothing listens on. A port bound and closed again may be taken by another test file's server in the
 * meantime (vitest runs files in parallel), so it is port 1 (tcpmux), which nothing here serves.
 */
async function closedPort(): Promise<number> {
  return 1;
}

describe('checkGrpc (grpc.health.v1 over cleartext HTTP/2)', () => {
  /** A health server: the answer per service name; "unimplemented" answers with grpc-status 12; "hang" never answers. */
  let server: http2.Http2Server;
  let grpcPort: number;
  const seen: { service: string; headers: http2.IncomingHttpHeaders }[] = [];
  const answer = (status: number) => {
    const body = Buffer.from([0x08, status]);
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(body.length, 1);
    return Buffer.concat([frame, body]);
  };
  beforeAll(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const msg = Buffer.concat(chunks);
        // HealthCheckRequest: field 1, length-delimited.
        const service = msg.length > 5 ? msg.subarray(7).toString() : '';
        seen.push({ service, headers });
        if (service === 'hang') return;
        if (service === 'unimplemented') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service grpc.health.v1.Health' }, { endStream: true });
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(answer(service === 'sick' ? 2 : 1));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    grpcPort = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const check = (service: string, timeoutMs = 1000) => checkGrpc({ host: '127.0.0.1', port: grpcPort, service, timeoutMs });

  it('succeeds on SERVING, sending the service name and kubelet\'s headers', async () => {
    expect(await check('')).toEqual({ ok: true, message: '' });
    expect(await check('db')).toEqual({ ok: true, message: '' });
    expect(seen.map((s) => s.service)).toEqual(['', 'db']);
    expect(seen[1]!.headers).toMatchObject({ ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', 'user-agent': expect.stringMatching(/^kube-probe\//) });
  });

  it('fails with kubelet\'s messages: NOT_SERVING, Unimplemented, a refused port, a timeout', async () => {
    expect(await check('sick')).toEqual({ ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    expect((await check('unimplemented')).message).toBe(
      'this server does not implement the grpc health protocol (grpc.health.v1.Health): rpc error: code = Unimplemented desc = unknown service grpc.health.v1.Health',
    );
    expect(await check('hang', 300)).toEqual({ ok: false, message: 'timeout: health rpc did not complete within 0.3s' });
    const closed = await closedPort();
    expect((await checkGrpc({ host: '127.0.0.1', port: closed, service: '', timeoutMs: 500 })).message).toBe(
      `timeout: failed to connect service "127.0.0.1:${closed}" within 0.5s: connection refused (ECONNREFUSED)`,
    );
  });

  it('encodes and decodes the two protobuf messages', () => {
    expect([...healthCheckRequest('')]).toEqual([0, 0, 0, 0, 0]);
    expect([...healthCheckRequest('ab')]).toEqual([0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
    expect(servingStatus(answer(1))).toBe(1);
    expect(servingStatus(Buffer.from([0, 0, 0, 0, 0]))).toBe(0); // proto3 default: UNKNOWN
    expect(servingStatus(Buffer.from([1, 0, 0, 0, 0]))).toBeUndefined(); // compressed: not ours
  });

  it('the connector script takes grpc arguments', () => {
    expect(connectorArgs('grpc', { host: '10.0.0.1', port: 9090, service: 's', timeoutMs: 700 })).toEqual(['grpc', '10.0.0.1', '9090', '700', 's']);
  });
});
