/**
 * Picks the image for this machine out of an image index (OCI image-index.md / Docker manifest list):
 * os linux and the host's architecture (GOARCH names), the variant when the host has one (arm64 → v8).
 * With none matching, the error lists what the index offers, as containerd's "no match for platform" does.
 */
import { UserError } from '../../errors.js';
import { ociArchitecture } from '../archive.js';
import type { Descriptor } from './media-types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function hostPlatform(): Platform {
  const architecture = ociArchitecture(process.arch);
  return { os: 'linux', architecture, variant: architecture === 'arm64' ? 'v8' : undefined };
}

export function formatPlatform(p: Partial<Platform> | undefined): string {
  return `${p?.os ?? '?'}/${p?.architecture ?? '?'}${p?.variant ? `/${p.variant}` : ''}`;
}

export function selectPlatform(manifests: Descriptor[], want: Platform, what: string): Descriptor {
  const fits = manifests.filter((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
  // An exact variant first; an entry without a variant fits any (arm64 images rarely say v8).
  const match = fits.find((m) => (m.platform?.variant ?? '') === (want.variant ?? '')) ?? fits.find((m) => !m.platform?.variant) ?? fits[0];
  if (match) return match;
  const offered = manifests.map((m) => formatPlatform(m.platform)).filter((p) => p !== 'unknown/unknown');
  throw new UserError(
    'ENOPLATFORM',
    `${what}: no image for ${formatPlatform(want)} in its index (it has: ${offered.length ? [...new Set(offered)].join(', ') : 'none'})`,
  );
}
