/** `podns images` and `podns image import|load|rm|prune` (`rmi` is `image rm`). */
import { ImageStore } from '../../image/image-store.js';
import type { ImageRecord } from '../../image/types.js';
import { imagesDir, type Roots } from '../../state/paths.js';
import { SpawnRunner } from '../../sys/command.js';
import { UserError } from '../../errors.js';
import { formatColumns, humanSize } from '../columns.js';
import { listPods } from '../pod-lookup.js';
import { formatAge } from './ps.js';

export function openStore(roots: Roots): ImageStore {
  return new ImageStore(imagesDir(roots), new SpawnRunner());
}

/** `image rm`: refused while a pod on disk uses the image, whose layers are its containers' lower dirs. */
export async function removeImage(roots: Roots, ref: string): Promise<void> {
  const store = openStore(roots);
  const image = await store.get(ref);
  if (image) {
    for (const { state } of listPods(roots)) {
      const user = state?.containers.find((c) => c.imageId === image.id && c.image === image.name);
      if (user) {
        throw new UserError('EINUSE', `image "${image.name}" is in use by pod "${state!.name}" (container "${user.name}"); remove the pod first`);
      }
    }
  }
  await store.remove(ref);
}

/** `image prune`: layers and blobs no image references, and what interrupted pulls left. */
export async function pruneImages(roots: Roots): Promise<string> {
  const result = await openStore(roots).prune();
  return `Deleted ${result.layers} layer(s), ${result.blobs} blob(s), ${result.temp} temp file(s)\n`;
}

export function imagesTable(images: ImageRecord[]): string {
  const rows = [['IMAGE', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']];
  for (const image of images) {
    // A digest-pulled image is named repo@sha256:...; its TAG is <none>.
    const base = image.name.split('@')[0]!;
    const at = base.lastIndexOf(':');
    const slash = base.lastIndexOf('/');
    const [repo, tag] = at > slash ? [base.slice(0, at), base.slice(at + 1)] : [base, '<none>'];
    const digest = image.digest ? image.digest.slice(0, 'sha256:'.length + 12) : '<none>';
    rows.push([repo, tag, digest, image.id.replace(/^sha256:/, '').slice(0, 12), formatAge(image.created), humanSize(image.size)]);
  }
  return formatColumns(rows);
}
