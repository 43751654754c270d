import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../src/image/types.js';
import type { ContainerSpec, PodSpec } from '../../../src/manifest/types.js';
import { containerArgv, containerDirs, planContainerSpawn, planExecSpawn, planProcess, type ContainerPlanInput } from '../../../src/runtime/container-plan.js';
import { containerMounts } from '../../../src/kubelet/container-mounts.js';
import type { ContainerConfig } from '../../../src/runtime/records.js';
import { planConfinement } from '../../../src/security/confinement.js';
import { podPaths } from '../../../src/state/paths.js';
import { CLONE, MS } from '../../../src/kernel/types.js';

function image(config: ImageRecord['config'], layers: string[] = ['/l/0', '/l/1']): ImageRecord {
  return { name: 'docker.io/library/x:latest', id: 'sha256:x', layers, config, created: '', size: 0 };
}
const POD: PodSpec = {
  containers: [],
  volumes: [],
  shareProcessNamespace: false,
  terminationGracePeriodSeconds: 30,
  restartPolicy: 'Always',
  securityContext: { supplementalGroups: [], sysctls: [] },
};
const ID = { pod: 'p_default(u)', container: 'c' };
function container(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name: 'c', image: 'x', env: [], ports: [], volumeMounts: [], ...over };
}

describe('containerArgv follows Kubernetes command/args rules', () => {
  const img = image({ Entrypoint: ['/ep'], Cmd: ['cmd-arg'] });
  it.each([
    ['neither: Entrypoint + Cmd', {}, ['/ep', 'cmd-arg']],
    ['command only: replaces Entrypoint, Cmd ignored', { command: ['/bin/sh'] }, ['/bin/sh']],
    ['args only: Entrypoint + args', { args: ['a', 'b'] }, ['/ep', 'a', 'b']],
    ['both: command + args', { command: ['/x'], args: ['y'] }, ['/x', 'y']],
  ])('%s', (_name, over, expected) => {
    expect(containerArgv(container(over as Partial<ContainerSpec>), img)).toEqual(expected);
  });
  it('an image without Entrypoint and Cmd and no command is an error', () => {
    expect(() => planProcess(POD, container(), image({}, []), 'h', ID)).toThrow('container "c": no command specified');
  });
});

describe('the process environment', () => {
  const envOf = (c: ContainerSpec, img: ImageRecord) => planProcess(POD, c, img, 'pod', ID).env;
  it('image env, then the container env overriding by name, then HOSTNAME', () => {
    const env = envOf(container({ command: ['x'], env: [{ name: 'A', value: '2' }, { name: 'B', value: 'x' }] }), image({ Env: ['A=1', 'PATH=/bin'] }));
    expect(env).toEqual(expect.arrayContaining(['A=2', 'PATH=/bin', 'B=x', 'HOSTNAME=pod']));
    expect(env).not.toContain('A=1');
  });
  it('defaults PATH when the image has none', () => {
    expect(envOf(container({ command: ['x'] }), image({}))).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});

describe('planProcess resolves the image user from its passwd/group files', () => {
  const layer = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-user-'));
  afterAll(() => fs.rmSync(layer, { recursive: true, force: true }));
  fs.mkdirSync(path.join(layer, 'etc'));
  fs.writeFileSync(path.join(layer, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102:nginx:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(layer, 'etc/group'), 'root:x:0:\nnginx:x:102:\nadm:x:4:nginx\n');
  const cases: [string | undefined, { uid: number; gid: number; groups: number[] }][] = [
    [undefined, { uid: 0, gid: 0, groups: [0] }],
    ['nginx', { uid: 101, gid: 102, groups: [102, 4] }],
    ['101', { uid: 101, gid: 102, groups: [102, 4] }],
    ['1234', { uid: 1234, gid: 0, groups: [0] }],
    ['nginx:adm', { uid: 101, gid: 4, groups: [4] }],
    ['1000:2000', { uid: 1000, gid: 2000, groups: [2000] }],
  ];
  it.each(cases)('User %s', (user, expected) => {
    expect(planProcess(POD, container({ command: ['x'] }), image({ User: user }, [layer]), 'h', ID).user).toEqual(expected);
  });
  it('an unknown user name is an error naming the container', () => {
    expect(() => planProcess(POD, container({ command: ['x'] }), image({ User: 'ghost' }, [layer]), 'h', ID)).toThrow(
      'container "c": unable to find user ghost',
    );
  });
});

describe('planContainerSpawn', () => {
  const paths = podPaths({ run: '/r', lib: '/l', log: '/g', etc: '/e' }, 'p', 'default_p_u');
  const pod: PodSpec = {
    ...POD,
    volumes: [
      { name: 'logs', emptyDir: { medium: '' } },
      { name: 'host', hostPath: { path: '/srv/data', type: '' } },
    ],
  };
  const c = container({
    volumeMounts: [
      { name: 'logs', mountPath: '/var/log/app/sub', readOnly: false },
      { name: 'host', mountPath: '/data', readOnly: true, subPath: 'x' },
      { name: 'logs', mountPath: '/var/log', readOnly: false },
    ],
  });
  const proc = { argv: ['sh'], env: ['PATH=/bin:/usr/bin'], cwd: '/', user: { uid: 0, gid: 0, groups: [] }, confinement: planConfinement(POD, container()) };
  const config = (cs: ContainerSpec = c, ps: PodSpec = pod): ContainerConfig => ({
    name: cs.name,
    attempt: 0,
    image: { name: 'x', id: 'sha256:x', layers: ['/layers/a', '/layers/b'] },
    process: proc,
    mounts: containerMounts(cs, ps, paths),
    logPath: '/g/c/0.log',
    resources: {},
  });
  const plan = (over: Partial<ContainerPlanInput> = {}) =>
    planContainerSpawn({
      config: config(),
      dirs: containerDirs(paths, 'c.0'),
      etcDir: paths.etcDir,
      shmDir: paths.shmDir,
      namespaces: { holderPid: 42, sharePid: false },
      stdio: [0, 1, 2],
      ...over,
    });
  const req = plan();

  it("joins the pause's net/ipc/uts, and gets its own mount and PID namespaces when the PID namespace is not shared", () => {
    expect(req.joinNamespaces).toEqual({ net: '/proc/42/ns/net', ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts' });
    expect(req.cloneFlags).toBe(CLONE.NEWNS | CLONE.NEWPID);
  });
  it('in a user namespace: idmapped layers staged under the overlay, idmapped host binds, the user namespace joined', () => {
    const map = { uidBase: 65536 * 7, gidBase: 65536 * 7, size: 65536 };
    const own = plan({ userNamespace: { path: '/proc/42/ns/user', map } });
    expect(own.joinNamespaces?.user).toBe('/proc/42/ns/user');
    const dir = path.dirname(containerDirs(paths, 'c.0').rootfs);
    // Lowest layer first, each idmapped at its staging point; the overlay lists them top first.
    expect(own.mounts!.slice(0, 2)).toEqual([
      { source: '/layers/a', target: `${dir}/lower/0`, flags: MS.BIND, idmap: true },
      { source: '/layers/b', target: `${dir}/lower/1`, flags: MS.BIND, idmap: true },
    ]);
    expect(own.mounts![2]!.data).toBe(`lowerdir=${dir}/lower/1:${dir}/lower/0,upperdir=${dir}/upper,workdir=${dir}/work`);
    const byTarget = (t: string) => own.mounts!.find((m) => m.target === t)!;
    for (const t of ['/dev/shm', '/etc/hosts', '/data', '/var/log']) expect(byTarget(t).idmap, t).toBe(true);
    for (const t of ['/dev/null', '/proc']) expect(byTarget(t).idmap, t).toBeUndefined();
    expect(byTarget('/dev').data).toContain(`uid=${map.uidBase},gid=${map.gidBase}`);
    expect(byTarget('/dev/pts').data).toContain(`gid=${map.gidBase + 5}`);
    // Without one, nothing of this.
    expect(req.joinNamespaces?.user).toBeUndefined();
    expect(req.mounts!.some((m) => m.idmap)).toBe(false);
  });
  it('plans a process in the pod\'s user namespace, and refuses an ID it does not map', () => {
    const userns = { ...POD, hostUsers: false };
    expect(planProcess(userns, container({ command: ['sh'] }), image({}), 'h', ID).userNamespace).toBe(true);
    expect(planProcess({ ...POD, hostUsers: true }, container({ command: ['sh'] }), image({}), 'h', ID).userNamespace).toBeUndefined();
    expect(() => planProcess(userns, container({ command: ['sh'], securityContext: { runAsUser: 70000 } }), image({}), 'h', ID)).toThrow(
      'container "c": ID 70000 is outside the pod\'s user namespace (hostUsers: false maps 0-65535)',
    );
  });
  it('an exec joins the user namespace only of a container that has one', () => {
    expect(planExecSpawn(7, { ...proc, userNamespace: true }, ['sh'], [0, 1, 2]).joinNamespaces?.user).toBe('/proc/7/ns/user');
    expect(planExecSpawn(7, proc, ['sh'], [0, 1, 2]).joinNamespaces?.user).toBeUndefined();
  });
  it("joins the pause's PID namespace when shared", () => {
    const shared = plan({ namespaces: { holderPid: 42, sharePid: true } });
    expect(shared.joinNamespaces?.pid).toBe('/proc/42/ns/pid');
    expect(shared.cloneFlags).toBe(CLONE.NEWNS);
  });
  it('a cgroup namespace and /sys/fs/cgroup as planned: CLONE_NEWCGROUP asked for, the mounts right after /sys', () => {
    const cgroups = { namespace: true, mounts: [{ inRootfs: true, source: 'cgroup', target: '/sys/fs/cgroup', fstype: 'cgroup2', flags: MS.RDONLY }] };
    const own = plan({ cgroups });
    expect(own.cloneFlags).toBe(CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWPID);
    const targets = own.mounts!.map((m) => m.target);
    expect(targets[targets.indexOf('/sys') + 1]).toBe('/sys/fs/cgroup');
    const creates = plan({ cgroups, namespaces: { creates: { hostname: 'h', sysctls: [], host: { network: false, ipc: false, pid: false } } } });
    expect(creates.cloneFlags! & CLONE.NEWCGROUP).toBe(CLONE.NEWCGROUP);
    expect(plan({ cgroups: { namespace: false, mounts: [] } }).cloneFlags).toBe(CLONE.NEWNS | CLONE.NEWPID);
    expect(req.mounts!.some((m) => m.target === '/sys/fs/cgroup'), 'no layout: nothing on /sys/fs/cgroup').toBe(false);
  });
  it('mountPropagation: HostToContainer rslave, Bidirectional an rshared peer of the host mount; the root rslave, every other bind rprivate', () => {
    const mounts: ContainerConfig['mounts'] = [
      { hostPath: '/srv/follow', containerPath: '/follow', readonly: false, propagation: 'hostToContainer' },
      { hostPath: '/srv/csi', containerPath: '/csi', readonly: false, propagation: 'bidirectional' },
      { hostPath: '/srv/plain', containerPath: '/plain', readonly: false },
    ];
    const r = plan({ config: { ...config(), mounts } });
    expect(r.rootPropagation).toBe(MS.SLAVE);
    const at = (target: string) => r.mounts!.find((m) => m.target === target)!;
    expect(at('/follow')).toMatchObject({ propagation: MS.REC | MS.SLAVE });
    expect(at('/follow').bindAsPeer).toBeUndefined();
    expect(at('/csi')).toMatchObject({ source: '/srv/csi', flags: MS.BIND | MS.REC, propagation: MS.REC | MS.SHARED, bindAsPeer: true });
    expect(at('/plain')).toMatchObject({ propagation: MS.REC | MS.PRIVATE });
    expect(r.mounts!.filter((m) => m.bindAsPeer).map((m) => m.target)).toEqual(['/csi']);
  });
  it('makes the pod namespaces itself when it holds them (--infra=none)', () => {
    const creates = plan({ namespaces: { creates: { hostname: 'h', sysctls: [], host: { network: false, ipc: false, pid: false } } } });
    expect(creates.joinNamespaces).toBeUndefined();
    expect(creates.cloneFlags).toBe(CLONE.NEWNS | CLONE.NEWNET | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID);
    expect(creates).toMatchObject({ hostname: 'h', loopbackUp: true });
  });
  it('mounts the overlay first, top layer first in lowerdir, with the run\'s own upper and work dirs', () => {
    expect(req.mounts![0]).toEqual({
      source: 'overlay',
      target: '/l/pods/p/containers/c.0/rootfs',
      fstype: 'overlay',
      flags: MS.NODEV,
      data: 'lowerdir=/layers/b:/layers/a,upperdir=/l/pods/p/containers/c.0/upper,workdir=/l/pods/p/containers/c.0/work',
    });
    expect(req.rootfs).toBe('/l/pods/p/containers/c.0/rootfs');
  });
  it('has /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, read-only /sys, devices and the /etc files', () => {
    const byTarget = new Map(req.mounts!.map((m) => [m.target, m]));
    expect(byTarget.get('/proc')?.fstype).toBe('proc');
    expect(byTarget.get('/sys')!.flags! & MS.RDONLY).toBe(MS.RDONLY);
    expect(byTarget.get('/dev/shm')?.source).toBe('/l/pods/p/shm');
    for (const t of ['/dev', '/dev/pts', '/dev/mqueue', '/dev/null', '/dev/urandom', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) {
      expect(byTarget.has(t), t).toBe(true);
    }
    expect(byTarget.get('/dev/fd')).toMatchObject({ kind: 'symlink', source: '/proc/self/fd' });
  });
  it('mounts volumes parents first, subPath appended, readOnly as a read-only remount', () => {
    const volumes = req.mounts!.filter((m) => ['/var/log', '/var/log/app/sub', '/data'].includes(m.target));
    expect(volumes.map((m) => m.target)).toEqual(['/data', '/var/log', '/var/log/app/sub']);
    expect(volumes[0]).toMatchObject({ source: '/srv/data/x', remountFlags: MS.RDONLY | MS.NODEV });
    expect(volumes[1]).toMatchObject({ source: '/l/pods/p/volumes/logs', flags: MS.BIND | MS.REC, remountFlags: MS.NODEV });
  });
  it('a HostToContainer mount: the root rslave, the mount rslave, every other bind rprivate', () => {
    const mounts = [{ hostPath: '/srv/in', containerPath: '/in', readonly: false, propagation: 'hostToContainer' as const }];
    const slave = plan({ config: { ...config(), mounts } });
    expect(slave.rootPropagation).toBe(MS.SLAVE);
    expect(slave.mounts!.find((m) => m.target === '/in')?.propagation).toBe(MS.REC | MS.SLAVE);
    expect(slave.mounts!.find((m) => m.target === '/etc/hosts')?.propagation).toBe(MS.REC | MS.PRIVATE);
  });
  it('binds the termination-log file at terminationMessagePath', () => {
    expect(req.mounts!.find((m) => m.target === '/dev/termination-log')).toMatchObject({ source: '/l/pods/p/containers/c/termination-log', remountFlags: MS.NODEV });
  });
  it('searches the command in the container PATH', () => {
    expect(req.searchPath).toBe('/bin:/usr/bin');
  });
  it('mounts downwardAPI and projected volumes read-only, as kubelet mounts API data, with the expanded subPathExpr', () => {
    const apiPod: PodSpec = {
      ...POD,
      volumes: [
        { name: 'info', downwardAPI: { defaultMode: 0o644, items: [], files: [] } },
        { name: 'sa', projected: { defaultMode: 0o644, sources: [] } },
      ],
    };
    const api = container({
      volumeMounts: [
        { name: 'info', mountPath: '/etc/podinfo', readOnly: false },
        { name: 'sa', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: false, subPathExpr: '$(X)', subPath: 'x' },
      ],
    });
    const mounts = plan({ config: config(api, apiPod) }).mounts!;
    expect(mounts.find((m) => m.target === '/etc/podinfo')).toMatchObject({ source: '/l/pods/p/volumes/info', remountFlags: MS.RDONLY | MS.NODEV });
    expect(mounts.find((m) => m.target === '/var/run/secrets/kubernetes.io/serviceaccount')).toMatchObject({ source: '/l/pods/p/volumes/sa/x', remountFlags: MS.RDONLY | MS.NODEV });
  });
  it('refuses a subPathExpr that podns run did not expand (it would mount the volume root)', () => {
    const c2 = container({ volumeMounts: [{ name: 'logs', mountPath: '/logs', readOnly: false, subPathExpr: '$(POD)' }] });
    expect(() => containerMounts(c2, pod, paths)).toThrow('container "c": volume "logs": subPathExpr "$(POD)" was not expanded');
  });
});

describe('planExecSpawn', () => {
  it('joins every namespace of the container process, mount last, with its env, user and cwd', () => {
    const proc = { argv: ['x'], env: ['PATH=/sbin'], cwd: '/w', user: { uid: 5, gid: 6, groups: [7] }, confinement: planConfinement(POD, container()) };
    const req = planExecSpawn(99, proc, ['ps'], [0, 1, 2], ['TERM=xterm']);
    expect(Object.keys(req.joinNamespaces!)).toEqual(['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt']);
    expect(req.joinNamespaces!.mnt).toBe('/proc/99/ns/mnt');
    expect(req).toMatchObject({ cwd: '/w', user: proc.user, env: ['PATH=/sbin', 'TERM=xterm'], searchPath: '/sbin', argv: ['ps'], cloneFlags: 0 });
  });
});
