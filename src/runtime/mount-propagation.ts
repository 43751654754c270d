/**
 * The propagation of the host mount a path lies on, from /proc/self/mountinfo's optional fields (shared:N,
 * master:N), for containerd's check before a HostToContainer mount: a source on a private mount would never
 * pass the host's later mounts on, whatever the container's side asks for.
 */
import fs from 'node:fs';
import { PodnsError } from '../errors.js';

export type Propagation = 'shared' | 'slave' | 'private';

interface MountInfoLine {
  mountPoint: string;
  propagation: Propagation;
}

/** mountinfo's mount point (field 5, octal escapes decoded) and its propagation (the optional fields). */
export function parseMountInfo(text: string): MountInfoLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const sep = fields.indexOf('-');
      const optional = fields.slice(6, sep);
      const propagation: Propagation = optional.some((f) => f.startsWith('shared:')) ? 'shared' : optional.some((f) => f.startsWith('master:')) ? 'slave' : 'private';
      return { mountPoint: fields[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), propagation };
    });
}

/** The mount `path` (already resolved) lies on: the last listed with the longest mount point that contains it. */
export function mountOf(path: string, mounts: MountInfoLine[]): MountInfoLine | undefined {
  let best: MountInfoLine | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

function hostMountOf(source: string): MountInfoLine | undefined {
  let real: string;
  try {
    real = fs.realpathSync(source);
  } catch {
    real = source;
  }
  return mountOf(real, parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')));
}

/** Throws, in one line, unless `source` lies on a shared or slave host mount (containerd's ensureSharedOrSlave). */
export function ensureSharedOrSlave(source: string, what: string): void {
  const mount = hostMountOf(source);
  if (!mount || mount.propagation !== 'private') return;
  throw new PodnsError(
    'container.mountPropagation',
    `${what}: mountPropagation HostToContainer: "${source}" is on the mount "${mount.mountPoint}", which is private: the host's mounts there would never reach the container (make it shared: mount --make-rshared ${mount.mountPoint})`,
  );
}

/** Throws, in one line, unless `source` lies on a shared host mount (containerd's ensureShared, for Bidirectional). */
export function ensureShared(source: string, what: string): void {
  const mount = hostMountOf(source);
  if (!mount || mount.propagation === 'shared') return;
  throw new PodnsError(
    'container.mountPropagation',
    `${what}: mountPropagation Bidirectional: "${source}" is on the mount "${mount.mountPoint}", which is ${mount.propagation}: mounts made there would never reach the host (make it shared: mount --make-rshared ${mount.mountPoint})`,
  );
}

/** The host mount point a directory lies on (a Bidirectional container's rootfs: its parent mount is made private). */
export function mountPointOf(dir: string): string {
  return hostMountOf(dir)?.mountPoint ?? '/';
}
