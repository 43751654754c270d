/**
 * How long `podns run` waits for a start: as long as the supervisor shows it is alive (its heartbeat on the run
 * connection), with no limit on the whole start; a supervisor that falls silent (here: SIGSTOPped) is given up on,
 * and once it runs again it undoes the abandoned start; Ctrl-C during the wait abandons the start and leaves
 * nothing behind. The silence limit (60 s) is shrunk by the test-only PODNS_SILENCE_SCALE to 3 s, so that a
 * postStart hook of 5 s outlasts it.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, inspect, kernelSkip, podName, podnsBin, waitFor, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, podYaml, SLEEPER } from './support.js';

process.env.PODNS_SILENCE_SCALE = '0.05';

/** A pod whose one container's postStart hook sleeps `seconds`: its start takes that long. */
const slowStart = (name: string, seconds: number) =>
  podYaml(name, {
    spec: '  terminationGracePeriodSeconds: 1\n',
    containers: `  - name: app\n    image: ${BUSYBOX}\n    command: ${SLEEPER}\n    lifecycle:\n      postStart: {exec: {command: [sleep, "${seconds}"]}}\n`,
  });

describe.skipIf(kernelSkip)("run's wait for the start", () => {
  let podns: Podns;
  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns?.dispose();
  });

  /**
   * `podns run FILE` in the background; resolves once its container has started and the postStart hook sleeps
   * (the Started event is out; the container shows ContainerCreating meanwhile, as with kubelet), with the supervisor's pid.
   */
  const startInBackground = async (name: string, seconds: number) => {
    const child = execa(podnsBin, ['--root', podns.root, 'run', podns.writeManifest(name, slowStart(name, seconds))], {
      env: { PODNS_NETWORK_MODE: 'none' },
      reject: false,
      timeout: 60_000,
    });
    await waitFor(async () => /Started\s+pod\/\S+\/app\s/.test(String((await podns.run(['events', name])).stdout)), 20_000, 'the container to start');
    const pod = (await inspect(podns, name)) as Awaited<ReturnType<typeof inspect>> & { supervisor: { pid: number } };
    return { child, supervisor: pod.supervisor.pid };
  };

  it('a start longer than the silence limit succeeds: the supervisor beats while its postStart hook runs', async () => {
    const name = podName('rw-slow');
    const t0 = Date.now();
    await podns.ok(['run', podns.writeManifest(name, slowStart(name, 5))]);
    // The hook took 5 s, past the 3 s limit.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5000);
    expect((await inspect(podns, name)).containers[0]).toMatchObject({ status: 'running' });
    await podns.ok(['rm', '-f', name]);
    expect(findLeaks(podns.root, [name])).toEqual([]);
  }, 30_000);

  it('a supervisor that falls silent during the start is given up on after the limit, in one line; once it runs again it undoes the pod', async () => {
    const name = podName('rw-stuck');
    const { child, supervisor } = await startInBackground(name, 60);
    const stoppedAt = Date.now();
    process.kill(supervisor, 'SIGSTOP'); // this test root's supervisor
    let r;
    try {
      r = await child;
    } finally {
      process.kill(supervisor, 'SIGCONT');
    }
    // Silence counts from the last heartbeat, which came up to a second before the stop.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expectCleanError(
      { stderr: String(r.stderr), exitCode: r.exitCode },
      new RegExp(`pod "${name}": the supervisor gave no sign of life for 3 s; the start was abandoned \\(the supervisor undoes it once it runs again\\)$`),
    );
    await waitFor(async () => !(await podns.ok(['ps'])).includes(name), 15_000, 'the abandoned pod to be undone');
    expect(findLeaks(podns.root, [name])).toEqual([]);
  }, 40_000);

  it('Ctrl-C during the wait abandons the start: exit 1, one line, nothing left', async () => {
    const name = podName('rw-int');
    const { child } = await startInBackground(name, 60);
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const r = await child;
    expect(Date.now() - interruptedAt).toBeLessThan(10_000);
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, new RegExp(`pod "${name}": start interrupted \\(SIGINT\\); the pod was removed$`));
    expect(findLeaks(podns.root, [name])).toEqual([]);
    expect(await podns.ok(['ps'])).not.toContain(name);
  }, 40_000);
});
