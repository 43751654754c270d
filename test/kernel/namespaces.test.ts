/**
 * Namespaces of a pod against the real kernel: without shareProcessNamespace every container has its own PID
 * namespace but shares net/ipc/uts with the pause; mount namespaces are all distinct; the hostname; the netns
 * pin; loopback; the test process's own namespaces untouched.
 * Requires: root, the native build, dist/, the test images, iproute2 (`ip`) on the host (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, nsInodes, podName, type InspectedPod, type Podns, pinOf } from './harness.js';
import { BUSYBOX, cmdline, innerPid, leaksAfterRemoval, podYaml, SLEEPER, shOk } from './support.js';

describe.skipIf(kernelSkip)('pod namespaces (no shareProcessNamespace)', () => {
  let podns: Podns;
  let state: InspectedPod;
  const pod = podName('ns-pod');
  const named = podName('ns-named');
  const hostNsBefore = nsInodes(process.pid);
  const main = (s: InspectedPod, name: string) => s.containers.find((c) => c.name === name)!.process!.pid;

  beforeAll(async () => {
    podns = await createPodns();
    const containers = `  - name: first
    image: ${BUSYBOX}
    command: ${SLEEPER}
  - name: second
    image: ${BUSYBOX}
    command: ["/bin/sh", "-c", "exec sleep 3600"]
`;
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { spec: '  shareProcessNamespace: false\n', containers }))]);
    state = await inspect(podns, pod);
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.run(['rm', '-f', named]);
    await podns?.dispose();
  });

  it('each container main process is PID 1 of its own PID namespace, distinct from the pause and the other container', async () => {
    const pausePid = nsInodes(state.pause.pid).pid;
    const first = nsInodes(main(state, 'first'));
    const second = nsInodes(main(state, 'second'));
    expect(first.pid).not.toBe(pausePid);
    expect(second.pid).not.toBe(pausePid);
    expect(first.pid).not.toBe(second.pid);
    expect(innerPid(main(state, 'first'))).toBe(1);
    expect(innerPid(main(state, 'second'))).toBe(1);
    // Inside: /proc/1 is the container's own command.
    expect(await shOk(podns, pod, 'first', "tr '\\0' ' ' < /proc/1/cmdline")).toBe('/bin/sh -c while true; do sleep 3600; done');
    expect(await shOk(podns, pod, 'second', "tr '\\0' ' ' < /proc/1/cmdline")).toBe('sleep 3600');
  });

  it('the pause and the other container are not visible from a container', async () => {
    const ps = await podns.ok(['exec', pod, '-c', 'second', '--', 'ps']);
    const commands = ps.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).slice(2).join(' '));
    expect(commands).not.toContain('/pause');
    expect(commands.some((c) => c.includes('while true'))).toBe(false);
    expect(commands.sort()).toEqual(['ps', 'sleep 3600']);
  });

  it('containers share net, ipc and uts with the pause (inodes read on the host)', () => {
    const pause = nsInodes(state.pause.pid);
    for (const name of ['first', 'second']) {
      const ns = nsInodes(main(state, name));
      for (const kind of ['net', 'ipc', 'uts']) expect(ns[kind], `${name} ${kind}`).toBe(pause[kind]);
    }
    for (const kind of ['net', 'ipc', 'uts', 'pid', 'mnt']) expect(pause[kind], `pause ${kind} vs host`).not.toBe(hostNsBefore[kind]);
  });

  it('mount namespaces are all distinct: host, pause, each container', () => {
    const mnts = [process.pid, state.pause.pid, main(state, 'first'), main(state, 'second')].map((p) => nsInodes(p).mnt);
    expect(new Set(mnts).size).toBe(4);
  });

  it('an exec session joins the container namespaces (pid and mnt of that container, not of the pause)', async () => {
    const out = await shOk(podns, pod, 'first', 'for k in pid mnt net; do readlink /proc/self/ns/$k; done');
    const ns = nsInodes(main(state, 'first'));
    expect(out.split('\n')).toEqual([`pid:[${ns.pid}]`, `mnt:[${ns.mnt}]`, `net:[${ns.net}]`]);
  });

  it('the hostname inside is the pod name', async () => {
    expect(await shOk(podns, pod, 'first', 'hostname')).toBe(pod);
    expect(await shOk(podns, pod, 'second', 'cat /proc/sys/kernel/hostname')).toBe(pod);
    expect(await shOk(podns, pod, 'first', 'echo $HOSTNAME')).toBe(pod);
  });

  it('spec.hostname, when set, is the hostname inside instead of the pod name', async () => {
    await podns.ok(['run', podns.writeManifest(named, podYaml(named, { spec: '  hostname: custom-host\n' }))]);
    expect(await shOk(podns, named, 'main', 'hostname')).toBe('custom-host');
    expect(await shOk(podns, named, 'main', 'cat /etc/hostname')).toBe('custom-host');
    await podns.ok(['rm', '-f', named]);
    // The first pod still runs: only what belongs to this one must be gone.
    expect((await leaksAfterRemoval(podns.root, [named])).filter((l) => l.includes(named))).toEqual([]);
  });

  it('the netns pin /run/netns/podns-<root hash>-<pod> is the pause network namespace, and ip netns lists it', async () => {
    const pin = pinOf(podns.root, pod);
    expect(path.basename(pin)).toMatch(new RegExp(`^podns-[0-9a-f]{8}-${pod}$`));
    expect(state.paths.netnsPin).toBe(pin);
    expect(fs.statSync(pin).ino).toBe(nsInodes(state.pause.pid).net);
    const list = (await execa('ip', ['netns', 'list'])).stdout;
    expect(list.split('\n').map((l) => l.split(' ')[0])).toContain(path.basename(pin));
  });

  it('loopback is UP in the pod network namespace', async () => {
    const out = (await execa('ip', ['-n', path.basename(pinOf(podns.root, pod)), 'link', 'show', 'lo'])).stdout;
    expect(out).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    // Seen from a container too: 127.0.0.1 is configured.
    expect(await shOk(podns, pod, 'first', 'ip addr show lo')).toContain('inet 127.0.0.1/8');
  });

  it('the test process own namespaces are unchanged after run and exec', () => {
    expect(nsInodes(process.pid)).toEqual(hostNsBefore);
    expect(fs.readlinkSync('/proc/self/ns/net')).toBe(`net:[${hostNsBefore.net}]`);
  });

  it('processes listed by inspect are those of the container only', async () => {
    const now = await inspect(podns, pod);
    const second = now.containers.find((c) => c.name === 'second')!;
    expect(second.processes.map((p) => cmdline(p.pid))).toEqual(['sleep 3600']);
    expect(second.processes[0]!.podPid).toBe(1);
  });

  it('rm -f leaves nothing behind', async () => {
    await podns.ok(['rm', '-f', pod]);
    expect(await leaksAfterRemoval(podns.root, [pod, named])).toEqual([]);
    expect((await execa('ip', ['netns', 'list'])).stdout).not.toContain(pod);
  });
});
