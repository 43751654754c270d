/**
 * image/ owns the local image store: reference normalisation, reading OCI and docker archives, pulling from
 * registries (registry/: the distribution client; pull.ts), blobs by digest, unpacking layers (a guarded
 * single-pass tar extraction: tar-extract.ts; overlayfs whiteouts) into content-addressed directories, store
 * locks, and the per-name image records.
 * May import: sys (the CommandRunner seam), errors. Nothing above it.
 */
export { ImageStore } from './image-store.js';
export { pullImage, type PullOptions, type PullProgress, type PullResult } from './pull.js';
export { normalizeImageReference, parseImageReference, type ParsedReference } from './reference.js';
export type { ImageConfig, ImageRecord } from './types.js';
