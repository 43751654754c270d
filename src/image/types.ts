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
}
