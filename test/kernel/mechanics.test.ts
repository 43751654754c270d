/**
 * The mechanics made visible (issue 8): the namespace map agrees with /proc/<pid>/ns/* read independently,
 * marks the pod's shared namespaces and each container's own, lists exec sessions, and draws as Graphviz dot.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, seedManifest, waitFor, type Podns, pinOf } from './harness.js';

interface Row {
  role: string;
  pid: number;
  podPid?: number;
  command: string;
  namespaces: Record<string, { inode: number; sharing: 'pod' | 'host' | 'own' }>;
}

describe.skipIf(kernelSkip)('namespace map', () => {
  let podns: Podns;
  const pod = podName('nsmap');
  beforeAll(async () => {
    podns = await createPodns();
    await podns.ok(['run', podns.writeManifest(pod, seedManifest(pod, false))]);
  });
  afterAll(async () => {
    await podns.run(['rm', '-f', pod]);
    await podns.dispose();
  });

  it('has a row per process with the inodes /proc shows, marked pod, host or own', async () => {
    const exec = podns.run(['exec', pod, '-c', 'busybox', '--', 'sleep', '3']);
    await waitFor(async () => (JSON.parse(await podns.ok(['inspect', pod, '--namespaces', '-o', 'json'])) as Row[]).some((r) => r.role.startsWith('exec/')), 5000, 'the exec session');
    const rows = JSON.parse(await podns.ok(['inspect', pod, '--namespaces', '-o', 'json'])) as Row[];
    const self = (kind: string) => fs.statSync(`/proc/self/ns/${kind}`).ino;
    const pause = rows.find((r) => r.role === 'pause')!;
    expect(pause.podPid).toBe(1);
    for (const r of rows) {
      for (const [kind, ns] of Object.entries(r.namespaces)) {
        expect(ns.inode, `${r.role} ${kind}`).toBe(fs.statSync(`/proc/${r.pid}/ns/${kind}`).ino);
      }
      // Without shareProcessNamespace: net, ipc, uts are the pod's; pid and mnt are the container's own.
      for (const kind of ['net', 'ipc', 'uts']) expect(r.namespaces[kind]!.sharing, `${r.role} ${kind}`).toBe('pod');
      if (r.role !== 'pause') for (const kind of ['pid', 'mnt']) expect(r.namespaces[kind]!.sharing, `${r.role} ${kind}`).toBe('own');
      expect(r.namespaces.user!.inode).toBe(self('user'));
      expect(r.namespaces.user!.sharing).toBe('host');
    }
    expect(rows.filter((r) => r.role === 'container/nginx').length).toBeGreaterThanOrEqual(2);
    const session = rows.find((r) => r.role === 'exec/busybox')!;
    expect(session.command).toBe('sleep 3');
    expect(session.namespaces.mnt!.inode).toBe(rows.find((r) => r.role === 'container/busybox')!.namespaces.mnt!.inode);
    await exec;
  });

  it('prints as a table with a legend and as Graphviz dot', async () => {
    const table = await podns.ok(['inspect', pod, '--namespaces']);
    expect(table.split('\n')[0]).toMatch(/^PROCESS\s+PID\s+POD-PID\s+NET\s+IPC\s+UTS\s+PID\s+MNT\s+CGROUP\s+USER\s+TIME\s+COMMAND$/);
    expect(table).toMatch(/^pause\s+\d+\s+1\s+\d+ P\s+\d+ P\s+\d+ P\s+\d+ P/m);
    expect(table).toContain("P: the pod's shared namespace");
    const dot = await podns.ok(['inspect', pod, '--namespaces', '-o', 'dot']);
    expect(dot.startsWith(`digraph "${pod}" {`)).toBe(true);
    expect(dot).toMatch(/p\d+ -> net_\d+;/);
    expect(dot.trim().endsWith('}')).toBe(true);
  });
});

describe.skipIf(kernelSkip)('events', () => {
  let podns: Podns;
  const pod = podName('events');
  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns.run(['rm', '-f', pod]);
    await podns.dispose();
  });

  it("appear in order, in kubelet's vocabulary, for run and stop", async () => {
    const watch = podns.run(['events', '-w'], { timeout: 4000 });
    await podns.ok(['run', podns.writeManifest(pod, seedManifest(pod))]);
    await podns.ok(['stop', pod, '-c', 'busybox', '-t', '0']);
    const out = await podns.ok(['events', pod]);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    const reasons = lines.slice(1).map((l) => l.split(/\s+/).slice(1, 4).join(' '));
    expect(reasons).toEqual([
      `Normal SandboxReady pod/${pod}`,
      `Normal Pulled pod/${pod}/nginx`,
      `Normal Created pod/${pod}/nginx`,
      `Normal Started pod/${pod}/nginx`,
      `Normal Pulled pod/${pod}/busybox`,
      `Normal Created pod/${pod}/busybox`,
      `Normal Started pod/${pod}/busybox`,
      `Normal Killing pod/${pod}/busybox`,
    ]);
    expect(out).toContain('Container image "docker.io/library/nginx:latest" already present on machine');
    const times = lines.slice(1).map((l) => Date.parse(l.split(/\s+/)[0]!));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The watcher saw them as they came.
    const watched = String((await watch).stdout);
    expect(watched).toContain(`Started  pod/${pod}/busybox`);
  });
});

describe.skipIf(kernelSkip)('--infra=none: the failure the pause process exists to prevent', () => {
  let podns: Podns;
  const pods: string[] = [];
  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    for (const pod of pods) await podns.run(['rm', '-f', pod]);
    await podns.dispose();
  });

  interface State {
    infra: string;
    pause?: { pid: number };
    containers: { name: string; status: string; exitCode?: number; signal?: number; process: { pid: number } }[];
  }

  it('without a pause the first container is PID 1 and holds the namespaces; stopping it takes the others down', async () => {
    const pod = podName('infra-none');
    pods.push(pod);
    await podns.ok(['run', '--infra=none', podns.writeManifest(pod, seedManifest(pod))]);
    const state = JSON.parse(await podns.ok(['inspect', pod])) as State;
    expect(state.infra).toBe('none');
    expect(state.pause).toBeUndefined();
    const [nginx, busybox] = state.containers;
    const ps = await podns.ok(['exec', pod, '-c', 'busybox', '--', 'ps']);
    expect(ps).toMatch(/^\s+1 root\s+nginx: master process/m);
    for (const kind of ['net', 'ipc', 'uts', 'pid']) {
      expect(fs.statSync(`/proc/${busybox!.process.pid}/ns/${kind}`).ino, kind).toBe(fs.statSync(`/proc/${nginx!.process.pid}/ns/${kind}`).ino);
    }
    expect(fs.statSync(pinOf(podns.root, pod)).ino).toBe(fs.statSync(`/proc/${nginx!.process.pid}/ns/net`).ino);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+\\(no pause\\)\\s+Running`));

    await podns.ok(['stop', pod, '-c', 'nginx', '-t', '0']);
    // PID 1 of the pod's PID namespace is gone: the kernel kills every other process in it.
    const after = await waitFor(async () => {
      const s = JSON.parse(await podns.ok(['inspect', pod])) as State;
      return s.containers[1]!.status === 'exited' ? s : undefined;
    }, 5000, 'busybox to die with nginx');
    expect(after.containers[1]).toMatchObject({ status: 'exited', exitCode: 137, signal: 9 });
  });

  it('with the pause (the default), stopping the same container leaves the others running', async () => {
    const pod = podName('infra-pause');
    pods.push(pod);
    await podns.ok(['run', podns.writeManifest(pod, seedManifest(pod))]);
    await podns.ok(['stop', pod, '-c', 'nginx', '-t', '0']);
    await new Promise((r) => setTimeout(r, 500));
    const s = JSON.parse(await podns.ok(['inspect', pod])) as State;
    expect(s.containers[1]!.status).toBe('running');
    // PID 1 is still the pause, running as 65535 (Kubernetes' pause image's uid), as it drops root at its start.
    expect(await podns.ok(['exec', pod, '-c', 'busybox', '--', 'ps'])).toMatch(/^\s+1 65535\s+\/pause$/m);
  });
});

describe.skipIf(kernelSkip)('run --explain and explain POD', () => {
  let podns: Podns;
  const pod = podName('explain');
  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
  });
  afterAll(async () => {
    await podns.run(['rm', '-f', pod]);
    await podns.dispose();
  });

  it('lists every kernel step in the order it happened, each with a well-formed command', async () => {
    const out = await podns.ok(['run', '--explain', podns.writeManifest(pod, seedManifest(pod))]);
    expect(out.startsWith(`pod/${pod} running\n`)).toBe(true);
    const steps = [...out.matchAll(/^\s*(\d+)\s+\[([^\]]+)\] (.*)\n\s+\$ (.*)$/gm)].map((m) => ({ n: Number(m[1]), actor: m[2]!, what: m[3]!, command: m[4]! }));
    expect(steps.length).toBeGreaterThan(50);
    expect(steps.map((s) => s.n)).toEqual(steps.map((_, i) => i + 1));
    const first = (pred: (s: (typeof steps)[number]) => boolean) => steps.findIndex(pred);
    const state = JSON.parse(await podns.ok(['inspect', pod])) as { pause: { pid: number }; containers: { name: string; process: { pid: number } }[] };

    // The pause is cloned into new namespaces (with its real pid), then pinned, then the network, then the containers.
    const pauseClone = first((s) => s.actor === 'pause' && s.what.startsWith('clone('));
    expect(steps[pauseClone]!.what).toBe(`clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|SIGCHLD) = pid ${state.pause.pid}`);
    expect(steps[pauseClone]!.command).toBe('unshare --mount --uts --ipc --net --pid --fork');
    const pin = first((s) => s.what.startsWith('pin the network namespace'));
    const veth = first((s) => s.actor === 'network' && s.what.includes('type veth'));
    const nginxSetns = first((s) => s.actor === 'container/nginx' && s.what.startsWith('setns('));
    expect(pauseClone).toBeLessThan(pin);
    expect(pin).toBeLessThan(veth);
    expect(veth).toBeLessThan(nginxSetns);
    expect(steps[nginxSetns]!.command).toBe(`nsenter --ipc=/proc/${state.pause.pid}/ns/ipc`);

    // Each container: setns into the pause's namespaces, clone, mounts, pivot_root, confinement, exec — in that order.
    for (const c of state.containers) {
      const mine = steps.filter((s) => s.actor === `container/${c.name}`);
      const order = ['setns(', 'clone(', 'mount overlay', 'mount proc', 'pivot_root(', 'bounding set', 'capabilities:', 'execve('];
      const at = order.map((prefix) => mine.findIndex((s) => s.what.startsWith(prefix)));
      expect(at.every((i) => i >= 0), `${c.name}: ${at}`).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
      expect(mine.find((s) => s.what.startsWith('clone('))!.what).toMatch(new RegExp(`= pid ${c.process.pid}$`));
      expect(mine.find((s) => s.what.startsWith('mount overlay'))!.command).toMatch(/^mount -t overlay overlay \S+\/rootfs -o nodev,lowerdir=\S+,upperdir=\S+,workdir=\S+$/);
    }
    // Every command is something a person can type: a known program first.
    for (const s of steps) {
      expect(s.command, `${s.n} ${s.what}`).toMatch(/^(mkdir|echo|unshare|nsenter|mount|hostname|ip|nft|cd|setsid|capsh|setpriv|exec|ln|touch|prctl|\(a plain fork)/);
    }
    // explain POD prints the same log later.
    expect(await podns.ok(['explain', pod])).toBe(out.slice(`pod/${pod} running\n`.length));
  });
});
