/**
 * HTTP GET for the registry client, on node:http and node:https, following redirects as fetch does. Not fetch:
 * Node loads its fetch (undici) on first use, ~25 ms of the first request of every `podns pull`, and a fetch
 * body is a web stream that costs more per megabyte than the plain Readable a layer download is piped from.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** fetch's limit (Fetch spec "HTTP-redirect fetch"). */
const MAX_REDIRECTS = 20;
/** No byte in this long (headers or body) fails the request with ETIMEDOUT; undici's defaults are the same. */
const IDLE_TIMEOUT_MS = 300_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface HttpResponse {
  status: number;
  ok: boolean;
  /** The URL that answered, after redirects. */
  url: URL;
  header(name: string): string | undefined;
  /** The body, unread. */
  body: Readable;
  /** Reads the whole body; throws TooLargeError past `limit` bytes (by Content-Length or as it comes). */
  bytes(limit: number): Promise<Buffer>;
  text(limit?: number): Promise<string>;
  /** Drops the body (and the connection, if it was not read to its end). */
  discard(): void;
}

export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/**
 * GETs `url`, following redirects. Authorization goes to the first origin only: dropped on a redirect to
 * another one, as fetch drops it (a registry redirecting blobs to a CDN must not hand it the token).
 * Rejects with the socket's error (`code` ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...) when no response came.
 */
export async function httpGet(url: URL, headers: Record<string, string>): Promise<HttpResponse> {
  let current = url;
  let sent = headers;
  for (let redirects = 0; ; redirects++) {
    const res = await requestOnce(current, sent);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) return wrap(res, current);
    res.resume();
    if (redirects >= MAX_REDIRECTS) throw Object.assign(new Error(`more than ${MAX_REDIRECTS} redirects`), { code: 'ETOOMANYREDIRECTS' });
    const next = new URL(location, current);
    if (next.origin !== url.origin) sent = withoutAuthorization(headers);
    current = next;
  }
}

function requestOnce(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  // Not `import http from 'node:http'`: the ESM facade reads every export, and its lazy WebSocket getter loads
  // undici (~25 ms), the very cost this module avoids. node:https (TLS set-up) only when a URL needs it.
  const get =
    url.protocol === 'https:' ? process.getBuiltinModule('node:https').get : url.protocol === 'http:' ? process.getBuiltinModule('node:http').get : undefined;
  if (!get) return Promise.reject(Object.assign(new Error(`unsupported URL scheme ${url.protocol}`), { code: 'EPROTO' }));
  return new Promise((resolve, reject) => {
    // The socket timeout holds while this request owns the socket: headers and the whole body. Destroying the
    // request then fails the body stream too (ECONNRESET), which the client retries as a cut-short download.
    const req = get(url, { headers, timeout: IDLE_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(timeoutError()));
    req.on('error', reject);
  });
}

function wrap(res: IncomingMessage, url: URL): HttpResponse {
  const status = res.statusCode ?? 0;
  const bytes = async (limit: number): Promise<Buffer> => {
    const length = Number(res.headers['content-length']);
    if (Number.isFinite(length) && length > limit) {
      res.destroy();
      throw new TooLargeError(limit);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        res.destroy();
        throw new TooLargeError(limit);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    url,
    header: (name) => {
      const value = res.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: res,
    bytes,
    text: async (limit = 1024 * 1024) => (await bytes(limit)).toString('utf8'),
    discard: () => {
      if (!res.complete) res.destroy();
      else res.resume();
    },
  };
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
}

function timeoutError(): Error {
  return Object.assign(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' });
}
