/**
 * Image references as the store keys them, normalised the way Docker does it (`nginx` ->
 * `docker.io/library/nginx:latest`), so every spelling of a name finds the same image. The grammar itself is
 * the manifest leaf's (../manifest/image-reference.ts), which refuses a bad `image` field at its file:line.
 */
import { UserError } from '../errors.js';
import { readImageReference, type ParsedReference } from '../manifest/image-reference.js';

export type { ParsedReference } from '../manifest/image-reference.js';

/** Parses and normalises `ref`; throws UserError('EBADREF') when it is not a valid reference. */
export function parseImageReference(ref: string): ParsedReference {
  const reading = readImageReference(ref);
  if (!reading.ok) throw new UserError('EBADREF', `invalid image reference "${ref}": ${reading.problem}`);
  return reading.parsed;
}

/** Docker's normal form: `nginx` -> `docker.io/library/nginx:latest`; keeps `@sha256:` digests. */
export function normalizeImageReference(ref: string): string {
  return formatImageReference(parseImageReference(ref));
}

export function formatImageReference(parsed: ParsedReference): string {
  return `${parsed.domain}/${parsed.path}${parsed.tag !== undefined ? `:${parsed.tag}` : ''}${parsed.digest !== undefined ? `@${parsed.digest}` : ''}`;
}
