/**
 * The mechanics made visible (issue 8): the namespace map agrees with /proc/<pid>/ns/* read independently,
 * marks the pod's shared namespaces and each container's own, lists exec sessions, and draws as Graphviz dot.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, podName, seedManifest, waitFor, type Podns } from './harness.js';

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
