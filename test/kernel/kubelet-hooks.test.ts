/**
 * Lifecycle hooks, the grace period and termination messages against the real kernel: postStart and preStop
 * exec hooks (seen through a file in a shared emptyDir), preStop counted against terminationGracePeriodSeconds
 * before the stop signal and SIGKILL, a failing postStart killing its container (FailedPostStartHook), an
 * httpGet hook without a pod IP failing in one line, and the terminated state's message from
 * terminationMessagePath or, with FallbackToLogsOnError, from the log's tail.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, waitFor, type Podns } from './harness.js';
import { BUSYBOX, shOk } from './support.js';

process.env.PODNS_BACKOFF_SCALE = '0.01';

interface Ctr {
  name: string;
  status: string;
  exitCode?: number;
  message?: string;
  state: { terminated?: { exitCode: number; reason?: string; message?: string } };
}
const box = (name: string, script: string, extra = '') =>
  `  - name: ${name}\n    image: ${BUSYBOX}\n    command: ["sh", "-c", ${JSON.stringify(script)}]\n    volumeMounts: [{name: shared, mountPath: /shared}]\n${extra}`;
const manifest = (name: string, spec: string, containers: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${spec}  volumes: [{name: shared, emptyDir: {}}]\n  containers:\n${containers}`;

describe.skipIf(kernelSkip)('kubelet: lifecycle hooks, grace period, termination messages', () => {
  let podns: Podns;
  const hooks = podName('kh-hooks');
  const failing = podName('kh-fail');
  const messages = podName('kh-msg');
  const ctr = async (pod: string, name: string) => ((await inspect(podns, pod)) as unknown as { containers: Ctr[] }).containers.find((c) => c.name === name)!;
  const events = async () => (await shOk(podns, hooks, 'watcher', 'cat /shared/events')).split('\n');

  beforeAll(async () => {
    podns = await createPodns();
    const hooked = box(
      'hooked',
      "trap 'echo term >> /shared/events; exit 0' TERM; echo main >> /shared/events; while true; do sleep 0.1; done",
      `    lifecycle:
      postStart: {exec: {command: ["sh", "-c", "echo poststart >> /shared/events"]}}
      preStop: {exec: {command: ["sh", "-c", "echo prestop >> /shared/events; sleep 1; echo prestop-done >> /shared/events"]}}
`,
    );
    const slow = box('slowstop', "trap '' TERM; while true; do sleep 0.1; done", `    lifecycle:\n      preStop: {exec: {command: ["sleep", "30"]}}\n`);
    const sleepy = box('sleepy', "trap 'echo sleepy-term >> /shared/events; exit 0' TERM; while true; do sleep 0.1; done", '    lifecycle:\n      preStop: {sleep: {seconds: 1}}\n');
    await podns.ok(['run', podns.writeManifest(hooks, manifest(hooks, '  terminationGracePeriodSeconds: 3\n', hooked + slow + sleepy + box('watcher', 'exec sleep 3600')))]);
  });
  afterAll(async () => {
    for (const p of [hooks, failing, messages]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it('postStart runs in the container after its start; run returns after it', async () => {
    const seen = await events();
    expect(seen).toContain('poststart');
    expect(seen).toContain('main');
  });

  it('preStop runs before the stop signal, and the container ends on that signal', async () => {
    const t0 = Date.now();
    await podns.ok(['stop', hooks, '-c', 'hooked']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const seen = await events();
    expect(seen.slice(seen.indexOf('prestop'))).toEqual(['prestop', 'prestop-done', 'term']);
    expect(await ctr(hooks, 'hooked')).toMatchObject({ status: 'exited', exitCode: 0 });
  });

  it('a preStop that outlasts the grace period is cut off; the stop signal comes, then SIGKILL (137)', async () => {
    const t0 = Date.now();
    await podns.ok(['stop', hooks, '-c', 'slowstop']);
    const took = Date.now() - t0;
    // 3 s of grace used up by the hook, then kubelet's minimum of 2 s after the stop signal.
    expect(took).toBeGreaterThanOrEqual(4500);
    expect(took).toBeLessThan(9000);
    expect(await ctr(hooks, 'slowstop')).toMatchObject({ status: 'exited', exitCode: 137 });
    expect(await podns.ok(['events', hooks])).toMatch(/FailedPreStopHook/);
  });

  it('a preStop sleep holds the stop signal back for its seconds', async () => {
    const t0 = Date.now();
    await podns.ok(['stop', hooks, '-c', 'sleepy']);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(2500);
    const seen = await events();
    expect(seen).toContain('sleepy-term');
    expect(await ctr(hooks, 'sleepy')).toMatchObject({ status: 'exited', exitCode: 0 });
  });

  it('a failing postStart kills the container (FailedPostStartHook); an httpGet hook needs a pod IP', async () => {
    const bad = box('badhook', 'exec sleep 3600', '    lifecycle:\n      postStart: {exec: {command: ["sh", "-c", "echo nope; exit 4"]}}\n');
    const http = box('httphook', 'exec sleep 3600', '    lifecycle:\n      postStart: {httpGet: {port: 8080, path: /ready}}\n');
    await podns.ok(['run', podns.writeManifest(failing, manifest(failing, '  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n', bad + http))]);
    await waitFor(async () => (await ctr(failing, 'badhook')).status === 'exited' && (await ctr(failing, 'httphook')).status === 'exited', 10_000, 'both to be killed');
    const ev = await podns.ok(['events', failing]);
    expect(ev).toMatch(/FailedPostStartHook.*badhook|badhook.*FailedPostStartHook/);
    expect(ev).toMatch(/exited with 4: nope/);
    expect(ev).toMatch(/httpGet hooks need a pod IP/);
    expect(ev).toMatch(/Killing/);
  });

  it('the terminated state carries the termination message: the file, a custom path, the log tail on error', async () => {
    const fallback = '    terminationMessagePolicy: FallbackToLogsOnError\n';
    await podns.ok([
      'run',
      podns.writeManifest(
        messages,
        manifest(
          messages,
          '  restartPolicy: Never\n',
          box('file', 'echo all done > /dev/termination-log; exit 0') +
            box('custom', 'echo went wrong > /tmp/why; exit 1', '    terminationMessagePath: /tmp/why\n') +
            box('fallback', 'i=1; while [ $i -le 100 ]; do echo line $i; i=$((i+1)); done; exit 2', fallback) +
            box('fallback-ok', 'echo fine; exit 0', fallback) +
            box('sleeper', 'exec sleep 3600'),
        ),
      ),
    ]);
    await waitFor(async () => (await ctr(messages, 'fallback')).status === 'exited' && (await ctr(messages, 'file')).status === 'exited' && (await ctr(messages, 'custom')).status === 'exited', 10_000, 'the containers to exit');
    expect((await ctr(messages, 'file')).state.terminated?.message).toBe('all done\n');
    expect((await ctr(messages, 'custom')).state.terminated).toMatchObject({ exitCode: 1, message: 'went wrong\n' });
    const tail = (await ctr(messages, 'fallback')).state.terminated!.message!;
    expect(tail.split('\n').filter(Boolean)).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 21}`));
    await waitFor(async () => (await ctr(messages, 'fallback-ok')).status === 'exited', 10_000, 'fallback-ok to exit');
    expect((await ctr(messages, 'fallback-ok')).state.terminated?.message).toBeUndefined();
    // The file is the container's own: it exists, empty, in a running container.
    expect(await shOk(podns, messages, 'sleeper', 'test -f /dev/termination-log && wc -c < /dev/termination-log')).toBe('0');
  });
});
