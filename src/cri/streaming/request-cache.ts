/**
 * The streaming requests waiting for their client, by single-use token — kubelet's requestCache
 * (k8s.io/kubelet/pkg/cri/streaming/request_cache.go), which containerd and CRI-O serve from: Exec, Attach and
 * PortForward answer with a URL holding a fresh random token; the first request on that URL consumes it, and a
 * token nobody used expires after `ttlMs` (1 minute). At most `maxInFlight` (1000) wait at once: a full cache
 * refuses new ones, after dropping the expired.
 *
 * One departure: kubelet's tokens are 8 base64url characters (48 random bits); these are 22 (128 bits), from
 * node:crypto. A token is the only thing that stands between anything on 127.0.0.1 and a shell in a container.
 */
import crypto from 'node:crypto';
import { UserError } from '../../errors.js';

export interface RequestCacheOptions {
  ttlMs?: number;
  maxInFlight?: number;
  /** The clock (ms), for tests. */
  now?: () => number;
}

export class RequestCache<T> {
  /** Insertion order is expiry order (one TTL for all), so the oldest entries come first. */
  private readonly entries = new Map<string, { request: T; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;

  constructor(options: RequestCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxInFlight = options.maxInFlight ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Keeps `request` and returns its token; throws (ETOOMANY) when maxInFlight requests wait. */
  insert(request: T): string {
    this.gc();
    if (this.entries.size >= this.maxInFlight) {
      // kubelet's ErrorTooManyInFlight (gRPC ResourceExhausted).
      throw new UserError('ETOOMANY', `maximum number of in-flight streaming requests exceeded (${this.maxInFlight})`);
    }
    let token: string;
    do token = crypto.randomBytes(16).toString('base64url');
    while (this.entries.has(token));
    this.entries.set(token, { request, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request of `token`, which is gone afterwards; undefined for an unknown, used or expired token. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return this.now() > entry.expires ? undefined : entry.request;
  }

  get size(): number {
    return this.entries.size;
  }

  private gc(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) {
      if (entry.expires >= now) return;
      this.entries.delete(token);
    }
  }
}
