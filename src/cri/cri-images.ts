/**
 * runtime.v1's ImageService on podns's image store: one Image per image id with every name that points at it
 * (repo_tags) and the registry digests it was pulled by (repo_digests); PullImage with the credentials kubelet
 * passes (a pod's imagePullSecrets, resolved by kubelet), answering the image id as image_ref (what kubelet then
 * names in CreateContainer); RemoveImage idempotent, by name (that name only) or by id (every name); ImageFsInfo
 * from the store's records (the sizes measured when each image was unpacked) and its layer directories.
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { findImageRecord, IMAGE_ID_RE, listImageRecords } from '../image/image-records.js';
import { normalizeImageReference, parseImageReference } from '../image/reference.js';
import type { ImageRecord } from '../image/types.js';
import type { Logger } from '../log.js';
import { imagesDir, type Roots } from '../state/paths.js';
import { CriError, invalid } from './cri-error.js';
import type { ImageSpec } from './messages.js';
import type { UnaryHandler } from './services.js';

interface AuthConfig {
  username: string;
  password: string;
  auth: string;
  server_address: string;
  identity_token: string;
  registry_token: string;
}

/** `docker.io/library/nginx@sha256:…` for a record pulled by digest. */
function repoDigest(record: ImageRecord): string | undefined {
  return record.digest ? `${record.name.replace(/@.*$/, '').replace(/:[^/:@]+$/, '')}@${record.digest}` : undefined;
}

/** The image's user, as CRI splits it: a numeric uid, or a name. */
function userOf(record: ImageRecord): { uid: { value: string } | null; username: string } {
  const user = (record.config.User ?? '').split(':')[0] ?? '';
  if (/^\d+$/.test(user)) return { uid: { value: user }, username: '' };
  return { uid: null, username: user };
}

/** Every record of one id as one CRI Image. */
export function imageOf(records: ImageRecord[]): object {
  const first = records[0]!;
  const tags = records.filter((r) => !r.name.includes('@')).map((r) => r.name);
  const digests = [...new Set(records.map(repoDigest).filter((d): d is string => d !== undefined))];
  return {
    id: first.id,
    repo_tags: tags,
    repo_digests: digests,
    size: String(first.size),
    ...userOf(first),
    spec: { image: first.id, annotations: {}, user_specified_image: '', runtime_handler: '', image_ref: '' },
    pinned: false,
  };
}

/** CRI AuthConfig as the docker config object the registry client reads credentials from. */
export function dockerConfigOf(auth: AuthConfig | null | undefined, domain: string): unknown[] {
  if (!auth) return [];
  const entry = auth.username || auth.password ? { username: auth.username, password: auth.password } : auth.auth ? { auth: auth.auth } : undefined;
  if (!entry) {
    if (auth.identity_token || auth.registry_token) throw invalid('auth: identity_token and registry_token are not supported (give username and password, or auth)');
    return [];
  }
  const server = auth.server_address.replace(/^https?:\/\//, '').replace(/\/.*$/, '') || domain;
  return [{ auths: { [server]: entry } }];
}

/**
 * A failed pull as the CRI answers it: an image or tag the registry does not have is NOT_FOUND, refused
 * credentials UNAUTHENTICATED (containerd answers both with the registry's words too), a pull its client gave
 * up on CANCELLED; the rest as it is (UNKNOWN, the registry client's one-line message).
 */
function pullError(err: unknown, ref: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return new CriError('CANCELLED', `pull of "${ref}" cancelled by its client; no image was stored`);
  if (err instanceof UserError && err.code === 'EMANIFESTUNKNOWN') return new CriError('NOT_FOUND', err.message);
  if (err instanceof UserError && err.code === 'EAUTH') return new CriError('UNAUTHENTICATED', err.message);
  return err;
}

export class CriImages {
  private readonly store: string;

  constructor(
    private readonly roots: Roots,
    private readonly log: Logger,
  ) {
    this.store = imagesDir(roots);
  }

  private byId(): Map<string, ImageRecord[]> {
    const groups = new Map<string, ImageRecord[]>();
    for (const r of listImageRecords(this.store)) groups.set(r.id, [...(groups.get(r.id) ?? []), r]);
    return groups;
  }

  /**
   * The image `spec` names: by name, by (a prefix of) its id, or by a repo digest (`repo@sha256:…`) of an image
   * pulled by tag, as containerd finds it by any of the references ImageStatus lists.
   */
  private find(spec: ImageSpec | null): ImageRecord | undefined {
    if (!spec?.image) throw invalid('image.image is required');
    const found = findImageRecord(this.store, spec.image);
    if (found || !spec.image.includes('@')) return found;
    const wanted = normalizeImageReference(spec.image);
    return listImageRecords(this.store).find((r) => repoDigest(r) === wanted);
  }

  listImages(request: { filter: { image: ImageSpec | null } | null }): object {
    const wanted = request.filter?.image?.image ? this.find(request.filter.image)?.id : undefined;
    if (request.filter?.image?.image && !wanted) return { images: [] };
    const images = [...this.byId()].filter(([id]) => !wanted || id === wanted).map(([, records]) => imageOf(records));
    return { images };
  }

  imageStatus(request: { image: ImageSpec | null; verbose: boolean }): object {
    const record = this.find(request.image);
    if (!record) return { image: null, info: {} };
    const records = this.byId().get(record.id) ?? [record];
    return {
      image: imageOf(records),
      info: request.verbose ? { info: JSON.stringify({ layers: record.layers, config: record.config, source: record.source ?? null, created: record.created }) } : {},
    };
  }

  async pullImage(request: { image: ImageSpec | null; auth: AuthConfig | null }, signal?: AbortSignal): Promise<object> {
    if (!request.image?.image) throw invalid('image.image is required');
    const ref = request.image.image;
    const parsed = parseImageReference(ref);
    const [{ ImageStore }, { SpawnRunner }, { pullImage }] = await Promise.all([import('../image/image-store.js'), import('../sys/command.js'), import('../image/pull.js')]);
    const store = new ImageStore(this.store, new SpawnRunner());
    const t0 = Date.now();
    let record: ImageRecord;
    try {
      ({ record } = await pullImage(store, ref, { etcDir: this.roots.etc, pullSecrets: dockerConfigOf(request.auth, parsed.domain), signal }));
    } catch (err) {
      throw pullError(err, ref, signal);
    }
    this.log.info('CRI: image pulled', { image: record.name, id: record.id, ms: Date.now() - t0 });
    return { image_ref: record.id };
  }

  async removeImage(request: { image: ImageSpec | null }): Promise<object> {
    const record = this.find(request.image);
    if (!record) return {};
    const [{ ImageStore }, { SpawnRunner }] = await Promise.all([import('../image/image-store.js'), import('../sys/command.js')]);
    const store = new ImageStore(this.store, new SpawnRunner());
    // By id: every name of it goes (containerd's RemoveImage); by name: that name, and the image with its last.
    const names = IMAGE_ID_RE.test(request.image!.image) ? (this.byId().get(record.id) ?? [record]).map((r) => r.name) : [record.name];
    for (const name of names) {
      try {
        await store.remove(name);
      } catch (err) {
        // A concurrent RemoveImage took it first: removed is removed (critest calls it five times at once).
        if (!(err instanceof UserError && err.code === 'ENOIMAGE')) throw err;
      }
    }
    return {};
  }

  imageFsInfo(): object {
    const fs = process.getBuiltinModule('node:fs');
    const records = listImageRecords(this.store);
    const used = [...new Map(records.map((r) => [r.id, r.size])).values()].reduce((a, b) => a + b, 0);
    const layers = path.join(this.store, 'layers');
    let inodes = 0;
    try {
      inodes = fs.readdirSync(layers).length;
    } catch {
      // no layer yet
    }
    const usage = (mountpoint: string, bytes: number, inodesUsed: number) => ({
      timestamp: (BigInt(Date.now()) * 1_000_000n).toString(),
      fs_id: { mountpoint },
      used_bytes: { value: String(bytes) },
      inodes_used: { value: String(inodesUsed) },
    });
    // No container_filesystems: the containers' writable layers live on the same filesystem (kubelet then treats
    // the image filesystem as theirs too, as with containerd's default snapshotter).
    return { image_filesystems: [usage(this.store, used, inodes)], container_filesystems: [] };
  }

  handlers(): Record<string, UnaryHandler> {
    return {
      ListImages: (r) => this.listImages(r),
      ImageStatus: (r) => this.imageStatus(r),
      PullImage: (r, signal) => this.pullImage(r, signal),
      RemoveImage: (r) => this.removeImage(r),
      ImageFsInfo: () => this.imageFsInfo(),
    };
  }
}
