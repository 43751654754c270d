import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpGet, TooLargeError } from '../../../src/image/registry/http-get.js';

/** A loopback server answering from `handle`; returns its base URL and a stop function. */
async function serve(handle: http.RequestListener): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = http.createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('httpGet', () => {
  let cdn: Awaited<ReturnType<typeof serve>>;
  let registry: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    // The blob store on another origin, as Docker Hub redirects blobs to its CDN.
    cdn = await serve((req, res) => res.writeHead(200).end(`cdn saw authorization=${req.headers.authorization ?? 'none'}`));
    registry = await serve((req, res) => {
      if (req.url === '/elsewhere') res.writeHead(307, { Location: `${cdn.url}/blob` }).end();
      else if (req.url === '/here') res.writeHead(302, { Location: '/final' }).end();
      else if (req.url === '/final') res.writeHead(200).end(`final saw authorization=${req.headers.authorization ?? 'none'}`);
      else if (req.url === '/loop') res.writeHead(301, { Location: '/loop' }).end();
      else if (req.url === '/big') res.writeHead(200, { 'Content-Length': '10' }).end('0123456789');
      else if (req.url === '/chunked-big') {
        res.writeHead(200);
        res.end('0123456789');
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'Content-Length': '1000' });
        res.write('only this');
        setTimeout(() => res.destroy(), 20);
      } else res.writeHead(404, { 'X-Why': 'unknown' }).end('nope');
    });
  });
  afterAll(async () => {
    await registry.stop();
    await cdn.stop();
  });

  it('follows redirects, keeping Authorization on the same origin and dropping it for another', async () => {
    const auth = { Authorization: 'Bearer secret' };
    const same = await httpGet(new URL(`${registry.url}/here`), auth);
    expect(same.status).toBe(200);
    expect(same.url.pathname).toBe('/final');
    expect(await same.text()).toBe('final saw authorization=Bearer secret');
    const other = await httpGet(new URL(`${registry.url}/elsewhere`), auth);
    expect(other.url.origin).toBe(cdn.url);
    expect(await other.text()).toBe('cdn saw authorization=none');
    await expect(httpGet(new URL(`${registry.url}/loop`), {})).rejects.toMatchObject({ code: 'ETOOMANYREDIRECTS' });
  });

  it('hands back error statuses with their headers, limits bodies, and fails a cut-short body', async () => {
    const missing = await httpGet(new URL(`${registry.url}/missing`), {});
    expect([missing.status, missing.ok, missing.header('X-Why')]).toEqual([404, false, 'unknown']);
    expect(await missing.text()).toBe('nope');
    await expect((await httpGet(new URL(`${registry.url}/big`), {})).bytes(5)).rejects.toBeInstanceOf(TooLargeError);
    await expect((await httpGet(new URL(`${registry.url}/chunked-big`), {})).bytes(5)).rejects.toBeInstanceOf(TooLargeError);
    const cut = await httpGet(new URL(`${registry.url}/cut`), {});
    await expect(cut.bytes(2000)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('rejects with the socket error when nothing answers', async () => {
    const gone = await serve(() => undefined);
    await gone.stop();
    await expect(httpGet(new URL(`${gone.url}/v2/`), {})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
