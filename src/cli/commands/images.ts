/** `podns images` (and `image ls`): the store's image records as a table, without loading the store itself. */
import { listImageRecords } from '../../image/image-records.js';
import type { ImageRecord } from '../../image/types.js';
import { imagesDir, type Roots } from '../../state/paths.js';
import { formatAge, formatColumns, humanSize } from '../columns.js';

export function listImages(roots: Roots): ImageRecord[] {
  return listImageRecords(imagesDir(roots));
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
