/**
 * The streaming server end to end on loopback, with a runtime of plain child processes and TCP servers standing in
 * for containers (the kernel tests run the real one): tokens, remotecommand over SPDY and WebSocket, the status on
 * the error stream, port-forward's stream pairs.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../../../src/log.js';
import { StreamingServer } from '../../../../src/cri/streaming/server.js';
import type { AttachSession, ExecSession, StreamingRuntime } from '../../../../src/cri/streaming/streaming-runtime.js';
import { spdyConnect, spdyExec, spdyPortForward, upgradeRequest } from '../../support/streaming-client.js';

interface FakeAttach {
  output: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  input: Buffer[];
  stdinEnded: boolean;
  left: boolean;
  end: (code: number) => void;
}

function fakeRuntime(ports: Map<number, number>): StreamingRuntime & { attached: FakeAttach[]; execs: { cmd: string[]; tty: boolean }[] } {
  const attached: FakeAttach[] = [];
  const execs: { cmd: string[]; tty: boolean }[] = [];
  return {
    attached,
    execs,
    async exec(containerId, cmd, options): Promise<ExecSession> {
      if (containerId !== 'c1') throw new Error(`container "${containerId}" is not running`);
      execs.push({ cmd, tty: options.tty });
      const child = spawn(cmd[0]!, cmd.slice(1), { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      const done = new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15))));
      child.stdin?.on('error', () => {});
      return { pid: child.pid!, stdin: child.stdin ?? undefined, stdout: child.stdout!, stderr: options.tty ? undefined : child.stderr!, resize: () => {}, kill: () => child.kill('SIGKILL'), done };
    },
    attach(containerId, _options, output): AttachSession {
      if (containerId !== 'c1') throw new Error(`container "${containerId}" is not running`);
      let resolveEnded!: (code: number) => void;
      const ended = new Promise<number | undefined>((resolve) => (resolveEnded = resolve));
      const a: FakeAttach = { output, input: [], stdinEnded: false, left: false, end: resolveEnded };
      attached.push(a);
      return {
        tty: false,
        stdinOnce: false,
        writeStdin: (d) => a.input.push(d),
        endStdin: () => (a.stdinEnded = true),
        resize: () => {},
        leave: () => (a.left = true),
        ended,
      };
    },
    portForward(sandboxId, port) {
      const target = ports.get(port);
      if (sandboxId !== 's1' || target === undefined) return Promise.reject(new Error(`connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`));
      return new Promise((resolve, reject) => {
        const s = net.connect({ port: target, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
        s.once('error', reject);
      });
    },
  };
}

describe('the streaming server', () => {
  let server: StreamingServer;
  let runtime: ReturnType<typeof fakeRuntime>;
  let web: net.Server;
  let now = 0;

  beforeEach(async () => {
    // A web server standing in for the pod's port 80: one HTTP/1.0 answer per connection, then close.
    web = net.createServer((s) => s.once('data', (req) => s.end(`HTTP/1.0 200 OK\r\n\r\npage for ${req.toString().split(' ')[1]}`)));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    runtime = fakeRuntime(new Map([[80, (web.address() as net.AddressInfo).port]]));
    server = new StreamingServer(runtime, { log: silentLogger, tokenTtlMs: 60_000, now: () => now });
  });
  afterEach(async () => {
    await server.close();
    web.close();
  });

  it('listens only once a URL is asked for, on 127.0.0.1, with a path of kind and token', async () => {
    expect(server.url).toBeUndefined();
    const url = await server.getExec({ containerId: 'c1', cmd: ['true'], stdout: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{22}$/);
    expect(await server.url).toBe(new URL(url).origin);
  });

  it("refuses bad requests as kubelet's server does", async () => {
    await expect(server.getExec({ containerId: 'c1', cmd: [] , stdout: true })).rejects.toThrow('missing required cmd');
    await expect(server.getExec({ containerId: 'c1', cmd: ['sh'], tty: true, stderr: true, stdout: true })).rejects.toThrow('tty and stderr cannot both be true');
    await expect(server.getAttach({ containerId: 'c1' })).rejects.toThrow('one of stdin, stdout, and stderr must be set');
    await expect(server.getPortForward({ podSandboxId: 's1', ports: [0] })).rejects.toThrow('invalid port 0');
  });

  it('exec over SPDY v4: stdout, stderr and a Success status; a second use of the URL is a 404', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['sh', '-c', 'echo hello; echo oops >&2'], stdout: true, stderr: true });
    const r = await spdyExec(url, {});
    expect(r).toMatchObject({ protocol: 'v4.channel.k8s.io', stdout: 'hello\n', stderr: 'oops\n', exitCode: 0 });
    expect(JSON.parse(r.error)).toEqual({ metadata: {}, status: 'Success' });
    const again = await spdyConnect(url, ['v4.channel.k8s.io']);
    expect(again.answer.status).toBe(404);
    expect(runtime.execs).toHaveLength(1);
  });

  it('a non-zero exit is NonZeroExitCode with the code as the ExitCode cause (what kubectl exits with)', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['sh', '-c', 'exit 3'], stdout: true, stderr: true });
    const r = await spdyExec(url, {});
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(r.error)).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  });

  it('stdin reaches the command and its end closes the command\'s stdin', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['cat'], stdin: true, stdout: true, stderr: true });
    const r = await spdyExec(url, { stdin: 'one\ntwo\n' });
    expect(r).toMatchObject({ stdout: 'one\ntwo\n', exitCode: 0 });
  });

  it('an exec that cannot start is an InternalError status, and the older protocols get the message alone', async () => {
    const url = await server.getExec({ containerId: 'gone', cmd: ['true'], stdout: true });
    const r = await spdyExec(url, { stderr: false });
    expect(JSON.parse(r.error)).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
    expect(r.error).toContain('container \\"gone\\" is not running');
    const v2 = await server.getExec({ containerId: 'gone', cmd: ['true'], stdout: true });
    const old = await spdyExec(v2, { stderr: false, protocols: ['v2.channel.k8s.io'] });
    expect(old.protocol).toBe('v2.channel.k8s.io');
    expect(old.error).toBe('Internal error occurred: error executing command in container: container "gone" is not running');
  });

  it('an expired token, an unknown one, a wrong kind, and a request without an upgrade are all 404 or refused', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['true'], stdout: true });
    now += 60_001;
    expect((await spdyConnect(url, ['v4.channel.k8s.io'])).answer.status).toBe(404);
    const base = await server.url;
    expect((await spdyConnect(`${base}/exec/nosuchtoken`, ['v4.channel.k8s.io'])).answer.status).toBe(404);
    const attach = await server.getAttach({ containerId: 'c1', stdout: true });
    expect((await spdyConnect(attach.replace('/attach/', '/exec/'), ['v4.channel.k8s.io'])).answer.status).toBe(404);
    const plain = await server.getExec({ containerId: 'c1', cmd: ['true'], stdout: true });
    const res = await fetch(plain);
    expect(res.status).toBe(400);
    expect((await spdyConnect(plain, ['v4.channel.k8s.io'])).answer.status).toBe(404);
  });

  it('no common protocol is a 403 naming what the server accepts', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['true'], stdout: true });
    const r = await spdyConnect(url, ['v9.channel.k8s.io']);
    expect(r.answer.status).toBe(403);
    expect(r.answer.headers['x-accepted-stream-protocol-versions']).toContain('v4.channel.k8s.io');
  });

  it('exec over WebSocket v5: channel bytes, the CLOSE signal ends stdin, the status on channel 3, then a close frame', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['sh', '-c', 'cat; echo err >&2; exit 2'], stdin: true, stdout: true, stderr: true });
    const ws = new WebSocket(url.replace('http', 'ws'), ['v5.channel.k8s.io']);
    const got: Buffer[][] = [[], [], [], []];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data: Buffer) => got[data[0]!]?.push(data.subarray(1)));
    await new Promise((r) => ws.once('open', r));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('through stdin\n')]));
    ws.send(Buffer.from([255, 0]));
    expect(await closed).toBe(1000);
    expect(Buffer.concat(got[1]!).toString()).toBe('through stdin\n');
    expect(Buffer.concat(got[2]!).toString()).toBe('err\n');
    expect(JSON.parse(Buffer.concat(got[3]!).toString())).toMatchObject({ reason: 'NonZeroExitCode', details: { causes: [{ message: '2' }] } });
  });

  it('exec over WebSocket v4.base64: text messages, a digit then base64', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['echo', 'hello'], stdout: true });
    const ws = new WebSocket(url.replace('http', 'ws'), ['v4.base64.channel.k8s.io']);
    const messages: string[] = [];
    ws.on('message', (data: Buffer, binary) => (expect(binary).toBe(false), messages.push(data.toString())));
    await new Promise((r) => ws.on('close', r));
    const stdout = messages.filter((m) => m[0] === '1').map((m) => Buffer.from(m.slice(1), 'base64').toString()).join('');
    expect(stdout).toBe('hello\n');
    expect(messages.some((m) => m[0] === '3' && Buffer.from(m.slice(1), 'base64').toString().includes('Success'))).toBe(true);
  });

  it('attach: output as it comes, input to the container; the client leaving leaves the container running', async () => {
    const url = await server.getAttach({ containerId: 'c1', stdin: true, stdout: true, stderr: true });
    const { client } = await spdyConnect(url, ['v4.channel.k8s.io']);
    const error = await client!.open({ streamtype: 'error' });
    const stdin = await client!.open({ streamtype: 'stdin' });
    const stdout = await client!.open({ streamtype: 'stdout' });
    await client!.open({ streamtype: 'stderr' });
    await waitUntil(() => runtime.attached.length === 1);
    const a = runtime.attached[0]!;
    stdin.write('typed\n');
    await waitUntil(() => a.input.length > 0);
    expect(Buffer.concat(a.input).toString()).toBe('typed\n');
    a.output('stdout', Buffer.from('echoed\n'));
    expect(await stdout.until((t) => t.includes('echoed'))).toBe('echoed\n');
    a.end(0);
    await error.ended();
    expect(JSON.parse(error.text)).toMatchObject({ status: 'Success' });
    expect(a.left).toBe(true);
    client!.close();
  });

  it('port-forward over SPDY: a data/error pair per request id, each a connection to the port; a closed port is an error message', async () => {
    const url = await server.getPortForward({ podSandboxId: 's1' });
    const { answer, client } = await spdyConnect(url, ['portforward.k8s.io']);
    expect(answer.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
    const [one, two] = await Promise.all([spdyPortForward(client!, 80, 0, 'GET /a HTTP/1.0\r\n\r\n'), spdyPortForward(client!, 80, 1, 'GET /b HTTP/1.0\r\n\r\n')]);
    expect(one.data).toBe('HTTP/1.0 200 OK\r\n\r\npage for /a');
    expect(two.data).toBe('HTTP/1.0 200 OK\r\n\r\npage for /b');
    expect(one.error).toBe('');
    const refused = await spdyPortForward(client!, 81, 2, 'x');
    expect(refused.error).toMatch(/^error forwarding port 81 to pod s1, uid : connect to 127.0.0.1:81: connection refused/);
    client!.close();
  });

  it('port-forward over WebSocket v4 (the channel form): the port first on both channels, then the data', async () => {
    const url = await server.getPortForward({ podSandboxId: 's1' });
    const ws = new WebSocket(`${url.replace('http', 'ws')}?port=80`, ['v4.channel.k8s.io']);
    const data: Buffer[] = [];
    const first: Record<number, Buffer> = {};
    ws.on('message', (m: Buffer) => {
      if (!(m[0]! in first)) first[m[0]!] = m.subarray(1);
      else if (m[0] === 0) data.push(m.subarray(1));
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET /ws HTTP/1.0\r\n\r\n')]));
    await new Promise((r) => ws.on('close', r));
    expect(first[0]!.readUInt16LE()).toBe(80);
    expect(first[1]!.readUInt16LE()).toBe(80);
    expect(Buffer.concat(data).toString()).toBe('HTTP/1.0 200 OK\r\n\r\npage for /ws');
  });

  it("port-forward's SPDY-in-WebSocket tunnel (client-go ≥ 1.31): its protocol, not an RFC 7230 token, is accepted", async () => {
    const url = await server.getPortForward({ podSandboxId: 's1' });
    const { answer, socket } = await upgradeRequest(
      url,
      { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'SPDY/3.1+portforward.k8s.io' },
      undefined,
      'GET',
    );
    socket.destroy();
    expect(answer.status).toBe(101);
    expect(answer.headers['sec-websocket-protocol']).toBe('SPDY/3.1+portforward.k8s.io');
    expect(answer.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('a client that goes away has its command killed', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['sleep', '30'], stdout: true });
    const { client } = await spdyConnect(url, ['v4.channel.k8s.io']);
    await client!.open({ streamtype: 'error' });
    await client!.open({ streamtype: 'stdout' });
    await waitUntil(() => runtime.execs.length === 1);
    const t0 = Date.now();
    client!.close();
    // The session's end is visible as the server dropping the connection's bookkeeping; poll the process.
    await waitUntil(() => !processAlive('sleep 30'));
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('upgrade through a path with a query (kubelet-style URL parameters) still finds the token', async () => {
    const url = await server.getExec({ containerId: 'c1', cmd: ['echo', 'q'], stdout: true });
    const { answer } = await upgradeRequest(`${url}?command=ignored`, { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    expect(answer.status).toBe(101);
  });
});

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function processAlive(cmdline: string): boolean {
  const fs = process.getBuiltinModule('node:fs');
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() === cmdline && fs.readFileSync(`/proc/${pid}/status`, 'utf8').includes(`PPid:\t${process.pid}`)) return true;
    } catch {
      // gone
    }
  }
  return false;
}
