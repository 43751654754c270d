/**
 * The pod manager's behaviour (kubelet's part for one pod) over the real runtime service, on the fake kernel
 * (test/unit/support/fake-kernel.ts) with fake time: start order, hooks, restart policy and back-off, probes,
 * stopping, the active deadline and a takeover by a new supervisor. Each test names the behaviour it proves and
 * checks the kernel calls where their order or their time is the point. No root, no real process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { terminationLogFile } from '../../../src/kubelet/container-mounts.js';
import { readPodStatus } from '../../../src/kubelet/pod-view.js';
import type { FakeProcess } from '../support/fake-kernel.js';
import { PodHarness, advance, settle, until, useFakeTime } from '../support/pod-harness.js';

/** A Pod named web; `spec` is its spec's body, indented by two spaces. */
const POD = (spec: string) => `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
${spec}`;

let h: PodHarness;
let t0: number;

beforeEach(() => {
  useFakeTime();
  t0 = Date.now();
});
afterEach(() => {
  h?.dispose();
  vi.useRealTimers();
});

/** How many processes were spawned as `what`. */
const spawns = (what: string) => h.kernel.processes.filter((p) => p.what === what).length;

/** The container's run `n` (1: its first) has been spawned. */
const spawned = (what: string, n = 1) => until(() => spawns(what) >= n, `${what} spawned ${n} time(s)`);

/**
 * What the execs of hooks and probes do, by their command: exit with this code, or `hang` until the test ends
 * them. The object is read at each spawn, so a test changes a probe's answer by changing it.
 */
function execs(behaviour: Record<string, number | 'hang'>): Record<string, number | 'hang'> {
  h.kernel.onSpawn((p) => {
    if (p.kind !== 'exec') return;
    const code = behaviour[p.argv[0]!];
    if (code === undefined) throw new Error(`no behaviour for exec ${p.argv.join(' ')}`);
    if (code !== 'hang') p.exit({ exitCode: code });
  });
  return behaviour;
}

/** Every run of the container exits with `code` as soon as it starts. */
function crashes(what: string, code: (run: number) => number): void {
  let run = 0;
  h.kernel.onSpawn((p) => p.what === what && p.exit({ exitCode: code(++run) }));
}

/** The messages of a run's CRI log (`<time> <stream> <tag> <message>` lines). */
const readLog = (name: string, run: number) =>
  fs.readFileSync(path.join(h.paths.logDir, name, `${run}.log`), 'utf8').trimEnd().split('\n').map((line) => line.split(' ').slice(3).join(' '));

const exitedWith = (name: string, restartCount: number) =>
  until(() => h.container(name).status === 'exited' && h.container(name).restartCount === restartCount, `${name} exited at restart count ${restartCount}`);

describe('init containers', () => {
  it('run one at a time, in order, each to exit 0 before the next starts', async () => {
    h = new PodHarness(POD(`  initContainers:
  - {name: first, image: busybox}
  - {name: second, image: busybox}
  containers:
  - {name: app, image: busybox}`));
    const started = h.pod.start();
    await spawned('container "first"');
    await settle();
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "first"']);
    expect(h.pod.status.phase).toBe('Pending');
    expect(h.container('app').waiting?.reason).toBe('PodInitializing');

    h.kernel.running('container "first"').exit({ exitCode: 0 });
    await spawned('container "second"');
    await settle();
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "first"', 'spawn container "second"']);

    h.kernel.running('container "second"').exit({ exitCode: 0 });
    await started;
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "first"', 'spawn container "second"', 'spawn container "app"']);
    expect(h.pod.status.phase).toBe('Running');
    expect(h.pod.status.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('a sidecar holds the containers after it until its startupProbe succeeds, and is not waited for beyond that', async () => {
    h = new PodHarness(POD(`  initContainers:
  - name: proxy
    image: busybox
    restartPolicy: Always
    startupProbe: {exec: {command: [listening]}, periodSeconds: 1, failureThreshold: 30}
  containers:
  - {name: app, image: busybox}`));
    const answer = execs({ listening: 1 });
    const started = h.pod.start();
    await spawned('container "proxy"');
    await advance(0);
    await advance(1_000);
    await until(() => h.events().filter((e) => e === 'Unhealthy proxy').length === 2, 'two failed startup probes');
    expect(spawns('container "app"')).toBe(0);
    answer.listening = 0;
    await advance(1_000);
    await started;
    expect(h.kernel.timeline(t0, 'spawn').filter((l) => !l.includes('exec'))).toEqual(['0s spawn pause', '0s spawn container "proxy"', '2s spawn container "app"']);
    expect(h.container('proxy')).toMatchObject({ status: 'running', started: true });
  });

  it("are retried after kubelet's back-off: the first retry at once, then 10 s doubling to a cap of 300 s, each a CrashLoopBackOff", async () => {
    h = new PodHarness(POD(`  initContainers:
  - {name: setup, image: busybox}
  containers:
  - {name: app, image: busybox}`));
    crashes('container "setup"', () => 1);
    // The start is reported once the init container first really waits (Init:CrashLoopBackOff, the pod Pending).
    await h.pod.start();
    expect(h.kernel.timeline(t0, 'spawn')).toEqual(['0s spawn pause', '0s spawn container "setup"', '0s spawn container "setup"']);
    expect(h.container('setup')).toMatchObject({ restartCount: 1, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=setup pod=web' } });
    expect(h.pod.status.phase).toBe('Pending');

    const waits = [10, 20, 40, 80, 160, 300, 300];
    const shown = ['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '5m0s'];
    for (const [i, seconds] of waits.entries()) {
      const before = spawns('container "setup"');
      await advance(seconds * 1000 - 1);
      expect(spawns('container "setup"'), `no retry before ${seconds} s`).toBe(before);
      await advance(1);
      await spawned('container "setup"', before + 1);
      await exitedWith('setup', i + 2);
      await until(() => h.container('setup').waiting?.message?.startsWith(`back-off ${shown[i + 1] ?? '5m0s'}`) === true, 'the next back-off');
    }
    expect(h.container('setup').lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    // Only the retries that waited were BackOffs; the app never started.
    expect(h.events().filter((e) => e === 'BackOff setup')).toHaveLength(waits.length + 1);
    expect(spawns('container "app"')).toBe(0);
  });

  it('under restartPolicy Never fail the start in one line, with the last log line, and nothing is retried', async () => {
    h = new PodHarness(POD(`  restartPolicy: Never
  initContainers:
  - {name: setup, image: busybox}
  containers:
  - {name: app, image: busybox}`));
    h.kernel.onSpawn((p) => {
      if (p.what !== 'container "setup"') return;
      p.write('stdout', 'cannot reach the database\n');
      p.exit({ exitCode: 3 });
    });
    const failure = await h.pod.start().then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failure).toBe('init container "setup" failed (Init:Error, exit code 3); restartPolicy Never: the pod failed; its last log line: cannot reach the database');
    // kubelet's getPhase: a failed init container under Never makes the pod Failed, whatever the rest.
    expect(readPodStatus(h.paths.runDir)?.phase).toBe('Failed');
    await h.pod.abort();
    expect(spawns('container "setup"')).toBe(1);
    expect(spawns('container "app"')).toBe(0);
    expect(h.kernel.processes.filter((p) => p.state === 'running')).toEqual([]);
  });
});

describe('app containers and their postStart hooks', () => {
  it("start in order, each only after the previous one's postStart returned (Waiting: ContainerCreating meanwhile)", async () => {
    h = new PodHarness(POD(`  containers:
  - {name: first, image: busybox, lifecycle: {postStart: {exec: {command: [warm-up]}}}}
  - {name: second, image: busybox}`));
    execs({ 'warm-up': 'hang' });
    const started = h.pod.start();
    await spawned('exec in container "first"');
    await settle();
    expect(spawns('container "second"')).toBe(0);
    expect(h.container('first')).toMatchObject({ status: 'running', waiting: { reason: 'ContainerCreating' }, ready: false });

    h.kernel.running('exec in container "first"').exit({ exitCode: 0 });
    await started;
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "first"', 'spawn exec in container "first"', 'spawn container "second"']);
    expect(h.container('first')).toMatchObject({ status: 'running', waiting: undefined, started: true, ready: true });
  });

  it('a failing postStart kills the container with the stop signal (FailedPostStartHook) and the next one still starts', async () => {
    h = new PodHarness(POD(`  restartPolicy: Never
  containers:
  - {name: first, image: busybox, lifecycle: {postStart: {exec: {command: [warm-up]}}}}
  - {name: second, image: busybox}`));
    execs({ 'warm-up': 7 });
    h.kernel.onSpawn((p) => p.kind === 'container' && p.obey('SIGTERM'));
    await h.pod.start();
    expect(h.kernel.trace('spawn', 'signal')).toEqual([
      'spawn pause',
      'spawn container "first"',
      'spawn exec in container "first"',
      'signal SIGTERM container "first"',
      'spawn container "second"',
    ]);
    expect(h.container('first')).toMatchObject({ status: 'exited', exitCode: 143, signal: 15 });
    expect(h.events()).toEqual(expect.arrayContaining(['FailedPostStartHook first', 'Killing first']));
    expect(h.container('second').status).toBe('running');
  });
});

describe('restartPolicy and the crash-loop back-off', () => {
  it.each([
    ['Always', 0, true, 'Running'],
    ['Always', 1, true, 'Running'],
    ['OnFailure', 0, false, 'Succeeded'],
    ['OnFailure', 1, true, 'Running'],
    ['Never', 0, false, 'Succeeded'],
    ['Never', 1, false, 'Failed'],
  ])('%s: an exit %i restarts: %s, and the pod is %s', async (policy, code, restarts, phase) => {
    h = new PodHarness(POD(`  restartPolicy: ${policy}
  containers:
  - {name: app, image: busybox}`));
    await h.pod.start();
    h.kernel.running('container "app"').exit({ exitCode: code });
    await exitedWith('app', 0);
    expect(h.container('app').restartPending).toBe(restarts || undefined);
    await advance(0);
    expect(spawns('container "app"')).toBe(restarts ? 2 : 1);
    await settle();
    expect(h.pod.status.phase).toBe(phase);
  });

  it("restarts at kubelet's times (at once, then 10 s doubling to 300 s); only a restart that waits is a CrashLoopBackOff; restartCount and lastState follow", async () => {
    h = new PodHarness(POD(`  containers:
  - {name: app, image: busybox}`));
    crashes('container "app"', (run) => 10 + run);
    await h.pod.start();
    await exitedWith('app', 0);
    // The first exit finds no back-off yet: restarted at once, and nothing says CrashLoopBackOff.
    expect(h.container('app')).toMatchObject({ restartPending: true, waiting: undefined });
    expect(h.events()).not.toContain('BackOff app');
    await advance(0);
    await exitedWith('app', 1);
    expect(h.kernel.timeline(t0, 'spawn')).toEqual(['0s spawn pause', '0s spawn container "app"', '0s spawn container "app"']);
    expect(h.events().filter((e) => e === 'BackOff app')).toHaveLength(1);
    expect(h.container('app').lastState?.terminated).toMatchObject({ exitCode: 11, reason: 'Error' });

    let now = 0;
    const waits = [10, 20, 40, 80, 160, 300, 300];
    for (const [i, seconds] of waits.entries()) {
      expect(h.container('app')).toMatchObject({ status: 'exited', restartPending: true, waiting: { reason: 'CrashLoopBackOff' } });
      await advance(seconds * 1000 - 1);
      expect(spawns('container "app"'), `no restart before ${seconds} s`).toBe(i + 2);
      await advance(1);
      now += seconds;
      await exitedWith('app', i + 2);
      expect(h.kernel.timeline(t0, 'spawn').at(-1)).toBe(`${now}s spawn container "app"`);
      expect(h.container('app').lastState?.terminated).toMatchObject({ exitCode: 10 + i + 2 });
      expect(h.container('app').exitCode).toBe(10 + i + 3);
    }
    expect(h.events().filter((e) => e === 'BackOff app')).toHaveLength(waits.length + 1);
    expect(h.pod.status.phase).toBe('Running');
  });

  it('after a run of more than 10 minutes the back-off starts again: at once, then 10 s', async () => {
    h = new PodHarness(POD(`  containers:
  - {name: app, image: busybox}`));
    await h.pod.start();
    const exitNow = async (restartCount: number) => {
      h.kernel.running('container "app"').exit({ exitCode: 1 });
      await exitedWith('app', restartCount);
    };
    await exitNow(0);
    await advance(0); // at once
    await exitNow(1);
    await advance(10_000); // 10 s
    await spawned('container "app"', 3);
    await advance(11 * 60_000); // a run of 11 minutes
    await exitNow(2);
    expect(h.container('app').waiting).toBeUndefined();
    await advance(0);
    expect(spawns('container "app"')).toBe(4);
    await exitNow(3);
    expect(h.container('app').waiting?.message).toBe('back-off 10s restarting failed container=app pod=web');
  });

  it('a restart whose spawn fails is a StartError (exit 128, the addon\'s message) and is retried after the back-off', async () => {
    h = new PodHarness(POD(`  containers:
  - {name: app, image: busybox}`));
    // The third spawn (pause, app, then the app's first restart) fails at exec.
    h.kernel.failOn('spawn', { nth: 3, step: 'exec', code: 'EACCES' });
    await h.pod.start();
    h.kernel.running('container "app"').exit({ exitCode: 1 });
    await exitedWith('app', 0);
    await advance(0);
    await until(() => h.container('app').reason === 'StartError', 'the StartError');
    expect(h.container('app')).toMatchObject({
      status: 'exited',
      exitCode: 128,
      message: 'container "app": exec "/bin/app": permission denied (EACCES)',
      waiting: { reason: 'CrashLoopBackOff' },
    });
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "app"', 'spawn container "app" failed EACCES']);
    await advance(10_000);
    await until(() => h.container('app').status === 'running', 'the retry');
    expect(h.kernel.timeline(t0, 'spawn').at(-1)).toBe('10s spawn container "app"');
  });
});

describe('the terminated state', () => {
  it("takes its message from the termination-log file, or with FallbackToLogsOnError from the log's tail on an error exit", async () => {
    h = new PodHarness(POD(`  restartPolicy: Never
  containers:
  - {name: told, image: busybox}
  - {name: crashed, image: busybox, terminationMessagePolicy: FallbackToLogsOnError}`));
    await h.pod.start();
    fs.writeFileSync(terminationLogFile(h.paths, 'told'), 'done: 3 files');
    h.kernel.running('container "told"').exit({ exitCode: 0 });
    const crashed = h.kernel.running('container "crashed"');
    crashed.write('stdout', 'starting\n');
    crashed.write('stderr', 'panic: no config\n');
    crashed.exit({ exitCode: 2 });
    await exitedWith('told', 0);
    await exitedWith('crashed', 0);
    expect(h.container('told')).toMatchObject({ exitCode: 0, reason: 'Completed', message: 'done: 3 files' });
    expect(h.container('crashed')).toMatchObject({ exitCode: 2, reason: 'Error', message: 'starting\npanic: no config\n' });
    expect(h.pod.status.phase).toBe('Failed');
  });
});

describe('probes', () => {
  it('a liveness probe failing failureThreshold times kills the container with its grace period, and restartPolicy brings it back', async () => {
    h = new PodHarness(POD(`  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: busybox
    livenessProbe: {exec: {command: [healthy]}, periodSeconds: 10, failureThreshold: 3}`));
    const answer = execs({ healthy: 0 });
    await h.pod.start();
    await advance(0); // the first probe, at once: it passes
    answer.healthy = 1;
    for (let n = 1; n <= 3; n++) {
      await advance(10_000);
      await until(() => h.events().filter((e) => e === 'Unhealthy app').length === n, `failure ${n}`);
    }
    // The third failure at 30 s: the stop signal, then SIGKILL once the pod's 5 s are used up (it ignores SIGTERM).
    await until(() => h.kernel.trace('signal').length === 1, 'the stop signal');
    await advance(5_000);
    await exitedWith('app', 0);
    expect(h.kernel.timeline(t0, 'signal')).toEqual(['30s signal SIGTERM container "app"', '35s signal SIGKILL container "app"']);
    expect(h.events()).toContain('Killing app');
    answer.healthy = 0;
    await advance(0);
    await until(() => h.container('app').status === 'running', 'the restart');
    expect(h.container('app')).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 137, signal: 9 } } });
    expect(h.kernel.timeline(t0, 'spawn').filter((l) => l.endsWith('spawn container "app"'))).toEqual(['0s spawn container "app"', '35s spawn container "app"']);
  });

  it('readiness drives the container\'s ready, and the ContainersReady and Ready conditions', async () => {
    h = new PodHarness(POD(`  containers:
  - name: app
    image: busybox
    readinessProbe: {exec: {command: [ready]}, periodSeconds: 5, failureThreshold: 1}`));
    const answer = execs({ ready: 1 });
    const conditions = () => Object.fromEntries((h.pod.status.conditions ?? []).map((c) => [c.type, c.status]));
    await h.pod.start();
    await advance(0);
    await until(() => h.events().includes('Unhealthy app'), 'the first probe');
    expect(h.container('app').ready).toBe(false);
    expect(conditions()).toEqual({ Initialized: 'True', ContainersReady: 'False', Ready: 'False' });

    answer.ready = 0;
    await advance(5_000);
    await until(() => h.container('app').ready === true, 'ready');
    expect(conditions()).toEqual({ Initialized: 'True', ContainersReady: 'True', Ready: 'True' });

    answer.ready = 1;
    await advance(5_000);
    await until(() => h.container('app').ready === false, 'not ready again');
    expect(conditions()).toEqual({ Initialized: 'True', ContainersReady: 'False', Ready: 'False' });
    // Readiness never kills.
    expect(h.kernel.trace('signal')).toEqual([]);
  });
});

describe('stopping', () => {
  it('runs preStop, then sends the stop signal, then SIGKILL when the grace period is used up', async () => {
    h = new PodHarness(POD(`  terminationGracePeriodSeconds: 30
  containers:
  - {name: app, image: busybox, lifecycle: {preStop: {exec: {command: [drain]}}}}`));
    execs({ drain: 'hang' });
    await h.pod.start();
    const stopped = h.pod.stopPod(30);
    await spawned('exec in container "app"');
    await advance(10_000);
    h.kernel.running('exec in container "app"').exit({ exitCode: 0 });
    await until(() => h.kernel.trace('signal').length === 1, 'the stop signal');
    await advance(20_000);
    await stopped;
    expect(h.kernel.timeline(t0, 'spawn', 'signal')).toEqual([
      '0s spawn pause',
      '0s spawn container "app"',
      '0s spawn exec in container "app"',
      '10s signal SIGTERM container "app"',
      '30s signal SIGKILL container "app"',
      '30s signal SIGKILL pause',
    ]);
    expect(h.pod.status.phase).toBe('Stopped');
  });

  it('a preStop that eats the grace period still leaves the process 2 s after the stop signal', async () => {
    h = new PodHarness(POD(`  terminationGracePeriodSeconds: 5
  containers:
  - {name: app, image: busybox, lifecycle: {preStop: {exec: {command: [drain]}}}}`));
    execs({ drain: 'hang' });
    await h.pod.start();
    const stopped = h.pod.stopPod(5);
    await spawned('exec in container "app"');
    await advance(5_000);
    await until(() => h.kernel.trace('signal').length === 2, 'the hook killed and the stop signal');
    await advance(2_000);
    await stopped;
    expect(h.kernel.timeline(t0, 'signal')).toEqual([
      '5s signal SIGKILL exec in container "app"',
      '5s signal SIGTERM container "app"',
      '7s signal SIGKILL container "app"',
      '7s signal SIGKILL pause',
    ]);
    expect(h.events()).toContain('FailedPreStopHook app');
  });

  it('sends the image\'s StopSignal instead of SIGTERM', async () => {
    h = new PodHarness(POD(`  containers:
  - {name: app, image: busybox}`));
    h.spec.images.app!.config.StopSignal = 'SIGQUIT';
    h.kernel.onSpawn((p) => p.kind === 'container' && p.obey('SIGQUIT'));
    await h.pod.start();
    await h.pod.stopPod(30);
    expect(h.kernel.trace('signal')).toEqual(['signal SIGQUIT container "app"', 'signal SIGKILL pause']);
  });

  it('stops the sidecars after the app containers, one by one in reverse order', async () => {
    h = new PodHarness(POD(`  initContainers:
  - {name: proxy, image: busybox, restartPolicy: Always}
  - {name: logger, image: busybox, restartPolicy: Always}
  containers:
  - {name: app, image: busybox}`));
    h.kernel.onSpawn((p) => p.kind === 'container' && p.obey('SIGTERM'));
    await h.pod.start();
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "proxy"', 'spawn container "logger"', 'spawn container "app"']);
    await h.pod.stopPod(30);
    expect(h.kernel.trace('signal')).toEqual(['signal SIGTERM container "app"', 'signal SIGTERM container "logger"', 'signal SIGTERM container "proxy"', 'signal SIGKILL pause']);
  });

  it('stops the sidecars, in reverse order, once the app containers are done for good; the pod then has their phase', async () => {
    h = new PodHarness(POD(`  restartPolicy: Never
  initContainers:
  - {name: proxy, image: busybox, restartPolicy: Always}
  - {name: logger, image: busybox, restartPolicy: Always}
  containers:
  - {name: app, image: busybox}`));
    h.kernel.onSpawn((p) => p.kind === 'container' && p.obey('SIGTERM'));
    await h.pod.start();
    h.kernel.running('container "app"').exit({ exitCode: 0 });
    await until(() => h.container('proxy').status === 'exited', 'the sidecars stopped');
    expect(h.kernel.trace('signal')).toEqual(['signal SIGTERM container "logger"', 'signal SIGTERM container "proxy"']);
    await settle();
    expect(h.pod.status.phase).toBe('Succeeded');
    // Not restarted, though a sidecar comes back whatever the pod's policy while the app containers run.
    await advance(0);
    expect(spawns('container "proxy"')).toBe(1);
  });
});

describe('a dead sandbox', () => {
  it('a pause that dies fails the pod: its containers are killed (the app ones, then the sidecars) and nothing restarts', async () => {
    h = new PodHarness(POD(`  initContainers:
  - {name: proxy, image: busybox, restartPolicy: Always}
  containers:
  - {name: app, image: busybox}`));
    let stopped = false;
    h.pod.onStopped = () => (stopped = true);
    await h.pod.start();
    h.kernel.running('pause').exit({ signal: 9 });
    await until(() => stopped, 'the pod stopped');
    await advance(0);
    expect(h.kernel.trace('spawn', 'signal')).toEqual(['spawn pause', 'spawn container "proxy"', 'spawn container "app"', 'signal SIGKILL container "app"', 'signal SIGKILL container "proxy"']);
    expect(h.pod.status.phase).toBe('Failed');
    expect(h.container('app')).toMatchObject({ status: 'exited', exitCode: 137, restartPending: undefined });
  });
});

describe('activeDeadlineSeconds', () => {
  it('past the deadline every container is killed with its grace period and the pod is Failed (DeadlineExceeded)', async () => {
    h = new PodHarness(POD(`  activeDeadlineSeconds: 60
  terminationGracePeriodSeconds: 10
  containers:
  - {name: app, image: busybox}`));
    let stopped = false;
    h.pod.onStopped = () => (stopped = true);
    await h.pod.start();
    await advance(59_999);
    expect(h.kernel.trace('signal')).toEqual([]);
    await advance(1);
    await until(() => h.kernel.trace('signal').length === 1, 'the stop signal');
    await advance(10_000);
    await until(() => stopped, 'the pod stopped');
    expect(h.kernel.timeline(t0, 'signal')).toEqual(['60s signal SIGTERM container "app"', '70s signal SIGKILL container "app"', '70s signal SIGKILL pause']);
    expect(h.pod.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(h.events()).toContain('DeadlineExceeded');
  });

  it('while the init containers run, what runs is stopped with its grace period, then the start fails in one line', async () => {
    h = new PodHarness(POD(`  activeDeadlineSeconds: 30
  terminationGracePeriodSeconds: 10
  initContainers:
  - {name: setup, image: busybox}
  containers:
  - {name: app, image: busybox}`));
    let failure: string | undefined;
    void h.pod.start().catch((err: Error) => (failure = err.message));
    await spawned('container "setup"');
    await advance(30_000);
    await until(() => h.kernel.trace('signal').length === 1, 'the stop signal');
    await advance(9_999);
    expect(failure).toBeUndefined();
    await advance(1);
    await until(() => failure !== undefined, 'the start to fail');
    expect(failure).toBe('pod "web" exceeded its activeDeadlineSeconds (30 s) while initializing (DeadlineExceeded)');
    await h.pod.abort();
    expect(h.kernel.timeline(t0, 'signal')).toEqual(['30s signal SIGTERM container "setup"', '40s signal SIGKILL container "setup"', '40s signal SIGKILL pause']);
    expect(spawns('container "app"')).toBe(0);
  });
});

describe('a failed start', () => {
  it('a sandbox whose /dev/shm cannot be mounted fails in one line, and abort leaves nothing behind', async () => {
    h = new PodHarness(POD(`  containers:
  - {name: app, image: busybox}`));
    h.kernel.failOn('mount', { code: 'EBUSY' });
    await expect(h.pod.start()).rejects.toThrow(`mount tmpfs "shm" on "${h.paths.shmDir}": device or resource busy (EBUSY)`);
    await h.pod.abort();
    expect(h.kernel.trace('spawn')).toEqual([]);
  });
});

describe('takeover by a new supervisor', () => {
  const APP = POD(`  containers:
  - {name: app, image: busybox}`);

  it("watches the running containers it adopted: their exits reach it, restartPolicy applies, output goes on into the same log", async () => {
    h = new PodHarness(APP);
    await h.pod.start();
    const app = h.kernel.running('container "app"');
    app.write('stdout', 'before\n');
    h.takeOver();
    expect(h.kernel.trace('watchForeignExit', 'takeFd')).toEqual([
      'watchForeignExit pause',
      'takeFd 4 of pause',
      'watchForeignExit container "app"',
      'takeFd 5 of pause',
      'takeFd 6 of pause',
    ]);
    expect(h.events().at(-1)).toBe('TookOver');
    app.write('stdout', 'after\n');
    app.exit({ exitCode: 1 });
    await exitedWith('app', 0);
    await advance(0);
    await until(() => h.container('app').status === 'running', 'the restart');
    expect(h.container('app')).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error' } } });
    expect(readLog('app', 0)).toEqual(['before', 'after']);
  });

  it('schedules the restart the dead supervisor had pending (its back-off starts afresh)', async () => {
    h = new PodHarness(APP);
    crashes('container "app"', () => 1);
    await h.pod.start();
    await exitedWith('app', 0);
    await advance(0);
    await exitedWith('app', 1);
    expect(h.container('app')).toMatchObject({ restartPending: true, waiting: { reason: 'CrashLoopBackOff' } });
    await advance(3_000);
    h.takeOver();
    await advance(0);
    await spawned('container "app"', 3);
    expect(h.kernel.timeline(t0, 'spawn').at(-1)).toBe('3s spawn container "app"');
    await exitedWith('app', 2);
  });

  it('resumes the init containers where the dead supervisor was', async () => {
    h = new PodHarness(POD(`  initContainers:
  - {name: first, image: busybox}
  - {name: second, image: busybox}
  containers:
  - {name: app, image: busybox}`));
    void h.pod.start().catch(() => undefined);
    await spawned('container "first"');
    h.takeOver();
    h.kernel.running('container "first"').exit({ exitCode: 0 });
    await spawned('container "second"');
    h.kernel.running('container "second"').exit({ exitCode: 0 });
    await spawned('container "app"');
    await until(() => h.pod.status.phase === 'Running', 'Running');
    expect(h.kernel.trace('spawn')).toEqual(['spawn pause', 'spawn container "first"', 'spawn container "second"', 'spawn container "app"']);
  });

  it('fails the pod (phase Failed) when a resumed init container fails under restartPolicy Never', async () => {
    h = new PodHarness(POD(`  restartPolicy: Never
  initContainers:
  - {name: setup, image: busybox}
  containers:
  - {name: app, image: busybox}`));
    void h.pod.start().catch(() => undefined);
    await spawned('container "setup"');
    h.takeOver();
    h.kernel.running('container "setup"').exit({ exitCode: 1 });
    await exitedWith('setup', 0);
    await settle();
    expect(readPodStatus(h.paths.runDir)).toMatchObject({ phase: 'Failed', conditions: expect.arrayContaining([{ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' }]) });
    expect(spawns('container "app"')).toBe(0);
  });

  it('reports a container that exited while no supervisor ran as ContainerStatusUnknown, 137, and restarts it', async () => {
    h = new PodHarness(APP);
    await h.pod.start();
    let app!: FakeProcess;
    h.takeOver(() => {
      app = h.kernel.running('container "app"');
      app.write('stdout', 'last words\n');
      app.exit({ exitCode: 0 });
    });
    await exitedWith('app', 0);
    expect(h.container('app')).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown', restartPending: true });
    expect(h.container('app').message).toMatch(/^The container's exit was not seen/);
    await advance(0);
    await until(() => h.container('app').status === 'running', 'the restart');
    expect(h.container('app').lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
    expect(readLog('app', 0)).toEqual(['last words']);
  });
});
