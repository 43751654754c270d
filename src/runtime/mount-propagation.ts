/**
 * The propagation of the host mount a path lies on, from /proc/self/mountinfo's optional fields (shared:N,
 * master:N), for containerd's check before a HostToContainer mount: a source on a private mount would never
 * pass the host's later mounts on, whatever the container's side asks for.
 */
import fs from 'node:fs';
import { PodnsError } from '../errors.js';

export type Propagation = 'shared' | 'slave' | 'private';

export interface MountInfoLine {
  mountPoint: string;
  propagation: Propagation;
  fsType: string;
  /** The file system's own options (after the separator): `rw,nsdelegate,memory_recursiveprot` for a cgroup2. */
  superOptions: string[];
}

/**
 * mountinfo's mount point (field 5, octal escapes decoded), its propagation (the optional fields), and after
 * the separator the file system type and its super options.
 */
export function parseMountInfo(text: string): MountInfoLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const sep = fields.indexOf('-');
      const optional = fields.slice(6, sep);
      const propagation: Propagation = optional.some((f) => f.startsWith('shared:')) ? 'shared' : optional.some((f) => f.startsWith('master:')) ? 'slave' : 'private';
      return {
        mountPoint: fields[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
        propagation,
        fsType: fields[sep + 1] ?? '',
        superOptions: (fields[sep + 3] ?? '').split(',').filter(Boolean),
      };
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

/** The host mount `source` (symlinks resolved) lies on. */
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

/**
 * Throws, in one line, unless `source` lies on a shared host mount (containerd's ensureShared, before a
 * Bidirectional mount): from a private or slave one, nothing the container mounts would reach the host. As
 * containerd, podns never changes the host mount's propagation itself: which mounts the host shares is the
 * host's decision (systemd makes / shared at boot).
 */
export function ensureShared(source: string, what: string): void {
  const mount = hostMountOf(source);
  if (!mount || mount.propagation === 'shared') return;
  throw new PodnsError(
    'container.mountPropagation',
    `${what}: mountPropagation Bidirectional: "${source}" is on the mount "${mount.mountPoint}", which is ${mount.propagation === 'slave' ? 'a slave' : 'private'}: the container's mounts there would never reach the host (make it shared: mount --make-rshared ${mount.mountPoint})`,
  );
}

/** containerd's check for a mount's propagation: ensureSharedOrSlave or ensureShared; nothing for private. */
export function ensurePropagationSource(source: string, propagation: 'private' | 'hostToContainer' | 'bidirectional' | undefined, what: string): void {
  if (propagation === 'hostToContainer') ensureSharedOrSlave(source, what);
  else if (propagation === 'bidirectional') ensureShared(source, what);
}
