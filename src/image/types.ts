/**
 * What the runtime needs to know of an image: its layers (directories to stack with overlayfs, lowest
 * first) and the parts of its OCI config that shape the container process.
 */

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
}

export interface ImageRecord {
  /** Normalised reference, e.g. docker.io/library/nginx:latest. */
  name: string;
  /** sha256:<hex> of the image config blob (or of the imported tarball for `image import`). */
  id: string;
  /** Absolute paths of unpacked layer directories, lowest layer first. */
  layers: string[];
  config: ImageConfig;
  /** ISO time the image was created (from its config) or imported. */
  created: string;
  /** Bytes of the unpacked layers. */
  size: number;
  /** `sha256:<hex>` of the manifest the image was pulled by (what `podns images` shows as DIGEST). */
  digest?: string;
  /** Where it was pulled from (`127.0.0.1:5000` for a mirror), for `podns images`/inspect. */
  source?: string;
  /** Digests of the blobs kept for it in `blobs/sha256/` (manifest, config, layers); prune keeps these. */
  blobs?: string[];
}
