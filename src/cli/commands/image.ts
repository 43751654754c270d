/** `podns image import|load|rm|prune` (`rmi` is `image rm`): what changes the image store. */
import { ImageStore } from '../../image/image-store.js';
import { imagesDir, type Roots } from '../../state/paths.js';
import { SpawnRunner } from '../../sys/command.js';
import { UserError } from '../../errors.js';
import { listPods } from '../pod-lookup.js';

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
