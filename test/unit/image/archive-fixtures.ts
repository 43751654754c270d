/**
 * Builds small OCI-layout and `docker save` archives on disk with the real GNU tar, for the store tests.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExecaRunner } from '../../../src/sys/command.js';

const runner = new ExecaRunner();

/** Files of a layer: path -> content; a trailing '/' makes a directory. */
export type LayerSpec = Record<string, string>;

export async function writeTree(dir: string, spec: LayerSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(spec)) {
    const abs = path.join(dir, rel);
    if (rel.endsWith('/')) {
      await mkdir(abs, { recursive: true });
    } else {
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, content);
    }
  }
}

/** A tar of `spec` at `out` (gzip when out ends in .gz). */
export async function makeLayerTar(work: string, spec: LayerSpec, out: string): Promise<string> {
  const dir = `${out}.d`;
  await writeTree(dir, spec);
  const gzip = out.endsWith('.gz') ? ['-z'] : [];
  await runner.run(['tar', '-c', ...gzip, '-f', out, '-C', dir, '--numeric-owner', '--sort=name', '.'], { cwd: work });
  return out;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function putBlob(layout: string, bytes: Buffer | string): Promise<{ digest: string; size: number }> {
  const hex = sha256(bytes);
  await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(path.join(layout, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
}

export interface FixtureImage {
  /** Annotations put on the index entry. */
  annotations?: Record<string, string>;
  /** Paths of layer tars (gzip or plain), lowest first. */
  layers: string[];
  config?: Record<string, unknown>;
}

/** An OCI image layout holding `images`, tarred to `out`. */
export async function makeOciArchive(work: string, images: FixtureImage[], out: string): Promise<string> {
  const layout = path.join(work, `layout-${path.basename(out)}`);
  await mkdir(layout, { recursive: true });
  await writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifests = [];
  for (const image of images) {
    const layers = [];
    for (const file of image.layers) {
      const blob = await putBlob(layout, await readFile(file));
      const mediaType = file.endsWith('.gz') ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar';
      layers.push({ mediaType, ...blob });
    }
    const config = await putBlob(
      layout,
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-05-01T10:00:00Z',
        config: image.config ?? {},
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const manifest = await putBlob(
      layout,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers,
      }),
    );
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      annotations: image.annotations,
    });
  }
  await writeFile(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  await runner.run(['tar', '-c', '-f', out, '-C', layout, 'oci-layout', 'index.json', 'blobs']);
  return out;
}

/**
 * A `docker save` archive in the classic layout (`<id>/layer.tar`, `<config-hex>.json`, manifest.json); the
 * second use of a layer is a symlink, as docker writes it.
 */
export async function makeDockerArchive(
  work: string,
  image: { repoTags: string[] | null; layers: string[]; config?: Record<string, unknown> },
  out: string,
): Promise<string> {
  const dir = path.join(work, `docker-${path.basename(out)}`);
  await mkdir(dir, { recursive: true });
  const layerPaths: string[] = [];
  const seen = new Map<string, string>();
  for (const file of image.layers) {
    const bytes = await readFile(file);
    const hex = sha256(bytes);
    await mkdir(path.join(dir, hex), { recursive: true });
    const first = seen.get(hex);
    const rel = `${hex}/layer.tar`;
    if (first === undefined) {
      await writeFile(path.join(dir, rel), bytes);
      seen.set(hex, rel);
      layerPaths.push(rel);
    } else {
      const dup = `${hex}-dup`;
      await mkdir(path.join(dir, dup), { recursive: true });
      await symlink(`../${first}`, path.join(dir, dup, 'layer.tar'));
      layerPaths.push(`${dup}/layer.tar`);
    }
  }
  const configText = JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2023-01-02T03:04:05Z', config: image.config ?? {} });
  const configName = `${sha256(configText)}.json`;
  await writeFile(path.join(dir, configName), configText);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: image.repoTags, Layers: layerPaths }]));
  await runner.run(['tar', '-c', '-f', out, '-C', dir, '.']);
  return out;
}
