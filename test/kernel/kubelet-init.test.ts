/**
 * Init containers against the real kernel: they run one at a time, in order, to completion before the app
 * containers; a failing one is retried per restartPolicy and blocks the app containers; under Never the pod
 * fails and `podns run` says why in one line. The first retry is at once (kubelet has no back-off entry yet);
 * later back-off times are scaled by the test-only PODNS_BACKOFF_SCALE.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, inspect, kernelSkip, podName, podnsBin, waitFor, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, shOk } from './support.js';

process.env.PODNS_BACKOFF_SCALE = '0.01';

interface Ctr {
  name: string;
  status: string;
  exitCode?: number;
  reason?: string;
  restartCount: number;
  waiting?: { reason: string };
  state: { terminated?: { exitCode: number; reason?: string }; waiting?: { reason: string } };
}
interface Pod {
  phase: string;
  conditions: { type: string; status: string }[];
  initContainers: Ctr[];
  containers: Ctr[];
}

const manifest = (name: string, policy: string, inits: string, app: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: ${policy}
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, emptyDir: {}}]
  initContainers:
${inits}  containers:
  - name: app
    image: ${BUSYBOX}
    command: ["sh", "-c", ${JSON.stringify(app)}]
    volumeMounts: [{name: data, mountPath: /data}]
`;
const init = (name: string, script: string) =>
  `  - name: ${name}\n    image: ${BUSYBOX}\n    command: ["sh", "-c", ${JSON.stringify(script)}]\n    volumeMounts: [{name: data, mountPath: /data}]\n`;

describe.skipIf(kernelSkip)('kubelet: init containers', () => {
  let podns: Podns;
  const ordered = podName('ki-order');
  const retried = podName('ki-retry');
  const never = podName('ki-never');
  const blocked = podName('ki-blocked');
  const once = podName('ki-once');
  // The other pods of this file still run: only this pod's leftovers count.
  const leaksOf = (name: string) => findLeaks(podns.root, [name]).filter((l) => l.includes(name));
  const get = async (name: string) => (await inspect(podns, name)) as unknown as Pod;

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    for (const p of [ordered, retried, never, blocked, once]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it('run one by one, in order, to completion, before the app container; then run returns with the app running', async () => {
    const inits =
      init('first', 'test ! -e /data/app-started && sleep 0.3 && echo first >> /data/order') +
      init('second', 'test ! -e /data/app-started && echo second >> /data/order');
    await podns.ok(['run', podns.writeManifest(ordered, manifest(ordered, 'Always', inits, 'touch /data/app-started; echo app >> /data/order; exec sleep 3600'))]);
    const p = await get(ordered);
    expect(p.containers[0]!.status).toBe('running');
    expect(p.phase).toBe('Running');
    expect(p.initContainers.map((c) => [c.name, c.status, c.exitCode, c.state.terminated?.reason])).toEqual([
      ['first', 'exited', 0, 'Completed'],
      ['second', 'exited', 0, 'Completed'],
    ]);
    expect(p.conditions.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(await shOk(podns, ordered, 'app', 'cat /data/order')).toBe('first\nsecond\napp');
    expect((await podns.ok(['logs', ordered, '-c', 'first'])).trim()).toBe('');
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${ordered}\\s+first\\s+Completed\\s`));
  });

  it('an init container that fails once is retried at once: no back-off, run returns with the app running', async () => {
    const inits = init('once', 'if [ -e /data/tried ]; then echo ok; else touch /data/tried; exit 4; fi');
    await podns.ok(['run', podns.writeManifest(once, manifest(once, 'OnFailure', inits, 'exec sleep 3600'))]);
    const p = await get(once);
    expect(p.initContainers[0]).toMatchObject({ name: 'once', restartCount: 1, exitCode: 0 });
    expect(p.containers[0]).toMatchObject({ status: 'running', restartCount: 0 });
    expect(await podns.ok(['events', once])).not.toMatch(/BackOff/);
  });

  it('a failing init container is retried (OnFailure) with a restart count; the app starts only after it succeeded', async () => {
    const inits = init('flaky', 'n=$(cat /data/n 2>/dev/null || echo 0); echo $((n+1)) > /data/n; echo try $((n+1)); [ $n -ge 2 ] || exit 5; echo ok > /data/init-ok');
    // run returns at the first back-off, after the second failure (the pod is Pending then); the retries go on
    // in the supervisor.
    await podns.ok(['run', podns.writeManifest(retried, manifest(retried, 'OnFailure', inits, 'cat /data/init-ok && exec sleep 3600'))]);
    await waitFor(async () => (await get(retried)).containers[0]?.status === 'running', 20_000, 'the app container after the retries');
    const p = await get(retried);
    expect(p.initContainers[0]).toMatchObject({ name: 'flaky', restartCount: 2, exitCode: 0 });
    expect(p.containers[0]).toMatchObject({ status: 'running', restartCount: 0 });
    expect((await podns.ok(['logs', retried, '-c', 'flaky'])).trim()).toBe('try 3');
    expect((await podns.ok(['logs', retried, '-c', 'flaky', '--previous'])).trim()).toBe('try 2');
    const reasons = (await podns.ok(['events', retried])).split('\n').filter((l) => /\/flaky\s/.test(l)).map((l) => l.trim().split(/\s+/)[2]);
    expect(reasons.filter((r) => r === 'Started' || r === 'BackOff')).toEqual(['Started', 'Started', 'BackOff', 'Started']);
  });

  it('under Never a failing init container fails the pod: run says why in one line, the app never ran', async () => {
    const inits = init('setup', 'echo no database; exit 3');
    const r = await podns.fails(['run', podns.writeManifest(never, manifest(never, 'Never', inits, 'exec sleep 3600'))]);
    expectCleanError(r, /init container "setup" failed \(Init:Error, exit code 3\).*restartPolicy Never.*no database/);
    expect(await podns.ok(['ps'])).not.toContain(never);
    // `podns run` returns on a failed start before its undo is quite over (as in faults.test.ts): wait for it.
    await waitFor(() => leaksOf(never).length === 0, 5000, 'nothing of the pod left').catch(() => undefined);
    expect(leaksOf(never)).toEqual([]);
  });

  it('an init container that keeps failing blocks the app container: Init:CrashLoopBackOff, PodInitializing, phase Pending', async () => {
    const file = podns.writeManifest(blocked, manifest(blocked, 'Always', init('wait', 'exit 1'), 'exec sleep 3600'));
    // run returns once the init container is in back-off, as `kubectl apply` would leave the pod Pending.
    expect(await podns.ok(['run', file])).toContain(`pod/${blocked} running`);
    await waitFor(async () => ((await get(blocked)).initContainers?.[0]?.restartCount ?? 0) >= 3, 20_000, 'three retries');
    const p = await get(blocked);
    expect(p.phase).toBe('Pending');
    expect(p.containers[0]).toMatchObject({ status: 'created' });
    expect(p.containers[0]!.state.waiting?.reason).toBe('PodInitializing');
    expect(p.conditions.find((c) => c.type === 'Initialized')?.status).toBe('False');
    await waitFor(async () => /Init:(CrashLoopBackOff|Error)/.test(await podns.ok(['ps'])), 5000, 'ps to show the init back-off');
    // The supervisor answers while the init container loops: a plain stop reaches it.
    await podns.ok(['rm', '-f', blocked]);
    await waitFor(() => leaksOf(blocked).length === 0, 5000, 'nothing of the pod left').catch(() => undefined);
    expect(leaksOf(blocked)).toEqual([]);
  });
});

describe.skipIf(kernelSkip)('run --wait and down FILE', () => {
  it('run --wait returns once the pods are Ready; down removes every pod of the file', async () => {
    const podns = await createPodns();
    try {
      const [a, b] = [podName('wait-a'), podName('wait-b')];
      const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - {name: c, image: yauritux/busybox-curl, command: [sleep, "3600"]}\n`;
      const file = podns.writeManifest('two', `${pod(a)}---\n${pod(b)}`);
      const out = await podns.ok(['run', '--wait', '10', file]);
      expect(out.trim().split('\n')).toEqual([`pod/${a} running`, `pod/${b} running`, `pod/${a} ready`, `pod/${b} ready`]);
      expect((await podns.ok(['down', file])).trim().split('\n')).toEqual([`pod/${a} deleted`, `pod/${b} deleted`]);
      expect(await podns.ok(['ps'])).not.toMatch(new RegExp(`${a}|${b}`));
      const again = await podns.fails(['down', file]);
      expect(again.stderr.trim()).toBe(`podns: ${file}: no such pods: ${a}, ${b}`);
    } finally {
      await podns.dispose();
    }
  });
});

describe.skipIf(kernelSkip)('run --attach', () => {
  it('follows a container across its restarts, each run in turn, and returns once it will not restart', async () => {
    const podns = await createPodns();
    try {
      const pod = podName('attach-runs');
      // Runs 1 and 2 fail (the first restart at once, the second after the scaled back-off); run 3 succeeds, and
      // OnFailure does not restart it: attach ends by itself.
      const script = 'n=$(($(cat /data/n 2>/dev/null || echo 0)+1)); echo $n > /data/n; echo run $n; echo err $n >&2; [ $n -ge 3 ] || exit 1';
      const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  restartPolicy: OnFailure\n  volumes: [{name: data, emptyDir: {}}]\n  containers:\n  - name: a\n    image: ${BUSYBOX}\n    command: [sh, -c, ${JSON.stringify(script)}]\n    volumeMounts: [{name: data, mountPath: /data}]\n`;
      const r = await podns.run(['run', '--attach', podns.writeManifest(pod, yaml)], { timeout: 20_000 });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const lines = (text: unknown) => String(text).split('\n').filter((l) => l.startsWith(`[${pod}/a]`));
      expect(lines(r.stdout)).toEqual([1, 2, 3].map((n) => `[${pod}/a] run ${n}`));
      expect(lines(r.stderr)).toEqual([1, 2, 3].map((n) => `[${pod}/a] err ${n}`));
      expect(((await inspect(podns, pod)).containers[0] as { restartCount: number }).restartCount).toBe(2);
      await podns.ok(['rm', pod]);
    } finally {
      await podns.dispose();
    }
  });

  it("streams every container's log with its name until they exit; Ctrl-C stops the pod", async () => {
    const podns = await createPodns();
    try {
      const [done, forever] = [podName('attach-done'), podName('attach-sig')];
      const yaml = (name: string, restart: string, script: string) =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  restartPolicy: ${restart}\n  containers:\n  - {name: a, image: yauritux/busybox-curl, command: [sh, -c, '${script}']}\n  - {name: b, image: yauritux/busybox-curl, command: [sh, -c, 'echo from b; echo oops >&2']}\n`;
      const r = await podns.run(['run', '--attach', podns.writeManifest(done, yaml(done, 'Never', 'echo one; echo two'))], { timeout: 20_000 });
      expect(r.exitCode).toBe(0);
      const out = String(r.stdout).split('\n');
      expect(out).toContain(`[${done}/a] one`);
      expect(out).toContain(`[${done}/a] two`);
      expect(out).toContain(`[${done}/b] from b`);
      expect(String(r.stderr)).toContain(`[${done}/b] oops`);
      // Ctrl-C: the pod is stopped and run returns.
      const child = execa(podnsBin, ['--root', podns.root, 'run', '--attach', podns.writeManifest(forever, yaml(forever, 'Always', 'echo up; exec sleep 3600'))], {
        env: { PODNS_NETWORK_MODE: 'none' },
        reject: false,
      });
      await waitFor(async () => new RegExp(`${forever}\\s+a\\s+Running`).test(String((await podns.run(['ps'])).stdout)), 10_000, 'the pod to run');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGINT');
      const ended = await child;
      expect(String(ended.stdout)).toContain(`[${forever}/a] up`);
      expect(String((await podns.run(['ps'])).stdout)).toMatch(new RegExp(`${forever}\\s+\\(pause\\)\\s+Stopped`));
      await podns.ok(['rm', done, forever]);
    } finally {
      await podns.dispose();
    }
  });
});
