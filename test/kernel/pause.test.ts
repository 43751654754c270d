/**
 * The pause binary (build/Release/pause) on its own, and as PID 1 of a pod with shareProcessNamespace: true,
 * where it must adopt and reap the orphans of the containers.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, projectRoot, waitFor, type Podns } from './harness.js';
import { hostProcesses, innerPid, leaksAfterRemoval, podYaml, procStatus, sh } from './support.js';

const pauseBin = path.join(projectRoot, 'build', 'Release', 'pause');

describe.skipIf(kernelSkip)('pause binary standalone', () => {
  it('-v prints a version and exits 0', async () => {
    const r = await execa(pauseBin, ['-v'], { reject: false, timeout: 5000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^pause\.c \(podns\) \S+$/);
  });

  it('not PID 1, it warns on stderr; SIGTERM makes it exit 0', async () => {
    const child = execa(pauseBin, [], { reject: false, timeout: 10_000 });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('not PID 1'), 5000, 'the warning');
    expect(stderr).toMatch(new RegExp(`pause: warning: not PID 1 \\(pid ${child.pid}\\)`));
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.signal).toBeUndefined();
    expect(String(r.stderr)).toContain('shutting down, got SIGTERM');
  });

  it('SIGINT makes it exit 0 too', async () => {
    const child = execa(pauseBin, [], { reject: false, timeout: 10_000 });
    await waitFor(() => procStatus(child.pid!)?.SigCgt && (BigInt(`0x${procStatus(child.pid!)!.SigCgt}`) & (1n << 1n)) !== 0n, 5000, 'handlers');
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
  });
});

describe.skipIf(kernelSkip)('pause reaps orphans in a shared PID namespace', () => {
  let podns: Podns;
  const pod = podName('pause-reap');
  let pausePid: number;

  beforeAll(async () => {
    podns = await createPodns();
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { spec: '  shareProcessNamespace: true\n' }))]);
    pausePid = (await inspect(podns, pod)).pause.pid;
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('the pause is PID 1 of the pod and sees itself as PID 1 (no warning path)', () => {
    expect(innerPid(pausePid)).toBe(1);
  });

  it('an orphan of an exec session is re-parented to the pause', async () => {
    // The subshell exits at once; its sleep is orphaned and must be adopted by PID 1 of the pod: the pause.
    const r = await sh(podns, pod, 'main', '(sleep 7.77 >/dev/null 2>&1 &) ; true');
    expect(r.code).toBe(0);
    const orphan = (await waitFor(() => hostProcesses().find((p) => p.cmd === 'sleep 7.77'), 3000, 'the orphan sleep'))!;
    expect(orphan.ppid).toBe(pausePid);
    expect(innerPid(orphan.pid)).toBeGreaterThan(1);
    process.kill(orphan.pid, 'SIGKILL'); // our own test process: end it now, the pause must reap it
    await waitFor(() => !procStatus(orphan.pid), 3000, 'the killed orphan to be reaped');
  });

  it('orphans from a container exit leave no zombies under the pause', async () => {
    // Output redirected: otherwise the orphans hold exec's pipes and exec would wait for them.
    const r = await sh(podns, pod, 'main', 'for i in 1 2 3 4 5; do (sleep 0.6 >/dev/null 2>&1 &); done; true');
    expect(r.code).toBe(0);
    // While they live, they are children of the pause.
    const orphans = hostProcesses().filter((p) => p.cmd === 'sleep 0.6');
    expect(orphans.length).toBe(5);
    for (const o of orphans) expect(o.ppid).toBe(pausePid);
    await waitFor(() => orphans.every((o) => !procStatus(o.pid)), 3000, 'the orphans to end and be reaped');
    expect(hostProcesses().filter((p) => p.ppid === pausePid && p.state === 'Z')).toEqual([]);
  });

  it('many orphans exiting at once (one SIGCHLD for several) are all reaped', async () => {
    const r = await sh(podns, pod, 'main', 'i=0; while [ $i -lt 20 ]; do (sleep 0.3 >/dev/null 2>&1 &); i=$((i+1)); done; true');
    expect(r.code).toBe(0);
    expect(hostProcesses().filter((p) => p.ppid === pausePid && p.cmd === 'sleep 0.3').length).toBe(20);
    await waitFor(() => hostProcesses().filter((p) => p.ppid === pausePid).length === 0, 3000, 'no children of the pause');
    await new Promise((res) => setTimeout(res, 50));
    expect(hostProcesses().filter((p) => p.ppid === pausePid)).toEqual([]);
  });

  it('the pause is still running and the pod healthy afterwards', async () => {
    expect(procStatus(pausePid)?.State).toMatch(/^S/);
    expect((await sh(podns, pod, 'main', 'echo ok')).out).toBe('ok');
  });

  it('rm -f leaves nothing behind', async () => {
    await podns.ok(['rm', '-f', pod]);
    expect(await leaksAfterRemoval(podns.root, [pod])).toEqual([]);
  });
});
