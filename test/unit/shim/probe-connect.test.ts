/** The httpGet and tcpSocket checks against servers on 127.0.0.1, and the connector script's argv and output. */
import http from 'node:http';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHttp, checkTcp, connectorArgs } from '../../../src/shim/probe-connect.js';

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
    const script = fileURLToPath(new URL('../../../src/shim/probe-connect.ts', import.meta.url));
    const run = (args: string[]) => execFileSync(process.execPath, [script, ...args], { encoding: 'utf8' });
    const args = connectorArgs('http', { host: '127.0.0.1', port, path: '/fail', headers: [{ name: 'X-A', value: 'b: c' }], timeoutMs: 1000 });
    expect(args).toEqual(['http', '127.0.0.1', String(port), '/fail', '1000', 'X-A: b: c']);
    // execFileSync blocks this process and so its server: the script itself is run against a closed port.
    expect(connectorArgs('tcp', { host: '127.0.0.1', port: 81, timeoutMs: 500 })).toEqual(['tcp', '127.0.0.1', '81', '500']);
    expect(JSON.parse(run(['tcp', '127.0.0.1', '1', '500']))).toEqual({ ok: false, message: 'dial tcp 127.0.0.1:1: connect: connection refused (ECONNREFUSED)' });
    expect(() => run(['tcp', '127.0.0.1'])).toThrow(/usage: probe-connect/);
  });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return p;
}
