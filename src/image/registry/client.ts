/**
 * An OCI distribution client (distribution-spec "Pulling"), on node:http(s) (http-get.ts): manifests by tag or digest,
 * blobs streamed to disk with their sha256 checked on the way, bearer-token or basic auth from the
 * registry's challenge, retries with back-off on 5xx, 429 and connection errors. One client serves one
 * repository; it remembers which endpoint (mirror or upstream) answered the manifest and fetches the blobs
 * from that one.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PodnsError, UserError, fromNodeError } from '../../errors.js';
import { basicAuth, parseChallenge, tokenUrl } from './auth.js';
import type { Credentials } from './config.js';
import type { Endpoint } from './endpoints.js';
import { httpGet, TooLargeError, type HttpResponse } from './http-get.js';
import { MANIFEST_ACCEPT, type Descriptor } from './media-types.js';

const STEP = 'image.pull';
const RETRIABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
/** Larger than any manifest or config podns accepts (containerd caps manifests at 4 MiB too). */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface ClientOptions {
  domain: string;
  repository: string;
  endpoints: Endpoint[];
  credentials?: Credentials;
  /** Attempts per request for retriable failures (default 4), and the first back-off (default 200 ms, doubled each time). */
  attempts?: number;
  backoffMs?: number;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** Something registry-side went wrong: `code` lets callers tell them apart without reading messages. */
export class RegistryError extends UserError {}

export class RegistryClient {
  private endpoint: Endpoint | undefined;
  /** Authorization header per endpoint host, once a challenge was answered. */
  private readonly authorization = new Map<string, string>();
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: ClientOptions) {
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 200;
  }

  /** `host[:port]` of the endpoint in use, for messages. */
  get host(): string {
    return (this.endpoint ?? this.options.endpoints[0])?.host ?? this.options.domain;
  }

  /** Fetches a manifest or index by tag or digest; tries the endpoints in order until one has it. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const endpoints = this.endpoint ? [this.endpoint] : this.options.endpoints;
    if (endpoints.length === 0) throw new RegistryError('ENOENDPOINT', `${this.options.domain}: no mirror configured and the registry is marked noUpstream`);
    let first: unknown;
    for (const endpoint of endpoints) {
      try {
        const res = await this.request(endpoint, `manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
        const bytes = await readLimited(res, MAX_JSON_BYTES, `${this.name(reference)}: manifest`);
        const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        if (reference.startsWith('sha256:') && reference !== digest) {
          throw new RegistryError('EDIGEST', `${this.name(reference)}: manifest digest mismatch (got ${digest})`);
        }
        const mediaType = (res.header('content-type') ?? '').split(';')[0]!.trim();
        this.endpoint = endpoint;
        return { digest, mediaType: sniffMediaType(mediaType, bytes), bytes };
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  }

  /** Reads a small blob (a config) into memory, checking its digest. */
  async getJsonBlob(desc: Descriptor): Promise<Buffer> {
    const res = await this.request(this.endpoint!, `blobs/${desc.digest}`, {});
    const bytes = await readLimited(res, MAX_JSON_BYTES, `blob ${desc.digest}`);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== desc.digest) throw new RegistryError('EDIGEST', `blob ${desc.digest} from ${this.host}: digest mismatch (got ${actual})`);
    return bytes;
  }

  /**
   * Streams a blob into `file`, hashing as it goes; throws (and deletes `file`) on a short read, a size or
   * a digest mismatch. Connection failures mid-stream are retried from the start.
   *
   * `tee` (an unpack running along the download) gets the bytes of the first attempt too, at its pace: the
   * download waits while it is full. If it closes early, the download goes on without it; a failed attempt
   * destroys it (a retry does not feed it again). It is never ended here: when this resolves, every byte it
   * got was verified, and the caller ends it.
   */
  async downloadBlob(desc: Descriptor, file: string, onProgress?: (bytes: number) => void, tee?: Writable): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.downloadOnce(desc, file, onProgress, attempt === 1 ? tee : undefined);
        return;
      } catch (err) {
        tee?.destroy();
        await rm(file, { force: true }).catch(() => undefined);
        if (!(err instanceof TruncatedError) || attempt >= this.attempts) throw err instanceof TruncatedError ? err.final() : err;
        await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  private async downloadOnce(desc: Descriptor, file: string, onProgress?: (bytes: number) => void, tee?: Writable): Promise<void> {
    const res = await this.request(this.endpoint!, `blobs/${desc.digest}`, {});
    const hash = createHash('sha256');
    const host = this.host;
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        received += chunk.length;
        if (desc.size !== undefined && received > desc.size) {
          done(new RegistryError('ESIZE', `blob ${desc.digest} from ${host}: more than the ${desc.size} bytes the manifest promised`));
          return;
        }
        onProgress?.(received);
        feed(tee, chunk, () => done(null, chunk));
      },
    });
    try {
      await pipeline(res.body, counter, createWriteStream(file, { flags: 'wx', mode: 0o644 }));
    } catch (err) {
      if (err instanceof PodnsError) throw err;
      const code = errorCode(err);
      if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES' || code === 'EEXIST') {
        throw fromNodeError(STEP, err, `write blob ${desc.digest} to "${file}"`);
      }
      throw new TruncatedError(desc, host, received, err);
    }
    if (desc.size !== undefined && received < desc.size) throw new TruncatedError(desc, host, received);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== desc.digest) {
      throw new RegistryError('EDIGEST', `blob ${desc.digest} from ${host}: digest mismatch (got ${actual}); refused`);
    }
  }

  private name(reference: string): string {
    return `${this.options.domain}/${this.options.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
  }

  /** One GET with auth and retries; resolves to a 2xx response or throws a RegistryError. */
  private async request(endpoint: Endpoint, suffix: string, headers: Record<string, string>): Promise<HttpResponse> {
    const url = new URL(`${endpoint.url}/v2/${this.options.repository}/${suffix}`);
    let res = await this.fetchRetrying(endpoint, url, headers);
    if (res.status === 401) {
      res.discard();
      await this.authenticate(endpoint, res.header('www-authenticate') ?? null);
      res = await this.fetchRetrying(endpoint, url, headers);
      if (res.status === 401 || res.status === 403) {
        res.discard();
        throw new RegistryError('EAUTH', `registry ${endpoint.host}: access to ${this.options.repository} refused (${res.status}) after authenticating${this.options.credentials ? ` as "${this.options.credentials.username}"` : ' anonymously'}`);
      }
    }
    if (res.ok) return res;
    const detail = await registryErrorText(res);
    if (res.status === 404) {
      const what = suffix.startsWith('manifests/') ? 'manifest unknown' : 'blob unknown';
      const ref = suffix.slice(suffix.indexOf('/') + 1);
      throw new RegistryError(what === 'manifest unknown' ? 'EMANIFESTUNKNOWN' : 'EBLOBUNKNOWN', `${this.name(ref)}: ${what} (registry ${endpoint.host}${detail ? `: ${detail}` : ''})`);
    }
    if (res.status === 403) throw new RegistryError('EAUTH', `registry ${endpoint.host}: access to ${this.options.repository} denied (403)${detail ? `: ${detail}` : ''}`);
    throw new RegistryError('EREGISTRY', `registry ${endpoint.host}: GET ${suffix}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`);
  }

  private async fetchRetrying(endpoint: Endpoint, url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const auth = this.authorization.get(endpoint.host);
      let res: HttpResponse | undefined;
      let failure: unknown;
      try {
        res = await httpGet(url, auth ? { ...headers, Authorization: auth } : headers);
      } catch (err) {
        failure = err;
      }
      const retriable = res ? res.status >= 500 || res.status === 429 : RETRIABLE_CODES.has(errorCode(failure) ?? '');
      if (res && !retriable) return res;
      if (!retriable || attempt >= this.attempts) {
        if (res) return res;
        throw unreachable(endpoint, failure);
      }
      res?.discard();
      const retryAfter = Number(res?.header('retry-after'));
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 10_000) : this.backoffMs * 2 ** (attempt - 1));
    }
  }

  private async authenticate(endpoint: Endpoint, header: string | null): Promise<void> {
    const challenge = header ? parseChallenge(header) : undefined;
    const creds = this.options.credentials;
    if (challenge?.scheme === 'basic') {
      if (!creds) throw new RegistryError('EAUTH', `registry ${endpoint.host}: authentication required and no credentials for ${this.options.domain} (podns looks in auth.json, or --authfile)`);
      this.authorization.set(endpoint.host, basicAuth(creds.username, creds.password));
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new RegistryError('EAUTH', `registry ${endpoint.host}: unauthorized, and no usable WWW-Authenticate challenge (${header ?? 'none'})`);
    }
    const url = tokenUrl(challenge, this.options.repository);
    let res: HttpResponse;
    try {
      res = await httpGet(url, creds ? { Authorization: basicAuth(creds.username, creds.password) } : {});
    } catch (err) {
      throw unreachable({ host: url.host, url: url.origin, mirror: false }, err, 'token server');
    }
    if (!res.ok) {
      const detail = await registryErrorText(res);
      throw new RegistryError('EAUTH', `registry ${endpoint.host}: token server ${url.host} refused ${creds ? `the credentials of "${creds.username}"` : 'anonymous access'} (HTTP ${res.status})${detail ? `: ${detail}` : ''}`);
    }
    const body = (await res.text().then((t) => JSON.parse(t) as unknown).catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError('EAUTH', `registry ${endpoint.host}: token server ${url.host} answered without a token`);
    this.authorization.set(endpoint.host, `Bearer ${token}`);
  }
}

/** A download cut short; retried, then reported as "truncated". */
class TruncatedError extends Error {
  constructor(
    readonly desc: Descriptor,
    readonly host: string,
    readonly received: number,
    cause?: unknown,
  ) {
    super('truncated', { cause });
  }
  final(): RegistryError {
    const expected = this.desc.size !== undefined ? ` of ${this.desc.size}` : '';
    const why = this.cause ? `: ${describeFetchError(this.cause)}` : '';
    return new RegistryError('ETRUNCATED', `blob ${this.desc.digest} from ${this.host}: truncated download (${this.received}${expected} bytes)${why}`);
  }
}

function unreachable(endpoint: Endpoint, err: unknown, what = 'registry'): RegistryError {
  const e = new RegistryError('EUNREACHABLE', `${what} ${endpoint.host} is not reachable (${endpoint.url}): ${describeFetchError(err)}`);
  (e as Error).cause = err;
  return e;
}

/** The errno-ish code of a request failure (the socket error, or one it wraps in `cause`). */
export function errorCode(err: unknown): string | undefined {
  let e = err as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

function describeFetchError(err: unknown): string {
  const code = errorCode(err);
  const texts: Record<string, string> = {
    ECONNREFUSED: 'connection refused (ECONNREFUSED)',
    ECONNRESET: 'connection reset (ECONNRESET)',
    ETIMEDOUT: 'timed out (ETIMEDOUT)',
    ENOTFOUND: 'host not found (ENOTFOUND)',
    EAI_AGAIN: 'name resolution failed (EAI_AGAIN)',
    EPROTO: 'TLS handshake failed (EPROTO; a plain-HTTP registry? list it as insecure)',
  };
  if (code && texts[code]) return texts[code]!;
  const inner = (err as { cause?: { message?: string } })?.cause?.message;
  const message = (err as Error)?.message ?? String(err);
  return code ? `${inner ?? message} (${code})` : inner ?? message;
}

async function registryErrorText(res: HttpResponse): Promise<string> {
  const text = await res.text(64 * 1024).catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    // not the spec's error body
  }
  return text.trim().split('\n')[0]!.slice(0, 200);
}

async function readLimited(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const length = Number(res.header('content-length'));
  if (Number.isFinite(length) && length > limit) {
    res.discard();
    throw new RegistryError('ETOOBIG', `${what} is ${length} bytes, more than ${limit}`);
  }
  try {
    return await res.bytes(limit);
  } catch (err) {
    if (err instanceof TooLargeError) throw new RegistryError('ETOOBIG', `${what} is more than ${limit} bytes`);
    throw new RegistryError('ETRUNCATED', `${what}: truncated download: ${describeFetchError(err)}`);
  }
}

/** Registries sometimes answer `application/json` or `text/plain`; the document's own mediaType decides then. */
function sniffMediaType(header: string, bytes: Buffer): string {
  if (header.startsWith('application/vnd.')) return header;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    if (Array.isArray(doc.manifests)) return 'application/vnd.oci.image.index.v1+json';
    if (Array.isArray(doc.layers)) return 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    // reported by the caller when it parses
  }
  return header;
}

/** Writes `chunk` to `tee` unless it has closed; `next` once it has room again or has closed. */
function feed(tee: Writable | undefined, chunk: Buffer, next: () => void): void {
  if (!tee || tee.destroyed || tee.writableEnded) return next();
  if (tee.write(chunk)) return next();
  const go = (): void => {
    tee.off('drain', go);
    tee.off('close', go);
    next();
  };
  tee.on('drain', go);
  tee.on('close', go);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
