import { describe, expect, it } from 'vitest';
import { planContainerCgroups, type CgroupHostView } from '../../../src/runtime/container-cgroups.js';
import type { CgroupLayout } from '../../../src/cgroup/layout.js';
import { MS } from '../../../src/kernel/types.js';

const FLAGS = MS.NOSUID | MS.NOEXEC | MS.NODEV;
const v2: CgroupLayout = { version: 2, mounts: { unified: '/sys/fs/cgroup' }, pod: { unified: '/podns/web' }, leaves: ['pause', 'ctr-c'] };
const v1: CgroupLayout = {
  version: 1,
  mounts: { cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', memory: '/sys/fs/cgroup/memory' },
  pod: { cpu: '/podns/web', cpuacct: '/podns/web', memory: '/x/podns/web' },
  leaves: ['pause', 'ctr-c'],
};
const host = (over: Partial<CgroupHostView> = {}): CgroupHostView => ({
  realpath: (p) => p,
  cgroup2Options: () => ['rw', 'nsdelegate', 'memory_recursiveprot'],
  ...over,
});

describe('what a container sees of cgroups (containerd + runc)', () => {
  it('v2: a cgroup namespace of its own and cgroup2 read-only inside it, no host options needed', () => {
    expect(planContainerCgroups(v2, 'ctr-c', false, host())).toEqual({
      namespace: true,
      mounts: [{ inRootfs: true, source: 'cgroup', target: '/sys/fs/cgroup', fstype: 'cgroup2', flags: FLAGS | MS.RELATIME | MS.RDONLY }],
    });
  });

  it("v2 privileged: no namespace, cgroup2 read-write with the host mount's root options repeated (not rw and the like)", () => {
    const plan = planContainerCgroups(v2, 'ctr-c', true, host({ cgroup2Options: () => ['rw', 'nsdelegate', 'memory_recursiveprot', 'seclabel'] }));
    expect(plan.namespace).toBe(false);
    expect(plan.mounts).toEqual([{ inRootfs: true, source: 'cgroup', target: '/sys/fs/cgroup', fstype: 'cgroup2', flags: FLAGS | MS.RELATIME, data: 'nsdelegate,memory_recursiveprot' }]);
    expect(planContainerCgroups(v2, 'ctr-c', true, host({ cgroup2Options: () => ['rw'] })).mounts[0]!.data).toBeUndefined();
  });

  it("v1: no namespace; a tmpfs with each managed hierarchy bound from the container's own cgroup, read-only", () => {
    const plan = planContainerCgroups(v1, 'ctr-c', false, host());
    expect(plan.namespace).toBe(false);
    expect(plan.mounts).toEqual([
      { inRootfs: true, source: 'tmpfs', target: '/sys/fs/cgroup', fstype: 'tmpfs', flags: FLAGS, data: 'mode=755' },
      { inRootfs: true, source: '/sys/fs/cgroup/cpu/podns/web/ctr-c', target: '/sys/fs/cgroup/cpu', flags: MS.BIND | MS.REC, create: 'dir', remountFlags: FLAGS | MS.RDONLY },
      { inRootfs: true, source: '/sys/fs/cgroup/cpuacct/podns/web/ctr-c', target: '/sys/fs/cgroup/cpuacct', flags: MS.BIND | MS.REC, create: 'dir', remountFlags: FLAGS | MS.RDONLY },
      { inRootfs: true, source: '/sys/fs/cgroup/memory/x/podns/web/ctr-c', target: '/sys/fs/cgroup/memory', flags: MS.BIND | MS.REC, create: 'dir', remountFlags: FLAGS | MS.RDONLY },
    ]);
    expect(planContainerCgroups(v1, 'ctr-c', true, host()).mounts[1]!.remountFlags).toBe(FLAGS);
  });

  it('v1 with cpu and cpuacct mounted together: one bind, named as the hierarchy, and a symlink per controller (runc)', () => {
    const plan = planContainerCgroups(v1, 'ctr-c', false, host({ realpath: (p) => (/cpu/.test(p) ? '/sys/fs/cgroup/cpu,cpuacct' : p) }));
    expect(plan.mounts.map((m) => [m.kind ?? 'mount', m.target, m.source])).toEqual([
      ['mount', '/sys/fs/cgroup', 'tmpfs'],
      ['mount', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/cpu/podns/web/ctr-c'],
      ['symlink', '/sys/fs/cgroup/cpu', 'cpu,cpuacct'],
      ['symlink', '/sys/fs/cgroup/cpuacct', 'cpu,cpuacct'],
      ['mount', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/x/podns/web/ctr-c'],
    ]);
  });
});
