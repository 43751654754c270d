/**
 * `podns pull`: resolves a reference through the registry client, picks this machine's image from an index,
 * fetches the config and the layer blobs it does not have (in parallel, bounded; deduplicated within the
 * process and, through a lock file per blob, across processes), unpacks each layer once, and saves the
 * record last. Until that record exists nothing names the new layers; an interrupted pull leaves only temp
 * files and unreferenced blobs/layers, which the next pull reuses or ignores and `image prune` removes.
 */
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { PodnsError, UserError, fromNodeError } from '../errors.js';
import { pickImageConfig } from './image-config.js';
import type { ImageStore } from './image-store.js';
import { withLock } from './lock.js';
import { formatImageReference, parseImageReference } from './reference.js';
import { RegistryClient, RegistryError } from './registry/client.js';
import { findCredentials, loadCredentials, loadRegistryConfig } from './registry/config.js';
import { planEndpoints } from './registry/endpoints.js';
import {
  INDEX_TYPES,
  MANIFEST_TYPES,
  layerCompression,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './registry/media-types.js';
import { hostPlatform, selectPlatform, type Platform } from './registry/platform.js';
import type { ImageRecord } from './types.js';

const STEP = 'image.pull';
const PARALLEL_LAYERS = 3;

/** Progress events; the CLI draws bars (TTY) or prints one line per layer. */
export interface PullProgress {
  resolved?(name: string, digest: string, source: string): void;
  layer?(digest: string, size: number | undefined, state: 'exists' | 'downloading' | 'downloaded' | 'unpacked'): void;
  bytes?(digest: string, received: number, size: number | undefined): void;
}

export interface PullOptions {
  /** Directory of registries.json and auth.json. */
  etcDir: string;
  authFile?: string;
  /** Docker config objects from a pod's imagePullSecrets, tried before auth.json (kubelet's order). */
  pullSecrets?: unknown[];
  platform?: Platform;
  progress?: PullProgress;
  /** Retry tuning (tests shorten it). */
  attempts?: number;
  backoffMs?: number;
  /**
   * The caller gave up (a CRI client's deadline): checked between the pull's stages, and last before the record
   * is saved, so that no image appears; what was fetched meanwhile stays for the next pull (or `image prune`).
   */
  signal?: AbortSignal;
}

export interface PullResult {
  record: ImageRecord;
  /** False when the local image already was the registry's (a warm pull). */
  changed: boolean;
}

/** Layers being fetched and unpacked in this process, by blob digest: two pulls wanting one layer share the work. */
const inflight = new Map<string, Promise<string>>();

export async function pullImage(store: ImageStore, ref: string, options: PullOptions): Promise<PullResult> {
  const parsed = parseImageReference(ref);
  const name = formatImageReference(parsed);
  const repository = parsed.path;
  const config = await loadRegistryConfig(options.etcDir);
  const fromSecrets = (options.pullSecrets ?? []).map((raw) => findCredentials(raw, parsed.domain, 'imagePullSecret')).find((c) => c !== undefined);
  const credentials = fromSecrets ?? (await loadCredentials(options.etcDir, options.authFile))(parsed.domain);
  const client = new RegistryClient({
    domain: parsed.domain,
    repository,
    endpoints: planEndpoints(parsed.domain, config),
    credentials,
    attempts: options.attempts,
    backoffMs: options.backoffMs,
  });

  let fetched = await client.getManifest(parsed.digest ?? parsed.tag!);
  options.signal?.throwIfAborted();
  const top = fetched;
  if (INDEX_TYPES.has(fetched.mediaType)) {
    const index = parseJson<ImageIndex>(fetched.bytes, `${name}: image index`);
    const chosen = selectPlatform(index.manifests ?? [], options.platform ?? hostPlatform(), name);
    fetched = await client.getManifest(chosen.digest);
  }
  if (!MANIFEST_TYPES.has(fetched.mediaType)) {
    throw new UserError('EMEDIATYPE', `${name}: unsupported manifest type "${fetched.mediaType}" (podns reads OCI and Docker schema 2 manifests)`);
  }
  const manifest = parseJson<ImageManifest>(fetched.bytes, `${name}: manifest`);
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new UserError('EBADMANIFEST', `${name}: manifest has no config or layers`);
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!/^sha256:[a-f0-9]{64}$/.test(d.digest ?? '')) throw new UserError('EBADMANIFEST', `${name}: unsupported digest "${d.digest}" (only sha256)`);
  }
  for (const layer of manifest.layers) {
    if (layerCompression(layer.mediaType) === undefined) throw new UserError('EMEDIATYPE', `${name}: unsupported layer type "${layer.mediaType}"`);
  }
  options.progress?.resolved?.(name, top.digest, client.host);

  // Warm: the record already names this manifest and its layers are all there.
  const existing = await store.get(name).catch(() => undefined);
  if (existing?.digest === top.digest && (await allExist(existing.layers))) return { record: existing, changed: false };

  await store.prepare();
  const hexes = [manifest.config, ...manifest.layers].map((d) => d.digest.slice('sha256:'.length));
  const unpin = await store.pin([...hexes, hexOf(top.digest), hexOf(fetched.digest)]);
  try {
    // The config and the layers at once: the config is one small request, and nothing waits for it but the record.
    const [configBytes, layers] = await allSettledOrThrow(
      (async () => {
        await saveSmallBlob(store, top.digest, top.bytes);
        if (fetched !== top) await saveSmallBlob(store, fetched.digest, fetched.bytes);
        const bytes = await client.getJsonBlob(manifest.config);
        await saveSmallBlob(store, manifest.config.digest, bytes);
        return bytes;
      })(),
      mapBounded(manifest.layers, PARALLEL_LAYERS, (desc) => fetchAndUnpack(store, client, desc, options.progress)),
    );
    options.signal?.throwIfAborted();
    const imageConfig = parseJson<unknown>(configBytes, `${name}: image config`);
    const { config: picked, created } = pickImageConfig(imageConfig);
    const record: ImageRecord = {
      name,
      id: manifest.config.digest,
      layers,
      config: picked,
      created: created ?? new Date().toISOString(),
      size: await store.measureLayers(layers),
      digest: top.digest,
      source: client.host,
      blobs: [...new Set([top.digest, fetched.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)])],
    };
    await store.commit(record);
    return { record, changed: true };
  } finally {
    await unpin();
  }
}

async function fetchAndUnpack(store: ImageStore, client: RegistryClient, desc: Descriptor, progress?: PullProgress): Promise<string> {
  const hex = hexOf(desc.digest);
  if (await store.hasLayer(hex)) {
    progress?.layer?.(desc.digest, desc.size, 'exists');
    return store.layerPath(hex);
  }
  const key = `${store.blobsDir}:${desc.digest}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = obtainLayer(store, client, desc, progress).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

/**
 * The layer of `desc`, its blob verified in `blobs/` first. A blob not yet there is downloaded under its lock
 * (one download per blob across processes) and unpacked as it streams in; if that unpack fails for any reason,
 * the layer is unpacked again from the stored blob, whose error (a refusal, ENOSPC, ...) is then the one reported.
 */
async function obtainLayer(store: ImageStore, client: RegistryClient, desc: Descriptor, progress?: PullProgress): Promise<string> {
  const hex = hexOf(desc.digest);
  const final = store.blobPath(desc.digest);
  let dir: string | undefined;
  if (await exists(final)) progress?.layer?.(desc.digest, desc.size, 'exists');
  else {
    // The lock covers the download only; the unpack that ran along it finishes outside.
    const started = await withLock(`${final}.lock`, `blob ${desc.digest}`, async () => {
      // Another process may have fetched it while we waited for the lock.
      if (await exists(final)) return undefined;
      return downloadUnpacking(store, client, desc, progress);
    });
    dir = await started?.unpacking;
  }
  dir ??= await store.unpack({ file: final }, hex);
  progress?.layer?.(desc.digest, desc.size, 'unpacked');
  return dir;
}

/**
 * Downloads the blob into `blobs/` and unpacks the same bytes meanwhile. Resolves once the blob is in place, with
 * the unpack still finishing: to its layer dir, or undefined if it failed (the blob is stored all the same). The
 * unpacked layer gets its name only after the stream ends, and the stream ends only once the whole blob matched
 * its digest and was renamed into place: no unverified byte is ever used, and a layer never exists without its
 * blob.
 */
async function downloadUnpacking(
  store: ImageStore,
  client: RegistryClient,
  desc: Descriptor,
  progress?: PullProgress,
): Promise<{ unpacking: Promise<string | undefined> }> {
  progress?.layer?.(desc.digest, desc.size, 'downloading');
  const final = store.blobPath(desc.digest);
  const tmp = `${store.blobsDir}/.tmp-${hexOf(desc.digest)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const tee = new PassThrough({ highWaterMark: 1024 * 1024 });
  const unpacking = store
    .unpack({ stream: tee, compression: layerCompression(desc.mediaType) ?? 'gzip' }, hexOf(desc.digest))
    .then(
      (dir) => dir,
      () => undefined,
    )
    // An unpack that stopped reading (failed, or found the layer already there) must not hold up the download.
    .finally(() => tee.destroy());
  try {
    await client.downloadBlob(desc, tmp, (n) => progress?.bytes?.(desc.digest, n, desc.size), tee);
    await rename(tmp, final);
  } catch (err) {
    tee.destroy();
    await unpacking; // its temp dir is gone once it settled
    await rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof PodnsError) throw err;
    throw fromNodeError(STEP, err, `store blob ${desc.digest}`);
  }
  progress?.layer?.(desc.digest, desc.size, 'downloaded');
  if (!tee.destroyed) tee.end();
  // Wrapped: an async function returning the promise itself would wait for it.
  return { unpacking };
}

async function saveSmallBlob(store: ImageStore, digest: string, bytes: Buffer): Promise<void> {
  const final = store.blobPath(digest);
  if (await exists(final)) return;
  const tmp = `${store.blobsDir}/.tmp-${hexOf(digest)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await writeFile(tmp, bytes, { mode: 0o644 });
    await rename(tmp, final);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fromNodeError(STEP, err, `write blob ${digest}`);
  }
}

/**
 * Both results once both settled, or the first one's failure. Unlike Promise.all it never returns while the other
 * still runs: the pull's pin must outlive every download it covers.
 */
async function allSettledOrThrow<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order; the first failure wins. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw (failed as { err: unknown }).err;
  return results;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new RegistryError('EBADMANIFEST', `${what} is not valid JSON`);
  }
}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function allExist(paths: string[]): Promise<boolean> {
  return (await Promise.all(paths.map(exists))).every(Boolean);
}
