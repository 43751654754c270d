/**
 * The local image store: content-addressed unpacked layers plus one small JSON record per image name.
 *
 *   ROOT/layers/<hex>/          an unpacked layer (overlayfs lowerdir), hex = sha256 of the blob as stored
 *   ROOT/blobs/sha256/<hex>     pulled blobs (manifests, configs, compressed layers), each verified before
 *                               it is renamed into place; `.tmp-<hex>-<pid>-*` while downloading
 *   ROOT/images/<sha256(name)>.json   the ImageRecord, written to a temp file and renamed into place
 *   ROOT/tmp/                   scratch space for archives being read; `pin-*.json` of pulls in progress
 *   ROOT/lock                   the store lock (see lock.ts)
 *
 * Layers are shared between images and unpacked once; a layer or blob is deleted when the last record
 * naming it goes (rm) or by prune. Every change to the set of records and every deletion happens under the
 * store lock. A pull first pins the layers and blobs it will use (a pin file written under the lock), so a
 * concurrent rm or prune keeps them although no record names them yet.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../sys/command.js';
import { UserError, fromNodeError } from '../errors.js';
import { readImageArchive, verifyLayer } from './archive.js';
import { hashFile } from './digest.js';
import { pickImageConfig } from './image-config.js';
import { unpackLayer } from './layer.js';
import type { TarSource } from './tar-extract.js';
import { lockOwner, ownerAlive, withLock } from './lock.js';
import { findImageRecord, IMAGE_ID_RE, imageRecordFile, imageRecordsDir, listImageRecords, readImageRecord } from './image-records.js';
import { normalizeImageReference } from './reference.js';
import type { ImageConfig, ImageRecord } from './types.js';

export { normalizeImageReference };

const HEX_RE = /^[a-f0-9]{64}$/;

/** What `image prune` removed. */
export interface PruneResult {
  layers: number;
  blobs: number;
  temp: number;
}

export class ImageStore {
  private readonly layersDir: string;
  private readonly imagesDir: string;
  private readonly tmpDir: string;
  readonly blobsDir: string;
  private readonly lockFile: string;

  constructor(
    readonly root: string,
    private readonly runner: CommandRunner,
  ) {
    this.layersDir = path.join(root, 'layers');
    this.imagesDir = imageRecordsDir(root);
    this.tmpDir = path.join(root, 'tmp');
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.lockFile = path.join(root, 'lock');
  }

  /** Runs `fn` holding the store lock (record changes, deletions, pins). */
  withStoreLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockFile, `the image store "${this.root}"`, fn);
  }

  /** Path of a blob by its `sha256:<hex>` digest. */
  blobPath(digest: string): string {
    return path.join(this.blobsDir, digest.slice('sha256:'.length));
  }

  layerPath(hex: string): string {
    return path.join(this.layersDir, hex);
  }

  /** Creates the store's directories; pulls call it before anything else. */
  async prepare(): Promise<void> {
    await this.ensureDirs();
  }

  /**
   * Pins `hexes` (layer and blob hex digests) for a pull in progress: written under the store lock, so an rm
   * or prune either ran before (and the pull finds what it deleted missing) or sees the pin and keeps them.
   * Returns the unpin function.
   */
  async pin(hexes: string[]): Promise<() => Promise<void>> {
    await this.ensureDirs();
    const file = path.join(this.tmpDir, `pin-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    await this.withStoreLock(async () => {
      await writeFile(file, JSON.stringify({ owner: lockOwner() ?? `${process.pid} 0`, hexes }));
    });
    return async () => {
      await rm(file, { force: true });
    };
  }

  /**
   * Unpacks a layer into `layers/<hex>/` unless it is there already: from its verified blob file, or from a
   * download in progress (whose bytes are verified before the stream ends, so before the layer gets its name).
   */
  unpack(source: TarSource, hex: string): Promise<string> {
    return unpackLayer(this.runner, source, this.layersDir, hex);
  }

  /** Bytes of unpacked layers, as `podns images` shows them. */
  measureLayers(layers: string[]): Promise<number> {
    return this.measure(layers);
  }

  /** Saves a record (a pull's last step); layers only a replaced record used are deleted. */
  commit(record: ImageRecord): Promise<void> {
    return this.saveRecord(record);
  }

  /** `podns image import rootfs.tar NAME`: a plain rootfs tarball becomes a one-layer image; config optional. */
  async importRootfs(tarball: string, name: string, config: ImageConfig = {}): Promise<ImageRecord> {
    const normalized = normalizeImageReference(name);
    await this.ensureDirs();
    const hex = await hashFile(tarball, 'image.importRootfs');
    const layer = await unpackLayer(this.runner, { file: tarball }, this.layersDir, hex);
    const record: ImageRecord = {
      name: normalized,
      id: `sha256:${hex}`,
      layers: [layer],
      config: structuredClone(config),
      created: new Date().toISOString(),
      size: await this.measure([layer]),
    };
    await this.saveRecord(record);
    return record;
  }

  /**
   * `podns image load archive.tar`: an OCI image-layout archive or a `docker save` archive. Every named
   * image in it is stored; `name` overrides the archive's names when it holds exactly one image.
   */
  async load(archive: string, name?: string): Promise<ImageRecord[]> {
    await this.ensureDirs();
    let scratch: string;
    try {
      scratch = await mkdtemp(path.join(this.tmpDir, 'load-'));
    } catch (err) {
      throw fromNodeError('image.load', err, `create a temp dir in "${this.tmpDir}"`);
    }
    try {
      const images = await readImageArchive(this.runner, archive, scratch);
      if (images.length === 0) throw new UserError('EBADARCHIVE', `"${archive}" holds no images`);
      if (name !== undefined && images.length !== 1) {
        throw new UserError('EAMBIGUOUS', `"${archive}" holds ${images.length} images; a name can be given only for one`);
      }
      // Validate every name before unpacking anything.
      const named = images.map((image) => {
        const names = name !== undefined ? [name] : image.names;
        if (names.length === 0) {
          throw new UserError('ENONAME', `image ${image.id} in "${archive}" has no name; give one: podns image load ${archive} NAME`);
        }
        return { image, names: [...new Set(names.map(normalizeImageReference))] };
      });

      const records: ImageRecord[] = [];
      for (const { image, names } of named) {
        const layers: string[] = [];
        for (const layer of image.layers) {
          if (!(await this.hasLayer(layer.hex))) await verifyLayer(layer);
          layers.push(await unpackLayer(this.runner, { file: layer.file }, this.layersDir, layer.hex));
        }
        const { config, created } = pickImageConfig(image.config);
        const size = await this.measure(layers);
        for (const normalized of names) {
          const record: ImageRecord = {
            name: normalized,
            id: image.id,
            layers,
            config,
            created: created ?? new Date().toISOString(),
            size,
          };
          await this.saveRecord(record);
          records.push(record);
        }
      }
      return records;
    } finally {
      await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async list(): Promise<ImageRecord[]> {
    return listImageRecords(this.root);
  }

  /** Looks an image up by any reference form (`nginx`, `docker.io/library/nginx:latest`) or by (a prefix of) its id. */
  async get(ref: string): Promise<ImageRecord | undefined> {
    return findImageRecord(this.root, ref);
  }

  /** Removes the name; layers no remaining image references are deleted. */
  async remove(ref: string): Promise<void> {
    const record = await this.get(ref);
    if (!record) throw new UserError('ENOIMAGE', `no such image: ${ref}`);
    if (IMAGE_ID_RE.test(ref) && normalizeOrUndefined(ref) !== record.name) {
      const sameId = (await this.list()).filter((r) => r.id === record.id);
      if (sameId.length > 1) {
        throw new UserError('EAMBIGUOUS', `image ${record.id} has several names (${sameId.map((r) => r.name).join(', ')}); remove it by name`);
      }
    }
    await this.withStoreLock(async () => {
      try {
        await rm(this.recordPath(record.name), { force: true });
      } catch (err) {
        throw fromNodeError('image.remove', err, `remove the record of ${record.name}`);
      }
      await this.deleteUnreferencedLayers(record.layers);
      await this.deleteUnreferencedBlobs(record.blobs ?? []);
    });
  }

  /**
   * `podns image prune`: layers and blobs no image record (nor a pull in progress) references, and the
   * temp files of interrupted pulls and loads. Images themselves are kept: what a pod uses stays.
   */
  async prune(): Promise<PruneResult> {
    const result: PruneResult = { layers: 0, blobs: 0, temp: 0 };
    await this.ensureDirs();
    await this.withStoreLock(async () => {
      const records = await this.list();
      const pins = await this.livePins();
      const busy = pins.size > 0 || (await this.hasLivePins());
      const layers = new Set(records.flatMap((r) => r.layers.map((l) => path.basename(l))));
      const blobs = new Set(records.flatMap((r) => (r.blobs ?? []).map((b) => b.slice('sha256:'.length))));
      for (const name of await readdir(this.layersDir)) {
        const keep = HEX_RE.test(name) ? layers.has(name) || pins.has(name) : busy;
        if (keep) continue;
        await rm(path.join(this.layersDir, name), { recursive: true, force: true });
        if (HEX_RE.test(name)) result.layers++;
        else result.temp++;
      }
      for (const name of await readdir(this.blobsDir)) {
        if (HEX_RE.test(name)) {
          if (blobs.has(name) || pins.has(name)) continue;
          result.blobs++;
        } else {
          // `.tmp-<hex>-<pid>-*` downloads and `<hex>.lock` files: only those of processes that are gone.
          const pid = /^\.tmp-[a-f0-9]{64}-(\d+)-/.exec(name)?.[1] ?? (name.endsWith('.lock') ? (await readFile(path.join(this.blobsDir, name), 'utf8').catch(() => '')) : '');
          if (pid !== '' && processRuns(pid)) continue;
          result.temp++;
        }
        await rm(path.join(this.blobsDir, name), { recursive: true, force: true });
      }
      for (const name of await readdir(this.tmpDir)) {
        if (name.startsWith('pin-')) {
          const pin = await this.readPin(path.join(this.tmpDir, name));
          if (pin && ownerAlive(pin.owner)) continue;
        } else if (busy || name.startsWith(`load-`)) {
          // a load in progress is not pinned; its scratch dir goes only when no pull runs and it is an hour old
          const age = Date.now() - (await stat(path.join(this.tmpDir, name)).then((s) => s.mtimeMs, () => 0));
          if (busy || age < 3600_000) continue;
        }
        await rm(path.join(this.tmpDir, name), { recursive: true, force: true });
        result.temp++;
      }
    });
    return result;
  }

  private async readPin(file: string): Promise<{ owner: string; hexes: string[] } | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as { owner: string; hexes: string[] };
    } catch {
      return undefined;
    }
  }

  /** Hex digests pinned by pulls whose process still runs. */
  private async livePins(): Promise<Set<string>> {
    const hexes = new Set<string>();
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith('pin-'))) {
      const pin = await this.readPin(path.join(this.tmpDir, name));
      if (pin && ownerAlive(pin.owner)) for (const hex of pin.hexes) hexes.add(hex);
    }
    return hexes;
  }

  private async hasLivePins(): Promise<boolean> {
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith('pin-'))) {
      const pin = await this.readPin(path.join(this.tmpDir, name));
      if (pin && ownerAlive(pin.owner)) return true;
    }
    return false;
  }

  private async deleteUnreferencedBlobs(candidates: string[]): Promise<void> {
    if (candidates.length === 0) return;
    const referenced = new Set((await this.list()).flatMap((r) => r.blobs ?? []));
    const pinned = await this.livePins();
    for (const digest of new Set(candidates)) {
      const hex = digest.slice('sha256:'.length);
      if (referenced.has(digest) || pinned.has(hex) || !HEX_RE.test(hex)) continue;
      await rm(path.join(this.blobsDir, hex), { force: true }).catch((err: unknown) => {
        throw fromNodeError('image.deleteBlob', err, `remove blob ${digest}`);
      });
    }
  }

  /** Writes the record atomically; layers only the replaced record used are then deleted. */
  private async saveRecord(record: ImageRecord): Promise<void> {
    const file = this.recordPath(record.name);
    await this.withStoreLock(async () => {
      const previous = readImageRecord(file);
      const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw fromNodeError('image.saveRecord', err, `write "${file}"`);
      }
      if (previous) {
        await this.deleteUnreferencedLayers(previous.layers.filter((l) => !record.layers.includes(l)));
        await this.deleteUnreferencedBlobs((previous.blobs ?? []).filter((b) => !(record.blobs ?? []).includes(b)));
      }
    });
  }

  private async deleteUnreferencedLayers(candidates: string[]): Promise<void> {
    if (candidates.length === 0) return;
    const referenced = new Set((await this.list()).flatMap((r) => r.layers));
    const pinned = await this.livePins();
    for (const layer of new Set(candidates)) {
      // Only ever delete directories of this store's layers dir, whatever a record says.
      if (referenced.has(layer) || pinned.has(path.basename(layer)) || path.dirname(layer) !== this.layersDir) continue;
      try {
        await rm(layer, { recursive: true, force: true });
      } catch (err) {
        throw fromNodeError('image.deleteLayer', err, `remove layer "${layer}"`);
      }
    }
  }

  private recordPath(normalizedName: string): string {
    return imageRecordFile(this.root, normalizedName);
  }

  async hasLayer(hex: string): Promise<boolean> {
    return readdir(path.join(this.layersDir, hex)).then(
      () => true,
      () => false,
    );
  }

  /** Bytes of the unpacked layers (`du` apparent size; files hard-linked across layers count once). */
  private async measure(layers: string[]): Promise<number> {
    const { stdout } = await this.runner.run(['du', '-s', '-b', '--', ...layers], { step: 'image.measure' });
    return stdout
      .split('\n')
      .map((line) => Number.parseInt(line, 10))
      .filter((n) => Number.isFinite(n))
      .reduce((a, b) => a + b, 0);
  }

  private async ensureDirs(): Promise<void> {
    try {
      await mkdir(this.layersDir, { recursive: true });
      await mkdir(this.blobsDir, { recursive: true });
      await mkdir(this.imagesDir, { recursive: true });
      await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fromNodeError('image.ensureDirs', err, `create the image store in "${this.root}"`);
    }
  }
}

/** True if the pid named in a temp file's name or a lock file (`pid starttime`) still runs. */
function processRuns(owner: string): boolean {
  const text = owner.trim();
  if (text.includes(' ')) return ownerAlive(text);
  try {
    process.kill(Number(text), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function normalizeOrUndefined(ref: string): string | undefined {
  try {
    return normalizeImageReference(ref);
  } catch {
    return undefined;
  }
}
