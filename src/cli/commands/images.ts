/** `podns images` and `podns image import|load|rm`. */
import { ImageStore } from '../../image/image-store.js';
import type { ImageRecord } from '../../image/types.js';
import { imagesDir, type Roots } from '../../state/paths.js';
import { ExecaRunner } from '../../sys/command.js';
import { UserError } from '../../errors.js';
import { formatColumns } from '../columns.js';
import { listPods } from '../pod-lookup.js';
import { formatAge } from './ps.js';

export function openStore(roots: Roots): ImageStore {
  return new ImageStore(imagesDir(roots), new ExecaRunner());
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

function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

export function imagesTable(images: ImageRecord[]): string {
  const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  for (const image of images) {
    const at = image.name.lastIndexOf(':');
    const slash = image.name.lastIndexOf('/');
    const [repo, tag] = at > slash ? [image.name.slice(0, at), image.name.slice(at + 1)] : [image.name, '<none>'];
    rows.push([repo, tag, image.id.replace(/^sha256:/, '').slice(0, 12), formatAge(image.created), humanSize(image.size)]);
  }
  return formatColumns(rows);
}
