/** sha256 of files and bytes, in the `sha256:<hex>` form OCI descriptors use. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fromNodeError } from '../errors.js';

/** Hex sha256 of a file's bytes, streamed (layer blobs can be large). */
export async function hashFile(file: string, step: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    throw fromNodeError(step, err, `read "${file}"`);
  }
  return hash.digest('hex');
}

export function hashString(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
