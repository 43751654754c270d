/**
 * Pods in cgroups (issue 6), with whichever driver the host needs (v1 here; v2 in the VM of scripts/vm-test.sh):
 * the files podns writes match the manifest, a memory hog is OOMKilled (137), a CPU hog is held to its quota, a
 * fork bomb stops at the pod's pids limit, the device cgroup refuses devices off runc's list (EPERM), and
 * teardown leaves no cgroup, also after the supervisor was SIGKILLed. Every cgroup is below this test process's own
 * cgroup (harness.ts sets PODNS_CGROUP_PARENT to a relative path). Requires: root, cgroup v1 (cpu, cpuacct,
 * memory, pids, devices, freezer) or v2 (cpu, memory, pids), the native build, dist/, the test images.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../src/cgroup/layout.js';
import { createPodns, findLeaks, inspect, kernelSkip, killSupervisor, podName, sleep, testCgroupParents, waitFor, type Podns } from './harness.js';
import { BUSYBOX } from './support.js';

const version = kernelSkip ? 0 : detectCgroups(process.env.PODNS_CGROUP_ROOT ?? '/sys/fs/cgroup').version;
const v1 = version === 1;
/** Under TCG emulation (scripts/vm-test.sh) everything is 10-15x slower. */
const slow = process.env.PODNS_VM === '1' ? 10 : 1;

interface Layout {
  version: number;
  mounts: Record<string, string>;
  pod: Record<string, string>;
}

describe.skipIf(kernelSkip)(`pod cgroups (v${version})`, () => {
  let podns: Podns;
  const pods: string[] = [];

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    for (const pod of pods) await podns.run(['rm', '-f', pod]);
    expect(findLeaks(podns.root, pods)).toEqual([]);
    await podns.dispose();
  });

  async function startPod(base: string, container: string, runArgs: string[] = [], specLines = ''): Promise<string> {
    const name = podName(base);
    pods.push(name);
    const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n${specLines}  containers:\n${container}`;
    await podns.ok(['run', ...runArgs, podns.writeManifest(name, yaml)]);
    return name;
  }

  async function layoutOf(pod: string): Promise<Layout> {
    return ((await inspect(podns, pod)) as unknown as { cgroups: Layout }).cgroups;
  }
  /** On v2 every controller is in the one hierarchy. */
  const H = (h: string) => (v1 ? h : 'unified');
  const dir = (l: Layout, h: string, leaf = '') => path.join(l.mounts[H(h)]!, l.pod[H(h)]!, leaf);
  const read = (l: Layout, h: string, file: string, leaf = '') => fs.readFileSync(path.join(dir(l, h, leaf), file), 'utf8').trim();

  it('writes the limits of the manifest into the pod, pause and container cgroups, below our own cgroup; exec joins them', async () => {
    const pod = await startPod(
      'cg-files',
      `  - name: c\n    image: ${BUSYBOX}\n    command: [sleep, "3600"]\n    resources:\n      limits: {cpu: 500m, memory: 64Mi}\n      requests: {cpu: 250m}\n`,
      ['--pod-pids-limit', '128'],
    );
    const l = await layoutOf(pod);
    expect(l.version).toBe(version);
    const parents = testCgroupParents();
    for (const h of Object.keys(l.mounts)) expect(parents).toContain(path.dirname(path.join(l.mounts[h]!, l.pod[h]!)));
    const mem = String(64 * 2 ** 20);
    if (v1) {
      // kubelet: shares = 250m*1024/1000, quota = 500m*100000/1000; the pod gets the sums; the pause minimal shares.
      expect(read(l, 'cpu', 'cpu.shares', 'ctr-c')).toBe('256');
      expect(read(l, 'cpu', 'cpu.cfs_period_us', 'ctr-c')).toBe('100000');
      expect(read(l, 'cpu', 'cpu.cfs_quota_us', 'ctr-c')).toBe('50000');
      expect(read(l, 'cpu', 'cpu.shares', 'pause')).toBe('2');
      expect(read(l, 'cpu', 'cpu.shares')).toBe('256');
      expect(read(l, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
      expect(read(l, 'memory', 'memory.limit_in_bytes', 'ctr-c')).toBe(mem);
      expect(read(l, 'memory', 'memory.limit_in_bytes')).toBe(mem);
      if (fs.existsSync(path.join(dir(l, 'memory', 'ctr-c'), 'memory.memsw.limit_in_bytes'))) {
        expect(read(l, 'memory', 'memory.memsw.limit_in_bytes', 'ctr-c')).toBe(mem);
      } else {
        expect(read(l, 'memory', 'memory.swappiness', 'ctr-c')).toBe('0');
      }
      expect(read(l, 'devices', 'devices.list', 'ctr-c').split('\n')).toEqual([
        'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:200 rwm',
      ]);
    } else {
      // 256 shares → cpu.weight 35 by the new conversion (the old one gave 10); 2 shares → 1.
      expect(read(l, 'cpu', 'cpu.weight', 'ctr-c')).toBe('35');
      expect(read(l, 'cpu', 'cpu.max', 'ctr-c')).toBe('50000 100000');
      expect(read(l, 'cpu', 'cpu.weight', 'pause')).toBe('1');
      expect(read(l, 'cpu', 'cpu.max')).toBe('50000 100000');
      expect(read(l, 'memory', 'memory.max', 'ctr-c')).toBe(mem);
      expect(read(l, 'memory', 'memory.max')).toBe(mem);
      if (fs.existsSync(path.join(dir(l, 'memory', 'ctr-c'), 'memory.swap.max'))) expect(read(l, 'memory', 'memory.swap.max', 'ctr-c')).toBe('0');
    }
    expect(read(l, 'pids', 'pids.max')).toBe('128');
    // The container's process is in its leaf in every hierarchy, the pause in its own.
    const info = await inspect(podns, pod);
    const pid = info.containers[0]!.process!.pid;
    const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const line = (leaf: string) => (v1 ? `:memory:${path.join(l.pod.memory!, leaf)}\n` : `0::${path.join(l.pod.unified!, leaf)}\n`);
    if (v1) for (const h of Object.keys(l.mounts)) expect(own).toMatch(new RegExp(`:${h}:${path.join(l.pod[h]!, 'ctr-c')}\n`));
    else expect(own).toContain(line('ctr-c'));
    expect(fs.readFileSync(`/proc/${info.pause.pid}/cgroup`, 'utf8')).toContain(line('pause'));
    // An exec session joins the container's cgroups too (runc exec); on v2 inside its cgroup namespace, whose
    // root the leaf is (the next test looks at it from the host).
    const execCgroups = (await podns.ok(['exec', pod, '--', 'cat', '/proc/self/cgroup'])).split('\n');
    if (v1) expect(execCgroups.filter((l) => l.endsWith(line('ctr-c').trimEnd()))).toHaveLength(1);
    else expect(execCgroups).toEqual(['0::/']);
    const stats = JSON.parse(await podns.ok(['stats', pod, '-o', 'json', '--interval', '200'])) as { container?: string; memoryLimit?: number; pids: number }[];
    expect(stats.find((r) => r.container === 'c')).toMatchObject({ memoryLimit: 64 * 2 ** 20, pids: 1 });
    await podns.ok(['rm', '-f', pod]);
    for (const h of Object.keys(l.mounts)) expect(fs.existsSync(path.join(l.mounts[h]!, l.pod[h]!))).toBe(false);
  });

  it("a container sees its own cgroups at /sys/fs/cgroup, read-only (v2: in a cgroup namespace of its own, 0::/; v1: host paths, as containerd); privileged: read-write; an exec joins the same", async () => {
    const pod = await startPod(
      'cg-view',
      `  - name: c\n    image: ${BUSYBOX}\n    command: [sleep, "3600"]\n    resources:\n      limits: {memory: 48Mi}\n` +
        `  - name: priv\n    image: ${BUSYBOX}\n    command: [sleep, "3600"]\n    securityContext: {privileged: true}\n    resources:\n      limits: {memory: 40Mi}\n`,
    );
    const l = await layoutOf(pod);
    const info = await inspect(podns, pod);
    const pidOf = (name: string) => info.containers.find((c) => c.name === name)!.process!.pid;
    const sh = (container: string, script: string) => podns.ok(['exec', pod, '-c', container, '--', 'sh', '-c', script]);
    const cgroupNs = (pid: number | 'self') => fs.statSync(`/proc/${pid}/ns/cgroup`).ino;
    const mem = String(48 * 2 ** 20);
    const limitFile = v1 ? 'memory/memory.limit_in_bytes' : 'memory.max';
    if (v1) {
      // containerd makes no cgroup namespace on v1: the host's, so /proc/self/cgroup names host paths.
      expect(cgroupNs(pidOf('c'))).toBe(cgroupNs('self'));
      expect(await sh('c', 'cat /proc/1/cgroup')).toBe(fs.readFileSync(`/proc/${pidOf('c')}/cgroup`, 'utf8').trim());
      // runc's v1 layout: a tmpfs, and in it each hierarchy podns manages, bound from the container's own cgroup.
      const names = [...new Set(Object.values(l.mounts).map((m) => path.basename(fs.realpathSync(m))))].sort();
      expect((await sh('c', 'ls /sys/fs/cgroup')).split('\n').sort()).toEqual(names);
      const mine = (await sh('c', "grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo")).split(' ');
      expect(mine[3]).toBe(path.join(l.pod.memory!, 'ctr-c'));
      expect(mine[5]!.split(',')).toContain('ro');
      expect(await sh('priv', "grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo")).toMatch(/ rw,/);
    } else {
      // Its own cgroup namespace, rooted at its leaf: 0::/, and cgroup2 shows its subtree only.
      expect(cgroupNs(pidOf('c'))).not.toBe(cgroupNs('self'));
      expect(fs.readFileSync(`/proc/${pidOf('c')}/cgroup`, 'utf8')).toBe(`0::${path.join(l.pod.unified!, 'ctr-c')}\n`);
      expect(await sh('c', 'cat /proc/1/cgroup')).toBe('0::/');
      expect((await sh('c', 'ls /sys/fs/cgroup')).split('\n')).not.toContain('ctr-priv');
      expect(await sh('c', "grep ' /sys/fs/cgroup ' /proc/self/mountinfo")).toMatch(/ ro,.* - cgroup2 /);
      // Privileged, as with containerd: the host's namespace, and the whole tree read-write.
      expect(cgroupNs(pidOf('priv'))).toBe(cgroupNs('self'));
      expect(await sh('priv', 'cat /proc/1/cgroup')).toBe(`0::${path.join(l.pod.unified!, 'ctr-priv')}`);
      expect(await sh('priv', `cat /sys/fs/cgroup${path.join(l.pod.unified!, 'ctr-c')}/memory.max`)).toBe(mem);
      expect(await sh('priv', "grep ' /sys/fs/cgroup ' /proc/self/mountinfo")).toMatch(/ rw,.* - cgroup2 /);
    }
    // Its own limit at the top of what it sees; read-only unless privileged.
    expect(await sh('c', `cat /sys/fs/cgroup/${limitFile}`)).toBe(mem);
    const write = await podns.run(['exec', pod, '-c', 'c', '--', 'sh', '-c', `echo 1 > /sys/fs/cgroup/${limitFile}`]);
    expect(write.exitCode).not.toBe(0);
    expect(String(write.stderr)).toMatch(/Read-only file system/);
    expect(await sh('priv', `echo ${40 * 2 ** 20} > /sys/fs/cgroup/${v1 ? limitFile : path.join(l.pod.unified!, 'ctr-priv', 'memory.max')} && echo written`)).toBe('written');
    // An exec, seen from the host: in the container's leaf and in its cgroup namespace.
    const session = podns.run(['exec', pod, '-c', 'c', '--', 'sleep', '600']);
    const procs = path.join(dir(l, 'memory', 'ctr-c'), 'cgroup.procs');
    const execPid = await waitFor(() => fs.readFileSync(procs, 'utf8').split('\n').map(Number).find((p) => p > 0 && p !== pidOf('c')), 5000 * slow, 'the exec in the leaf');
    expect(cgroupNs(execPid)).toBe(cgroupNs(pidOf('c')));
    process.kill(execPid, 'SIGTERM');
    expect((await session).exitCode).toBe(143);
  });

  it("pod-level resources set the pod cgroup in place of the containers' aggregate (KEP-2837)", async () => {
    const pod = await startPod(
      'cg-podlevel',
      `  - name: c\n    image: ${BUSYBOX}\n    command: [sleep, "3600"]\n    resources: {requests: {cpu: 100m}}\n`,
      [],
      '  resources:\n    limits: {cpu: 300m, memory: 48Mi}\n    requests: {cpu: 200m}\n',
    );
    const l = await layoutOf(pod);
    const mem = String(48 * 2 ** 20);
    if (v1) {
      expect(read(l, 'cpu', 'cpu.shares')).toBe('204');
      expect(read(l, 'cpu', 'cpu.cfs_quota_us')).toBe('30000');
      expect(read(l, 'memory', 'memory.limit_in_bytes')).toBe(mem);
      // The container has no limits of its own: it runs within the pod's.
      expect(read(l, 'cpu', 'cpu.cfs_quota_us', 'ctr-c')).toBe('-1');
    } else {
      expect(read(l, 'cpu', 'cpu.max')).toBe('30000 100000');
      expect(read(l, 'memory', 'memory.max')).toBe(mem);
      expect(read(l, 'cpu', 'cpu.max', 'ctr-c')).toBe('max 100000');
    }
    await podns.ok(['rm', '-f', pod]);
  });

  it('OOM-kills a memory hog at limits.memory 32Mi; ps and inspect say OOMKilled 137', async () => {
    const pod = await startPod(
      'cg-oom',
      `  - name: hog\n    image: ${BUSYBOX}\n    command: [sh, -c, 'x=a; while true; do x=$x$x; done']\n    resources:\n      limits: {memory: 32Mi}\n`,
    );
    const c = await waitFor(async () => {
      const state = (await inspect(podns, pod)).containers[0]!;
      return state.status === 'exited' ? state : undefined;
    }, 20_000 * slow, 'the hog to exit');
    expect(c).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+hog\\s+OOMKilled \\(137\\)`));
  });

  it('holds a CPU hog to limits.cpu 200m: about 20% of a CPU by cpuacct.usage (v1) / cpu.stat (v2) over 2 s', async () => {
    const pod = await startPod(
      'cg-cpu',
      `  - name: hog\n    image: ${BUSYBOX}\n    command: [sh, -c, 'while true; do :; done']\n    resources:\n      limits: {cpu: 200m}\n`,
    );
    const l = await layoutOf(pod);
    const usage = () =>
      v1 ? Number(read(l, 'cpuacct', 'cpuacct.usage', 'ctr-hog')) : 1000 * Number(/usage_usec (\d+)/.exec(read(l, 'cpu', 'cpu.stat', 'ctr-hog'))![1]);
    await sleep(300);
    const [u0, t0] = [usage(), process.hrtime.bigint()];
    await sleep(2000);
    const [u1, t1] = [usage(), process.hrtime.bigint()];
    const share = (u1 - u0) / Number(t1 - t0);
    expect(share).toBeGreaterThan(0.14);
    expect(share).toBeLessThan(0.26);
  });

  it('stops a fork bomb at the pod pids limit', async () => {
    const pod = await startPod(
      'cg-pids',
      `  - name: bomb\n    image: ${BUSYBOX}\n    command: [sh, -c, 'i=0; while [ $i -lt 200 ]; do sleep 600 & i=$((i+1)); done; sleep 600']\n`,
      ['--pod-pids-limit', '40'],
    );
    const l = await layoutOf(pod);
    // The shell is PID 1 of the container: when its fork fails it exits, and its children go with it.
    await waitFor(async () => (await inspect(podns, pod)).containers[0]!.status === 'exited', 15_000 * slow, 'the bomb to fail');
    const logs = await podns.run(['logs', pod]);
    expect(`${logs.stdout}${logs.stderr}`).toContain("can't fork");
    // The failed forks are counted (in the leaf the fork was tried from, or the pod cgroup, by kernel version).
    const events = (leaf = '') => Number(/max (\d+)/.exec(read(l, 'pids', 'pids.events', leaf))![1]);
    expect(events() + events('ctr-bomb')).toBeGreaterThan(0);
    if (fs.existsSync(path.join(dir(l, 'pids'), 'pids.peak'))) expect(Number(read(l, 'pids', 'pids.peak'))).toBeLessThanOrEqual(40);
    expect(Number(read(l, 'pids', 'pids.max'))).toBe(40);
    // Teardown kills every one of them (v1 freezer + SIGKILL, v2 cgroup.kill), and removes the cgroups.
    await podns.ok(['rm', '-f', pod]);
    for (const h of Object.keys(l.mounts)) expect(fs.existsSync(path.join(l.mounts[h]!, l.pod[h]!))).toBe(false);
  });

  it('the device cgroup (v1 devices.*, v2 a BPF program) refuses a device off the list with EPERM, allows /dev/null', async () => {
    // A container's writable mounts are nodev, which answers EACCES before the device cgroup is asked; so a
    // helper process joins the container's devices cgroup on the host side and opens host devices there.
    const pod = await startPod('cg-dev', `  - name: c\n    image: ${BUSYBOX}\n    command: [sleep, "3600"]\n`);
    const l = await layoutOf(pod);
    const procs = path.join(dir(l, 'devices', 'ctr-c'), 'cgroup.procs');
    // /dev/kmsg's numbers (c 1:11), on a host file system that allows device nodes: off runc's list.
    const node = path.join(podns.root, 'kmsg');
    await execa('mknod', [node, 'c', '1', '11']);
    const outside = await execa('sh', ['-c', `: < ${node} && echo opened`], { reject: false });
    expect(String(outside.stdout)).toBe('opened');
    const r = await execa('sh', ['-c', `echo $$ > ${procs} && : < /dev/null && echo null-ok; : < ${node}; true`], { reject: false });
    expect(String(r.stdout)).toContain('null-ok');
    expect(String(r.stderr)).toMatch(/Operation not permitted/);
  });

  it('rm -f after the supervisor was SIGKILLed kills the pod through its cgroups and removes them', async () => {
    const pod = await startPod('cg-rmf', `  - name: c\n    image: ${BUSYBOX}\n    command: [sh, -c, 'sleep 600 & sleep 600 & wait']\n`);
    const l = await layoutOf(pod);
    await killSupervisor(podns.root);
    const pids = fs.readFileSync(path.join(dir(l, 'memory'), 'ctr-c', 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    expect(pids.length).toBe(3);
    await podns.ok(['rm', '-f', pod]);
    for (const h of Object.keys(l.mounts)) expect(fs.existsSync(path.join(l.mounts[h]!, l.pod[h]!))).toBe(false);
    for (const pid of pids) expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  });
});
