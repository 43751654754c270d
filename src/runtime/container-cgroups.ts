/**
 * What a container sees of cgroups, as containerd's CRI asks runc for it (containerd internal/cri/server/
 * container_create.go and opts/spec_linux_opts.go; runc libcontainer/rootfs_linux.go, mountCgroupV1/V2):
 * - cgroup v2, not privileged: a cgroup namespace of its own, made once the process is in its leaf, so the leaf
 *   is the namespace's root (/proc/self/cgroup reads `0::/`), and cgroup2 mounted read-only at /sys/fs/cgroup
 *   from inside it: the container's own subtree, its own limits (memory.max ...) at the top.
 * - cgroup v2, privileged: no cgroup namespace (containerd: "for compatibility, cgroupns is not used when running
 *   in cgroup v1 mode or in privileged"), cgroup2 mounted read-write: the host's whole tree. Mounted from the
 *   host's cgroup namespace, a cgroup2 mount's options apply to the one superblock every cgroup2 mount shares
 *   (the kernel's apply_cgroup_root_flags), so the host mount's root options are repeated, or the mount would
 *   turn nsdelegate and friends off for the whole host (containerd copies them for that reason).
 * - cgroup v1: no cgroup namespace (containerd makes none on v1), so /proc/self/cgroup shows host paths; a tmpfs
 *   at /sys/fs/cgroup and in it each hierarchy the container has its own cgroup in, bound from that cgroup at
 *   /sys/fs/cgroup/<hierarchy> (read-only unless privileged), with a symlink per controller of a co-mounted
 *   hierarchy (cpu -> cpu,cpuacct), as runc's mountCgroupV1. One departure: runc makes the container a cgroup
 *   in every hierarchy the host has and binds them all; podns makes cgroups in the ones it manages (cpu,
 *   cpuacct, memory, pids, devices, freezer) and binds those: in the others (cpuset, blkio, name=systemd ...)
 *   the container is in its supervisor's cgroup, which is not the container's to look at.
 * No cgroup layout (a sandbox without cgroups): nothing, /sys/fs/cgroup stays sysfs's empty directory.
 */
import path from 'node:path';
import { MS, type MountStep } from '../kernel/types.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import { mountOf, parseMountInfo } from './mount-propagation.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline.
const fs = process.getBuiltinModule('node:fs');

export interface ContainerCgroups {
  /** A cgroup namespace of its own (SpawnRequest cloneFlags CLONE.NEWCGROUP: unshared once in its cgroup). */
  namespace: boolean;
  /** What goes on /sys/fs/cgroup, after /sys. */
  mounts: MountStep[];
}

/** What the plan needs to know of the host, injected so that unit tests need none. */
export interface CgroupHostView {
  /** A v1 hierarchy's mount point with symlinks resolved (`/sys/fs/cgroup/cpu` → `.../cpu,cpuacct` where co-mounted). */
  realpath(p: string): string;
  /** The super options of the host's cgroup2 mount at `mountPoint` (`rw`, `nsdelegate`, ...). */
  cgroup2Options(mountPoint: string): string[];
}

const TARGET = '/sys/fs/cgroup';
/** runc's defaultMountFlags, with containerd's relatime on the cgroup mount. */
const FLAGS = MS.NOSUID | MS.NOEXEC | MS.NODEV;
/** The cgroup2 options that set the root's behaviour for everybody (kernel/cgroup/cgroup.c, apply_cgroup_root_flags). */
const CGROUP2_ROOT_OPTIONS = new Set(['nsdelegate', 'favordynmods', 'memory_localevents', 'memory_recursiveprot', 'memory_hugetlb_accounting', 'pids_localevents']);

/** The plan for a container in leaf `leaf` of `layout`; pure given `host`. */
export function planContainerCgroups(layout: CgroupLayout, leaf: string, privileged: boolean, host: CgroupHostView): ContainerCgroups {
  const readonly = privileged ? 0 : MS.RDONLY;
  const inRoot = (m: MountStep): MountStep => ({ inRootfs: true, ...m });
  if (layout.version === 2) {
    const namespace = !privileged;
    const mountPoint = Object.values(layout.mounts)[0]!;
    const options = namespace ? [] : host.cgroup2Options(mountPoint).filter((o) => CGROUP2_ROOT_OPTIONS.has(o));
    return {
      namespace,
      mounts: [inRoot({ source: 'cgroup', target: TARGET, fstype: 'cgroup2', flags: FLAGS | MS.RELATIME | readonly, ...(options.length ? { data: options.join(',') } : {}) })],
    };
  }
  const mounts: MountStep[] = [inRoot({ source: 'tmpfs', target: TARGET, fstype: 'tmpfs', flags: FLAGS, data: 'mode=755' })];
  const seen = new Set<string>();
  for (const hierarchy of Object.keys(layout.mounts)) {
    const name = path.basename(host.realpath(layout.mounts[hierarchy]!));
    if (seen.has(name)) continue; // cpu and cpuacct of one co-mounted hierarchy
    seen.add(name);
    mounts.push(
      inRoot({
        source: path.join(layout.mounts[hierarchy]!, layout.pod[hierarchy]!, leaf),
        target: `${TARGET}/${name}`,
        flags: MS.BIND | MS.REC,
        create: 'dir',
        remountFlags: FLAGS | readonly,
      }),
    );
    if (name.includes(',')) {
      for (const controller of name.split(',')) mounts.push(inRoot({ kind: 'symlink', source: name, target: `${TARGET}/${controller}` }));
    }
  }
  return { namespace: false, mounts };
}

/** planContainerCgroups against this host: its v1 mount points as they resolve, its cgroup2 mount's options. */
export function containerCgroups(layout: CgroupLayout, leaf: string, privileged: boolean): ContainerCgroups {
  return planContainerCgroups(layout, leaf, privileged, {
    realpath: (p) => fs.realpathSync(p),
    cgroup2Options: (mountPoint) => mountOf(mountPoint, parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')))?.superOptions ?? [],
  });
}
