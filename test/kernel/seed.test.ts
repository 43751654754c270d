/**
 * The article's transcript, line by line, against the real kernel: the nginx + busybox pod with a shared
 * PID namespace. Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, inspect, kernelSkip, nsInodes, podName, seedManifest, waitFor, type Podns, pinOf } from './harness.js';
import { innerPid } from './support.js';

describe.skipIf(kernelSkip)('seed pod transcript', () => {
  let podns: Podns;
  const pod = podName('nginx-busybox-pod');

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns?.dispose();
  });

  it('runs the pod and returns once both containers run', async () => {
    const out = await podns.ok(['run', podns.writeManifest(pod, seedManifest(pod))]);
    expect(out).toContain(`pod/${pod} running`);
    const state = await inspect(podns, pod);
    expect(state.containers.map((c) => [c.name, c.status])).toEqual([
      ['nginx', 'running'],
      ['busybox', 'running'],
    ]);
    expect(fs.existsSync(pinOf(podns.root, pod))).toBe(true);
  });

  it('podns ps lists the pod, its containers, state and pids', async () => {
    const ps = await podns.ok(['ps']);
    const state = await inspect(podns, pod);
    expect(ps).toMatch(new RegExp(`${pod}\\s+\\(pause\\)\\s+Running\\s+${state.pause.pid}`));
    for (const c of state.containers) expect(ps).toMatch(new RegExp(`${pod}\\s+${c.name}\\s+Running\\s+${c.process!.pid}`));
  });

  it('containers share net, ipc, uts and pid with the pause, and have their own mount namespace', async () => {
    const state = await inspect(podns, pod);
    const pause = nsInodes(state.pause.pid);
    const host = nsInodes(process.pid);
    for (const kind of ['net', 'ipc', 'uts', 'pid', 'mnt']) expect(pause[kind]).not.toBe(host[kind]);
    const mnts = new Set<number>();
    for (const c of state.containers) {
      const ns = nsInodes(c.process!.pid);
      for (const kind of ['net', 'ipc', 'uts', 'pid']) expect(ns[kind], `${c.name} ${kind}`).toBe(pause[kind]);
      expect(ns.mnt).not.toBe(pause.mnt);
      mnts.add(ns.mnt!);
    }
    expect(mnts.size).toBe(2);
  });

  it('exec writes the page in nginx', async () => {
    const r = await podns.run(['exec', pod, '-c', 'nginx', '--', 'sh', '-c', 'echo "hello pod" > /usr/share/nginx/html/index.html']);
    expect(r.exitCode).toBe(0);
  });

  it('ps in busybox shows pause as PID 1, the nginx master and workers, and its own shell and sleep', async () => {
    const out = await podns.ok(['exec', '-it', pod, '-c', 'busybox', '--', 'ps']);
    const rows = out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const byPid = new Map(rows.map((r) => [Number(r[0]), r.slice(2).join(' ')]));
    expect(byPid.get(1)).toBe('/pause');
    const commands = [...byPid.values()];
    expect(commands).toContain('nginx: master process nginx -g daemon off;');
    expect(commands.filter((c) => c === 'nginx: worker process').length).toBeGreaterThanOrEqual(1);
    expect(commands).toContain('/bin/sh -c while true; do sleep 1h; done;');
    expect(commands).toContain('sleep 1h');
  });

  it('wget -qO- localhost from busybox prints the page nginx serves', async () => {
    const out = await waitFor(async () => {
      const r = await podns.run(['exec', pod, '-c', 'busybox', '--', 'wget', '-qO-', 'localhost']);
      return r.exitCode === 0 ? String(r.stdout) : '';
    }, 5000, 'nginx to answer');
    expect(out).toBe('hello pod');
  });

  it('the access log line of that request is visible from busybox', async () => {
    const out = await podns.ok(['exec', pod, '-c', 'busybox', '--', 'tail', '/var/log/nginx/access.log']);
    expect(out).toMatch(/127\.0\.0\.1 - - \[.*\] "GET \/ HTTP\/1\.1" 200 10 "-" "Wget"/);
  });

  it('stopping nginx leaves the pod and busybox running; ps shows pause and busybox only', async () => {
    await podns.ok(['stop', pod, '-c', 'nginx']);
    const state = await inspect(podns, pod);
    expect(state.containers.find((c) => c.name === 'nginx')!.status).toBe('exited');
    expect(state.containers.find((c) => c.name === 'busybox')!.status).toBe('running');
    const out = await podns.ok(['exec', pod, '-c', 'busybox', '--', 'ps']);
    const commands = out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).slice(2).join(' '));
    expect(commands.filter((c) => c !== 'ps').sort()).toEqual(['/bin/sh -c while true; do sleep 1h; done;', '/pause', 'sleep 1h']);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+nginx\\s+Exited \\(0\\)`));
  });

  it('logs of nginx are readable after its stop', async () => {
    const r = await podns.run(['logs', pod, '-c', 'nginx']);
    expect(r.exitCode).toBe(0);
  });

  it('inspect shows the pause pid and every process with its namespace inodes, pod PID and paths', async () => {
    const state = await inspect(podns, pod);
    expect(state.pause.pid).toBeGreaterThan(1);
    const busybox = state.containers.find((c) => c.name === 'busybox')!;
    expect(busybox.processes.map((p) => p.pid)).toContain(busybox.process!.pid);
    expect(busybox.processes.length).toBeGreaterThanOrEqual(2);
    const pauseNs = nsInodes(state.pause.pid);
    // What the container itself sees: its ps, in the pod's (shared) PID namespace, pid -> command line.
    const ps = await podns.ok(['exec', pod, '-c', 'busybox', '--', 'ps']);
    const inside = new Map(ps.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)).map((r) => [Number(r[0]), r.slice(2).join(' ')]));
    for (const p of busybox.processes) {
      const { namespaces } = p as unknown as { namespaces: Record<string, number> };
      expect(namespaces, `pid ${p.pid}`).toMatchObject(nsInodes(p.pid));
      expect(namespaces.pid, `pid ${p.pid}`).toBe(pauseNs.pid);
      // The pod PID is the pid in the pod's namespace (NSpid on the host), and the container's ps agrees.
      expect(p.podPid, `pid ${p.pid}`).toBe(innerPid(p.pid));
      expect(inside.get(p.podPid!), `pod pid ${p.podPid}`).toBe(p.cmdline.join(' '));
    }
    expect(state.paths.netnsPin).toBe(pinOf(podns.root, pod));
  });

  it('rm -f removes everything of the pod', async () => {
    await podns.ok(['rm', '-f', pod]);
    expect(findLeaks(podns.root, [pod])).toEqual([]);
    expect(await podns.ok(['ps'])).not.toContain(pod);
  });
});
