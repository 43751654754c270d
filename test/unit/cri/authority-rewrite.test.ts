/**
 * The :authority rewrite in front of the CRI's gRPC server, against Node's own HTTP/2 (nghttp2, what grpc-js
 * serves with): a client that sends the socket path as :authority, as Go gRPC clients before k8s.io/cri-client
 * do, is refused by the server alone and served through the rewrite; large header blocks survive the
 * re-framing; the client's byte stream gives the same result whole or one byte at a time.
 */
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authorityRewritten, ClientStreamRewriter, rewriteAuthority } from '../../../src/cri/authority-rewrite.js';

const SOCKET_PATH_AUTHORITY = '/run/podns/cri.sock';

interface Seen {
  authority: string | undefined;
  big: string | undefined;
}

/** An HTTP/2 server on a unix socket, each connection handed to it raw or through the rewrite. */
async function serve(rewrite: boolean): Promise<{ socket: string; seen: Seen[]; close: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-authority-'));
  const socket = path.join(dir, 's.sock');
  const seen: Seen[] = [];
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    seen.push({ authority: headers[':authority'] as string | undefined, big: headers['x-big'] as string | undefined });
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const server = net.createServer({ pauseOnConnect: true }, (s) => {
    if (rewrite) h2.emit('connection', authorityRewritten(s));
    else {
      h2.emit('connection', s);
      s.resume();
    }
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, seen, close: () => { server.close(); h2.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** Two requests on one connection (the second one reuses the client's HPACK state), each with `headers`. */
async function request(socket: string, headers: Record<string, string>): Promise<string[]> {
  const client = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
  const one = () =>
    new Promise<string>((resolve) => {
      const req = client.request({ ':method': 'POST', ':path': '/runtime.v1.RuntimeService/Version', ...headers });
      let body = '';
      req.on('response', (h) => (body += `${h[':status']} `));
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('error', (err: Error) => resolve(err.message));
      req.on('close', () => resolve(body));
      req.end();
    });
  try {
    return [await one(), await one()];
  } finally {
    client.close();
  }
}

describe('the CRI endpoint\'s :authority rewrite', () => {
  const open: (() => void)[] = [];
  afterEach(() => open.splice(0).forEach((close) => close()));

  it('a socket path as :authority is refused by Node\'s HTTP/2 alone (why the rewrite exists)', async () => {
    const s = await serve(false);
    open.push(s.close);
    const [first] = await request(s.socket, { ':authority': SOCKET_PATH_AUTHORITY });
    expect(first).toMatch(/NGHTTP2_PROTOCOL_ERROR/);
    expect(s.seen).toEqual([]);
  });

  it('through the rewrite the same requests are served, and the server sees localhost', async () => {
    const s = await serve(true);
    open.push(s.close);
    expect(await request(s.socket, { ':authority': SOCKET_PATH_AUTHORITY })).toEqual(['200 ok', '200 ok']);
    expect(s.seen.map((r) => r.authority)).toEqual(['localhost', 'localhost']);
  });

  it('a header block larger than one frame (CONTINUATION) arrives whole', async () => {
    const s = await serve(true);
    open.push(s.close);
    const big = 'x'.repeat(40_000);
    expect(await request(s.socket, { ':authority': SOCKET_PATH_AUTHORITY, 'x-big': big })).toEqual(['200 ok', '200 ok']);
    expect(s.seen.map((r) => [r.authority, r.big?.length])).toEqual([['localhost', 40_000], ['localhost', 40_000]]);
  });

  it('the client stream gives the same bytes whole or one byte at a time', () => {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
    // HEADERS on stream 1, END_HEADERS|END_STREAM: :method POST (static 3), :authority literal with
    // incremental indexing "/run/podns/cri.sock", then a DATA-less PING frame.
    const authority = Buffer.from(SOCKET_PATH_AUTHORITY);
    const block = Buffer.concat([Buffer.from([0x83, 0x41, authority.length]), authority]);
    const headers = Buffer.concat([Buffer.from([0, 0, block.length, 0x1, 0x5, 0, 0, 0, 1]), block]);
    const ping = Buffer.from([0, 0, 8, 0x6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const input = Buffer.concat([preface, headers, ping]);
    const whole = new ClientStreamRewriter().push(input);
    const bytewise = new ClientStreamRewriter();
    const pieces: Buffer[] = [];
    for (const b of input) pieces.push(bytewise.push(Buffer.from([b])));
    expect(Buffer.concat(pieces)).toEqual(whole);
    const expectedBlock = Buffer.concat([Buffer.from([0x83, 0x41, 9]), Buffer.from('localhost')]);
    expect(whole).toEqual(Buffer.concat([preface, Buffer.from([0, 0, expectedBlock.length, 0x1, 0x5, 0, 0, 0, 1]), expectedBlock, ping]));
  });

  it('rewriteAuthority: other literals and indexed fields are copied; a block it cannot parse is left as sent', () => {
    const other = Buffer.concat([Buffer.from([0x44, 3]), Buffer.from('/x/')]); // :path literal (static 4)
    expect(rewriteAuthority(Buffer.concat([Buffer.from([0x82]), other]))).toEqual(Buffer.concat([Buffer.from([0x82]), other]));
    const truncated = Buffer.from([0x41, 20, 0x2f]);
    expect(rewriteAuthority(truncated)).toBe(truncated);
    // Without indexing (0000 0001) and never indexed (0001 0001): rewritten too.
    expect(rewriteAuthority(Buffer.from([0x01, 1, 0x2f]))).toEqual(Buffer.concat([Buffer.from([0x01, 9]), Buffer.from('localhost')]));
    expect(rewriteAuthority(Buffer.from([0x11, 1, 0x2f]))).toEqual(Buffer.concat([Buffer.from([0x11, 9]), Buffer.from('localhost')]));
  });
});
