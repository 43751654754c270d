/**
 * Reads image archives: an OCI image layout in a tar (image-spec image-layout.md: `oci-layout`,
 * `index.json`, `blobs/<alg>/<hex>`) or a `docker save` archive (`manifest.json` with Config, RepoTags,
 * Layers). Docker 25+ writes both; the OCI index wins then. The archive is extracted (guarded, tar-extract.ts)
 * into a scratch dir first; every path it names is resolved and must stay inside that dir, and OCI blobs are
 * checked against their digests before anything is trusted.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../sys/command.js';
import { PodnsError, UserError, fromNodeError } from '../errors.js';
import { hashFile, hashString } from './digest.js';
import { extractTar } from './tar-extract.js';

const STEP = 'image.readArchive';

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** Annotation keys that name an image in an OCI index, most specific first. */
const NAME_ANNOTATIONS = ['io.containerd.image.name', 'org.opencontainers.image.ref.name'];

export interface ArchiveLayer {
  /** Path of the layer blob inside the scratch dir. */
  file: string;
  /** Hex sha256 of the blob as stored (compressed for OCI, plain tar for docker save). */
  hex: string;
  /** False when the digest was taken from the descriptor and the blob not yet hashed. */
  verified: boolean;
}

export interface ArchiveImage {
  /** Names as written in the archive, not yet normalised; may be empty. */
  names: string[];
  /** `sha256:<hex>` of the config blob. */
  id: string;
  /** The parsed image config JSON. */
  config: unknown;
  layers: ArchiveLayer[];
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

/** Extracts `archive` into `scratch` and describes the images in it. */
export async function readImageArchive(runner: CommandRunner, archive: string, scratch: string): Promise<ArchiveImage[]> {
  await extractTar(runner, { file: archive }, scratch, { what: `image archive "${archive}"`, tarFlags: ['--no-same-owner'], step: STEP });
  const root = await realpath(scratch);
  if (await exists(path.join(root, 'index.json'))) return readOciLayout(root, archive);
  if (await exists(path.join(root, 'manifest.json'))) return readDockerArchive(root, archive);
  throw new UserError('EBADARCHIVE', `"${archive}" is neither an OCI image layout (index.json) nor a docker save archive (manifest.json)`);
}

async function readOciLayout(root: string, archive: string): Promise<ArchiveImage[]> {
  const index = (await readJson(root, 'index.json')) as { manifests?: Descriptor[] };
  const byManifest = new Map<string, ArchiveImage>();
  for (const desc of index.manifests ?? []) {
    const manifestDesc = await resolveManifest(root, desc);
    let image = byManifest.get(manifestDesc.digest);
    if (!image) {
      const manifest = JSON.parse((await readBlob(root, manifestDesc)).toString('utf8')) as {
        config?: Descriptor;
        layers?: Descriptor[];
      };
      if (!manifest.config) throw badArchive(archive, `manifest ${manifestDesc.digest} has no config`);
      const configBytes = await readBlob(root, manifest.config);
      const layers: ArchiveLayer[] = [];
      for (const layer of manifest.layers ?? []) {
        const file = await blobPath(root, layer.digest);
        layers.push({ file, hex: layer.digest.slice('sha256:'.length), verified: false });
      }
      image = { names: [], id: manifest.config.digest, config: JSON.parse(configBytes.toString('utf8')), layers };
      byManifest.set(manifestDesc.digest, image);
    }
    const name = NAME_ANNOTATIONS.map((key) => desc.annotations?.[key]).find((v) => v !== undefined && v !== '');
    if (name !== undefined && !image.names.includes(name)) image.names.push(name);
  }
  return [...byManifest.values()];
}

/** Follows an image index (multi-platform) down to the manifest for this machine. */
async function resolveManifest(root: string, desc: Descriptor, depth = 0): Promise<Descriptor> {
  if (!INDEX_TYPES.has(desc.mediaType ?? '')) return desc;
  if (depth > 4) throw new PodnsError(STEP, `image index ${desc.digest} nests too deeply`);
  const nested = JSON.parse((await readBlob(root, desc)).toString('utf8')) as { manifests?: Descriptor[] };
  const arch = ociArchitecture(process.arch);
  const candidates = nested.manifests ?? [];
  const match =
    candidates.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
    (candidates.length === 1 ? candidates[0] : undefined);
  if (!match) throw new UserError('ENOPLATFORM', `image index ${desc.digest} has no linux/${arch} image`);
  return resolveManifest(root, match, depth + 1);
}

async function readDockerArchive(root: string, archive: string): Promise<ArchiveImage[]> {
  const manifest = (await readJson(root, 'manifest.json')) as Array<{
    Config?: string;
    RepoTags?: string[] | null;
    Layers?: string[];
  }>;
  if (!Array.isArray(manifest)) throw badArchive(archive, 'manifest.json is not a list');
  const images: ArchiveImage[] = [];
  for (const entry of manifest) {
    if (typeof entry.Config !== 'string') throw badArchive(archive, 'manifest.json entry has no Config');
    const configBytes = await readFileInside(root, entry.Config);
    const layers: ArchiveLayer[] = [];
    for (const rel of entry.Layers ?? []) {
      const file = await resolveInside(root, rel);
      // docker save layers are plain tars, so this is also the layer's diff_id.
      layers.push({ file, hex: await hashFile(file, STEP), verified: true });
    }
    images.push({
      names: (entry.RepoTags ?? []).filter((t) => typeof t === 'string'),
      id: `sha256:${hashString(configBytes)}`,
      config: JSON.parse(configBytes.toString('utf8')),
      layers,
    });
  }
  return images;
}

/** Reads a small blob (manifest, index, config) and checks its digest. */
async function readBlob(root: string, desc: Descriptor): Promise<Buffer> {
  const file = await blobPath(root, desc.digest);
  const bytes = await readFile(file).catch((err: unknown) => {
    throw fromNodeError(STEP, err, `read blob ${desc.digest}`);
  });
  if (`sha256:${hashString(bytes)}` !== desc.digest) {
    throw new PodnsError(STEP, `blob ${desc.digest} does not match its digest`);
  }
  return bytes;
}

/** Hashes a layer blob taken from a descriptor and fails if it is not what the manifest promised. */
export async function verifyLayer(layer: ArchiveLayer): Promise<void> {
  if (layer.verified) return;
  const actual = await hashFile(layer.file, STEP);
  if (actual !== layer.hex) throw new PodnsError(STEP, `layer blob sha256:${layer.hex} does not match its digest (got sha256:${actual})`);
  layer.verified = true;
}

async function blobPath(root: string, digest: string): Promise<string> {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest ?? '');
  if (!m) throw new PodnsError(STEP, `unsupported or malformed digest "${digest}" (only sha256 is supported)`);
  return resolveInside(root, `blobs/sha256/${m[1]}`);
}

/** Resolves `rel` (following symlinks, which docker save uses for repeated layers) and keeps it inside root. */
async function resolveInside(root: string, rel: string): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(path.resolve(root, rel));
  } catch (err) {
    throw fromNodeError(STEP, err, `archive entry "${rel}"`);
  }
  if (!resolved.startsWith(root + path.sep)) throw new PodnsError(STEP, `archive entry "${rel}" points outside the archive`);
  return resolved;
}

async function readFileInside(root: string, rel: string): Promise<Buffer> {
  const file = await resolveInside(root, rel);
  try {
    return await readFile(file);
  } catch (err) {
    throw fromNodeError(STEP, err, `read archive entry "${rel}"`);
  }
}

async function readJson(root: string, rel: string): Promise<unknown> {
  const bytes = await readFileInside(root, rel);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new PodnsError(STEP, `archive entry "${rel}" is not valid JSON`, { cause: err });
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function badArchive(archive: string, why: string): UserError {
  return new UserError('EBADARCHIVE', `"${archive}": ${why}`);
}

/** Node's process.arch -> the GOARCH names OCI platforms use. */
export function ociArchitecture(arch: string): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[arch] ?? arch;
}
