/**
 * image/ owns the local image store: reference normalisation, reading OCI and docker archives, unpacking
 * layers (with overlayfs whiteouts) into content-addressed directories, and the per-name image records.
 * No registry client yet. May import: sys (the CommandRunner seam), errors. Nothing above it.
 */
export { ImageStore } from './image-store.js';
export { normalizeImageReference, parseImageReference, type ParsedReference } from './reference.js';
export type { ImageConfig, ImageRecord } from './types.js';
