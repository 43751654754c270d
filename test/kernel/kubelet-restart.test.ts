/**
 * The kubelet's restart rules against the real kernel: restartPolicy Always / OnFailure / Never, the crash-loop
 * back-off (gaps that grow), restart counts, one CRI log per run and `logs --previous`, no restart after a
 * user's stop, container states and reasons (CrashLoopBackOff, Completed, Error), the pod phase and conditions,
 * and ps's STATUS and RESTARTS columns.
 * The first restart is at once (kubelet has no back-off entry yet); the later back-off times are scaled by the
 * test-only PODNS_BACKOFF_SCALE (0.01: 100 ms, 200 ms, 400 ms … 3 s).
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, sleep, waitFor, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, podYaml, SLEEPER } from './support.js';

process.env.PODNS_BACKOFF_SCALE = '0.01';

interface KubeContainer {
  name: string;
  status: string;
  exitCode?: number;
  reason?: string;
  restartCount: number;
  stoppedByUser?: boolean;
  state: { waiting?: { reason: string; message?: string }; running?: object; terminated?: { exitCode: number; reason?: string } };
  startedAt?: string;
  lastState?: { terminated: { exitCode: number; reason?: string; finishedAt?: string } };
}
interface KubePod {
  phase: string;
  conditions: { type: string; status: string }[];
  containers: KubeContainer[];
}

describe.skipIf(kernelSkip)('kubelet: restartPolicy, back-off, phases', () => {
  let podns: Podns;
  const always = podName('kr-always');
  const onFailure = podName('kr-onfail');
  const never = podName('kr-never');
  const succeeded = podName('kr-ok');

  const pod = async (name: string) => (await inspect(podns, name)) as unknown as KubePod;
  const ctr = async (name: string, c: string) => (await pod(name)).containers.find((x) => x.name === c)!;
  /** A container's events (time in ms, reason), oldest first, as the supervisor stamped them. */
  const eventsOf = async (name: string, c: string) =>
    (await podns.ok(['events', name]))
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((cols) => cols[3] === `pod/${name}/${c}`)
      .map((cols) => ({ at: Date.parse(cols[0]!), reason: cols[2]! }));
  const eventReasons = async (name: string, c: string) => (await eventsOf(name, c)).map((e) => e.reason);
  const psRow = async (name: string, c: string) => (await podns.ok(['ps'])).split('\n').find((l) => l.startsWith(name) && l.split(/\s+/)[1] === c) ?? '';

  beforeAll(async () => {
    podns = await createPodns();
    const run = (name: string, spec: string, containers: string, volumes?: string) =>
      podns.ok(['run', podns.writeManifest(name, podYaml(name, { spec: `  terminationGracePeriodSeconds: 1\n${spec}`, containers, volumes }))]);
    await run(
      always,
      '',
      `  - name: crash
    image: ${BUSYBOX}
    command: ["sh", "-c", "echo crashing; exit 1"]
  - name: flaky
    image: ${BUSYBOX}
    command: ["sh", "-c", "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run $n; [ $n -ge 2 ] || exit 7; exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  - name: steady
    image: ${BUSYBOX}
    command: ${SLEEPER}
`,
      '  - {name: data, emptyDir: {}}\n',
    );
    await run(
      onFailure,
      '  restartPolicy: OnFailure\n',
      `  - name: done
    image: ${BUSYBOX}
    command: ["true"]
  - name: bad
    image: ${BUSYBOX}
    command: ["sh", "-c", "exit 3"]
`,
    );
    await run(never, '  restartPolicy: Never\n', `  - name: bad\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "exit 2"]\n`);
    await run(succeeded, '  restartPolicy: Never\n', `  - name: done\n    image: ${BUSYBOX}\n    command: ["true"]\n`);
  });
  afterAll(async () => {
    for (const p of [always, onFailure, never, succeeded]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it('Always restarts a crashing container with growing back-off gaps; the count grows; it waits in CrashLoopBackOff', async () => {
    await waitFor(async () => (await ctr(always, 'crash')).restartCount >= 5, 20_000, 'five restarts');
    // Its back-off is 1.6 s now: most of the time it waits.
    const waiting = await waitFor(async () => (await ctr(always, 'crash')).state.waiting, 10_000, 'the crash loop to wait');
    expect(waiting.reason).toBe('CrashLoopBackOff');
    expect(waiting.message).toMatch(/^back-off \S+ restarting failed container=crash pod=/);
    const c = await ctr(always, 'crash');
    expect(c.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    // The supervisor's own times (polling from here is too coarse under load): the first restart at once, then
    // back-off 100, 200, 400, 800 ms (scaled), each counted from the exit.
    const events = (await eventsOf(always, 'crash')).filter((e) => e.reason === 'Started' || e.reason === 'BackOff');
    const after = (await ctr(always, 'crash')).restartCount;
    const log = events.map((e) => `${e.reason}@${e.at}`).join(' ');
    // No BackOff before the first restart; one before each later one (and one more while it waits now). It
    // keeps crashing meanwhile: the events are read between two looks at the count.
    expect(events.slice(0, 4).map((e) => e.reason), log).toEqual(['Started', 'Started', 'BackOff', 'Started']);
    const backOffs = events.filter((e) => e.reason === 'BackOff').length;
    expect(backOffs, log).toBeGreaterThanOrEqual(c.restartCount - 1);
    expect(backOffs, log).toBeLessThanOrEqual(after);
    const starts = events.filter((e) => e.reason === 'Started').map((e) => e.at);
    const gap = (run: number) => starts[run]! - starts[run - 1]!;
    expect(gap(5), log).toBeGreaterThanOrEqual(800);
    expect(gap(5), log).toBeGreaterThan(gap(1) + 300);
    expect(gap(3), log).toBeGreaterThanOrEqual(200);
    expect(await psRow(always, 'crash')).toMatch(/\s(CrashLoopBackOff|Running|Error \(1\))\s.*\s\d+$/);
    expect(Number((await psRow(always, 'crash')).trim().split(/\s+/).at(-1))).toBeGreaterThanOrEqual(5);
  });

  it('stop -c of a container in its crash loop cancels the pending restart: it stays down', async () => {
    await podns.ok(['stop', always, '-c', 'crash', '-t', '0']);
    const before = (await ctr(always, 'crash')).restartCount;
    await sleep(3500);
    const c = await ctr(always, 'crash');
    expect(c).toMatchObject({ status: 'exited', restartCount: before, stoppedByUser: true });
    expect(c.state.terminated).toBeDefined();
    expect(await psRow(always, 'crash')).toMatch(/\sExited \(1\)\s/);
  });

  it('a container that fails once runs on after its restart; logs shows this run, logs --previous the one before', async () => {
    await waitFor(async () => (await ctr(always, 'flaky')).status === 'running' && (await ctr(always, 'flaky')).restartCount === 1, 10_000, 'flaky to run again');
    const c = await ctr(always, 'flaky');
    expect(c.lastState?.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(c.state.running).toBeDefined();
    // Its one restart was at once: never in CrashLoopBackOff, no BackOff event.
    expect(await eventReasons(always, 'flaky')).not.toContain('BackOff');
    expect((await podns.ok(['logs', always, '-c', 'flaky'])).trim()).toBe('run 2');
    expect((await podns.ok(['logs', always, '-c', 'flaky', '--previous'])).trim()).toBe('run 1');
    expect((await podns.ok(['logs', always, '-c', 'flaky', '-p'])).trim()).toBe('run 1');
    expect(await psRow(always, 'flaky')).toMatch(/\sRunning\s.*\s1$/);
  });

  it('logs --previous of a container that never restarted fails in one line', async () => {
    expectCleanError(await podns.fails(['logs', always, '-c', 'steady', '--previous']), /previous terminated container "steady" in pod ".*" not found/);
  });

  it('a container stopped by the user is not restarted, even under Always', async () => {
    await podns.ok(['stop', always, '-c', 'steady', '-t', '0']);
    await sleep(1000);
    const c = await ctr(always, 'steady');
    expect(c).toMatchObject({ status: 'exited', restartCount: 0, stoppedByUser: true });
    expect(c.state.terminated).toBeDefined();
    expect(await psRow(always, 'steady')).toMatch(/\sExited \(137\)\s/);
    // The pod runs on: it has containers that run or will be restarted; not Ready.
    const p = await pod(always);
    expect(p.phase).toBe('Running');
    expect(p.conditions).toContainEqual({ type: 'Ready', status: 'False', reason: expect.stringContaining('steady') });
  });

  it('OnFailure does not restart an exit 0 (Completed) but restarts a failure', async () => {
    await waitFor(async () => (await ctr(onFailure, 'bad')).restartCount >= 2, 10_000, 'bad to be restarted twice');
    await sleep(500);
    const done = await ctr(onFailure, 'done');
    expect(done).toMatchObject({ status: 'exited', exitCode: 0, reason: 'Completed', restartCount: 0 });
    expect(done.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await psRow(onFailure, 'done')).toMatch(/\sCompleted\s.*\s0$/);
    expect((await pod(onFailure)).phase).toBe('Running');
  });

  it('Never keeps a failed container down: Error (2), pod Failed', async () => {
    await waitFor(async () => (await ctr(never, 'bad')).status === 'exited', 10_000, 'bad to exit');
    await sleep(500);
    const c = await ctr(never, 'bad');
    expect(c).toMatchObject({ exitCode: 2, reason: 'Error', restartCount: 0 });
    expect(c.state.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(await psRow(never, 'bad')).toMatch(/\sError \(2\)\s.*\s0$/);
    expect((await pod(never)).phase).toBe('Failed');
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${never}\\s+\\(pause\\)\\s+Failed`));
  });

  it('a pod whose containers all exit 0 under Never is Succeeded; Initialized True, Ready False', async () => {
    await waitFor(async () => (await pod(succeeded)).phase === 'Succeeded', 10_000, 'the pod to succeed');
    const p = await pod(succeeded);
    expect(p.conditions.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(p.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(p.conditions.find((c) => c.type === 'ContainersReady')?.status).toBe('False');
  });
});
