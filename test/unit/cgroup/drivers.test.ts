/**
 * Both drivers against a temp directory standing in for cgroupfs (youki-style): detection, the parent below
 * the caller's own cgroup, the exact files each limit writes, and removal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupV1 } from '../../../src/cgroup/v1.js';
import { CgroupV2 } from '../../../src/cgroup/v2.js';
import { detectCgroups, parseProcCgroup, planLayout, resolveCgroupParent, V1_CONTROLLERS } from '../../../src/cgroup/layout.js';
import { containerLimits, DEFAULT_DEVICE_RULES, podLimits, sandboxLimits } from '../../../src/cgroup/resources.js';
import { buildDeviceFilter } from '../../../src/cgroup/device-filter.js';
import type { ContainerSpec } from '../../../src/manifest/types.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-cgfs-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const rmTree = (dir: string) => fs.rmSync(dir, { recursive: true });
const read = (...p: string[]) => fs.readFileSync(path.join(root, ...p), 'utf8');
const hog: ContainerSpec = {
  name: 'hog',
  image: 'busybox',
  env: [],
  ports: [],
  volumeMounts: [],
  resources: { limits: { cpu: 0.2, memory: 32 * 2 ** 20 }, requests: { cpu: 0.2, memory: 32 * 2 ** 20 } },
};

function fakeV1(memsw: boolean): void {
  for (const c of V1_CONTROLLERS) {
    fs.mkdirSync(path.join(root, c));
    fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '');
  }
  if (memsw) fs.writeFileSync(path.join(root, 'memory', 'memory.memsw.limit_in_bytes'), '');
  fs.mkdirSync(path.join(root, 'unified')); // a hybrid host's cgroup2 mount: not v2
}

describe('layout', () => {
  it('detects v2 by cgroup.controllers at the root, v1 by per-controller hierarchies', () => {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpu memory pids\n');
    expect(detectCgroups(root)).toEqual({ version: 2, mounts: { unified: root } });
    fs.rmSync(path.join(root, 'cgroup.controllers'));
    fakeV1(false);
    expect(detectCgroups(root).version).toBe(1);
    expect(Object.keys(detectCgroups(root).mounts)).toEqual([...V1_CONTROLLERS]);
  });

  it('nests a relative parent below the caller\'s own cgroup in each hierarchy; an absolute one is the same everywhere', () => {
    const self = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n');
    expect(self).toEqual({ 'name=systemd': '/', memory: '/process_api/abc', cpu: '/', cpuacct: '/', unified: '/' });
    const host = { version: 1 as const, mounts: { cpu: '/c', memory: '/m' } };
    expect(resolveCgroupParent('podns-kt', host, self)).toEqual({ cpu: '/podns-kt', memory: '/process_api/abc/podns-kt' });
    expect(resolveCgroupParent('/podns', host, self)).toEqual({ cpu: '/podns', memory: '/podns' });
    expect(planLayout(host, { cpu: '/podns', memory: '/x/podns' }, 'web', ['nginx'])).toEqual({
      version: 1,
      mounts: { cpu: '/c', memory: '/m' },
      pod: { cpu: '/podns/web', memory: '/x/podns/web' },
      leaves: ['pause', 'ctr-nginx'],
    });
  });
});

describe('cgroup v1 driver', () => {
  it('plans runc\'s v1 writes in order: shares, period, quota, memory + memsw, pids, devices', () => {
    fakeV1(true);
    const host = detectCgroups(root);
    const driver = new CgroupV1(planLayout(host, resolveCgroupParent('/podns', host, {}), 'p', ['hog']));
    expect(driver.swapAccounting).toBe(true);
    expect(driver.planWrites(containerLimits(hog, false)).map((w) => `${w.hierarchy}/${w.file}=${w.value}`)).toEqual([
      'cpu/cpu.shares=204',
      'cpu/cpu.cfs_period_us=100000',
      'cpu/cpu.cfs_quota_us=20000',
      'memory/memory.limit_in_bytes=33554432',
      'memory/memory.memsw.limit_in_bytes=33554432',
      'devices/devices.deny=a',
      'devices/devices.allow=c *:* m',
      'devices/devices.allow=b *:* m',
      'devices/devices.allow=c 1:3 rwm',
      'devices/devices.allow=c 1:5 rwm',
      'devices/devices.allow=c 1:7 rwm',
      'devices/devices.allow=c 1:8 rwm',
      'devices/devices.allow=c 1:9 rwm',
      'devices/devices.allow=c 5:0 rwm',
      'devices/devices.allow=c 5:1 rwm',
      'devices/devices.allow=c 5:2 rwm',
      'devices/devices.allow=c 136:* rwm',
      'devices/devices.allow=c 10:200 rwm',
    ]);
  });

  it('without swap accounting sets memory.swappiness to 0 instead', () => {
    fakeV1(false);
    const host = detectCgroups(root);
    const driver = new CgroupV1(planLayout(host, resolveCgroupParent('/podns', host, {}), 'p', ['hog']));
    const writes = driver.planWrites({ memoryLimit: 1000, noSwap: true }).map((w) => `${w.file}=${w.value}`);
    expect(writes).toEqual(['memory.limit_in_bytes=1000', 'memory.swappiness=0']);
  });

  it('creates the pod cgroup and leaves in every hierarchy with their files, and removes them all', async () => {
    fakeV1(true);
    const host = detectCgroups(root);
    const layout = planLayout(host, resolveCgroupParent('/podns', host, {}), 'p', ['hog']);
    const driver = new CgroupV1(layout, { removeDir: rmTree });
    driver.create(undefined, podLimits({ containers: [hog] }, 64));
    driver.create('pause', sandboxLimits());
    driver.create('ctr-hog', containerLimits(hog, false));
    expect(read('cpu/podns/p/cpu.cfs_quota_us')).toBe('20000');
    expect(read('pids/podns/p/pids.max')).toBe('64');
    expect(read('memory/podns/p/memory.limit_in_bytes')).toBe('33554432');
    expect(read('cpu/podns/p/pause/cpu.shares')).toBe('2');
    expect(read('cpu/podns/p/ctr-hog/cpu.shares')).toBe('204');
    expect(read('memory/podns/p/ctr-hog/memory.memsw.limit_in_bytes')).toBe('33554432');
    expect(fs.existsSync(path.join(root, 'devices/podns/p/devices.deny'))).toBe(false); // the pod allows all: privileged children may exist
    // v1: the tasks files (the single-threaded new process moves its one thread; no threadgroup lock).
    expect(driver.procsFiles('ctr-hog')).toEqual(V1_CONTROLLERS.map((c) => path.join(root, c, 'podns/p/ctr-hog/tasks')));
    await driver.remove();
    for (const c of V1_CONTROLLERS) expect(fs.existsSync(path.join(root, c, 'podns/p'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'cpu/podns'))).toBe(true); // the parent stays, like kubepods
  });

  it('the parents made for a pod go with it once empty; one another pod still uses, or one that was there before, stays', async () => {
    fakeV1(true);
    const host = detectCgroups(root);
    const pod = (name: string, parent: string) => {
      const layout = planLayout(host, resolveCgroupParent(parent, host, {}), name, []);
      const driver = new CgroupV1(layout, { removeDir: rmTree });
      layout.createdParents = driver.missingParents();
      driver.create(undefined, podLimits({ containers: [hog] }, 64));
      return { layout, driver };
    };
    const a = pod('a', '/mine/pods');
    expect(a.layout.createdParents!.cpu).toEqual([path.join(root, 'cpu/mine'), path.join(root, 'cpu/mine/pods')]);
    const b = pod('b', '/mine/pods');
    expect(b.layout.createdParents).toEqual({}); // a made them
    await a.driver.remove();
    expect(fs.existsSync(path.join(root, 'cpu/mine/pods/b'))).toBe(true); // b's parent stays while b is there
    await b.driver.remove();
    expect(fs.existsSync(path.join(root, 'cpu/mine/pods'))).toBe(true); // b did not make it: another pod's to take
    fs.mkdirSync(path.join(root, 'memory/admin'), { recursive: true });
    const c = pod('c', '/admin');
    expect(c.layout.createdParents!.memory).toBeUndefined();
    expect(c.layout.createdParents!.cpu).toEqual([path.join(root, 'cpu/admin')]);
    await c.driver.remove();
    expect(fs.existsSync(path.join(root, 'memory/admin'))).toBe(true); // an administrator's parent is never removed
    expect(fs.existsSync(path.join(root, 'cpu/admin'))).toBe(false);
  });

  it('reads stats and OOM kills from the v1 files', () => {
    fakeV1(true);
    const host = detectCgroups(root);
    const driver = new CgroupV1(planLayout(host, { cpu: '/', cpuacct: '/', memory: '/', pids: '/', devices: '/', freezer: '/' }, 'p', ['hog']));
    driver.create('ctr-hog', {});
    const leaf = (c: string, f: string, v: string) => fs.writeFileSync(path.join(root, c, 'p/ctr-hog', f), v);
    leaf('cpuacct', 'cpuacct.usage', '2000000000\n');
    leaf('memory', 'memory.usage_in_bytes', '5000\n');
    leaf('memory', 'memory.stat', 'cache 10\ntotal_inactive_file 1000\n');
    leaf('memory', 'memory.limit_in_bytes', '9223372036854771712\n');
    leaf('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    leaf('pids', 'pids.current', '3\n');
    expect(driver.stats('ctr-hog')).toEqual({ cpuUsageNs: 2e9, memoryUsage: 5000, memoryWorkingSet: 4000, memoryLimit: undefined, pids: 3, oomKills: 1 });
    expect(driver.oomKills('ctr-hog')).toBe(1);
  });

  it('retries a cgroup that is busy for a moment, and gives up with the path and errno', async () => {
    fakeV1(false);
    const host = detectCgroups(root);
    const layout = planLayout(host, resolveCgroupParent('/podns', host, {}), 'p', []);
    let busy = 2;
    const driver = new CgroupV1(layout, {
      removeDir: (dir) => {
        if (busy-- > 0) throw Object.assign(new Error('busy'), { code: 'EBUSY', errno: -16, syscall: 'rmdir' });
        rmTree(dir);
      },
      sleep: async () => {},
    });
    driver.create(undefined, {});
    await driver.remove();
    expect(fs.existsSync(path.join(root, 'cpu/podns/p'))).toBe(false);

    driver.create(undefined, {});
    const stuck = new CgroupV1(layout, { removeDir: () => { throw Object.assign(new Error('busy'), { code: 'EBUSY', errno: -16, syscall: 'rmdir' }); }, sleep: async () => {} });
    await expect(stuck.remove(0)).rejects.toThrow(/remove cgroup ".*\/cpu\/podns\/p": device or resource busy \(EBUSY\)/);
  });
});

describe('cgroup v2 driver', () => {
  function v2Layout() {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma\n');
    fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
    const host = detectCgroups(root);
    return planLayout(host, resolveCgroupParent('/podns', host, { unified: '/' }), 'p', ['hog']);
  }

  it('writes cpu.weight by the new formula, cpu.max, memory.max, memory.swap.max 0, pids.max', () => {
    const driver = new CgroupV2(v2Layout());
    expect(driver.planWrites(containerLimits(hog, false)).map((w) => `${w.file}=${w.value}`)).toEqual([
      'cpu.weight=29',
      'cpu.max=20000 100000',
      'memory.max=33554432',
      'memory.swap.max=0',
    ]);
    expect(driver.planWrites(podLimits({ containers: [hog] }, 4096)).map((w) => `${w.file}=${w.value}`)).toContain('pids.max=4096');
    // 100m, 250m, 500m, 1 and 2 CPUs requested:
    const weights = [0.1, 0.25, 0.5, 1, 2].map(
      (cpu) => driver.planWrites(containerLimits({ ...hog, resources: { limits: {}, requests: { cpu } } }, true))[0]!.value,
    );
    expect(weights).toEqual(['17', '35', '59', '100', '174']);
  });

  it('enables cpu, memory and pids top-down before making children; one cgroup.procs per leaf', async () => {
    const attached: [string, Buffer][] = [];
    const driver = new CgroupV2(v2Layout(), { removeDir: rmTree, attachDeviceFilter: (dir, program) => attached.push([dir, program]) });
    driver.create(undefined, podLimits({ containers: [hog] }, 100));
    driver.create('ctr-hog', containerLimits(hog, false));
    expect(read('cgroup.subtree_control')).toBe('+cpu +memory +pids');
    expect(read('podns/cgroup.subtree_control')).toBe('+cpu +memory +pids');
    expect(read('podns/p/cgroup.subtree_control')).toBe('+cpu +memory +pids');
    expect(read('podns/p/pids.max')).toBe('100');
    expect(read('podns/p/ctr-hog/cpu.max')).toBe('20000 100000');
    expect(read('podns/p/ctr-hog/memory.swap.max')).toBe('0');
    // No devices files on v2: the container's leaf gets a BPF device program instead (the pod cgroup none).
    expect(fs.existsSync(path.join(root, 'podns/p/ctr-hog/devices.deny'))).toBe(false);
    expect(attached.map(([dir]) => dir)).toEqual([path.join(root, 'podns/p/ctr-hog')]);
    expect(attached[0]![1]).toEqual(buildDeviceFilter(DEFAULT_DEVICE_RULES));
    expect(driver.procsFiles('ctr-hog')).toEqual([path.join(root, 'podns/p/ctr-hog/cgroup.procs')]);
    fs.writeFileSync(path.join(root, 'podns/p/ctr-hog/memory.events'), 'low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n');
    expect(driver.oomKills('ctr-hog')).toBe(1);
    await driver.remove();
    expect(fs.existsSync(path.join(root, 'podns/p'))).toBe(false);
  });

  it('refuses a device policy it cannot apply', () => {
    const driver = new CgroupV2(v2Layout());
    expect(() => driver.create('ctr-hog', containerLimits(hog, false))).toThrow(/no way to attach a device program/);
  });

  it('kills through cgroup.kill and waits for the cgroup to empty', async () => {
    const driver = new CgroupV2(v2Layout(), { removeDir: rmTree, sleep: async () => {} });
    driver.create(undefined, {});
    fs.writeFileSync(path.join(root, 'podns/p/cgroup.kill'), '');
    await driver.killAll(100);
    expect(read('podns/p/cgroup.kill')).toBe('1');
  });
});
