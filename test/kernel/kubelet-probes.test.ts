/**
 * Probes wired into the supervisor against the real kernel: a failing liveness probe kills the container and
 * restartPolicy brings it back (Unhealthy and Killing events, a restart count); a readiness probe drives the
 * container's ready flag and the pod's Ready condition. Back-off scaled by the test-only PODNS_BACKOFF_SCALE.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, waitFor, type Podns } from './harness.js';
import { BUSYBOX, podYaml, shOk } from './support.js';

process.env.PODNS_BACKOFF_SCALE = '0.01';

interface Pod {
  conditions: { type: string; status: string }[];
  containers: { name: string; status: string; ready?: boolean; restartCount: number }[];
}

describe.skipIf(kernelSkip)('kubelet: probes in the supervisor', () => {
  let podns: Podns;
  const live = podName('kp-live');
  const ready = podName('kp-ready');
  const get = async (name: string) => (await inspect(podns, name)) as unknown as Pod;

  beforeAll(async () => {
    podns = await createPodns();
    await podns.ok([
      'run',
      podns.writeManifest(
        live,
        podYaml(live, {
          spec: '  terminationGracePeriodSeconds: 1\n',
          containers: `  - name: app
    image: ${BUSYBOX}
    command: ["sh", "-c", "touch /tmp/healthy; sleep 1; rm /tmp/healthy; exec sleep 3600"]
    livenessProbe: {exec: {command: ["test", "-e", "/tmp/healthy"]}, periodSeconds: 1, failureThreshold: 1}
`,
        }),
      ),
    ]);
    await podns.ok([
      'run',
      podns.writeManifest(
        ready,
        podYaml(ready, {
          containers: `  - name: app
    image: ${BUSYBOX}
    command: ["sh", "-c", "exec sleep 3600"]
    readinessProbe: {exec: {command: ["test", "-e", "/tmp/ready"]}, periodSeconds: 1}
`,
        }),
      ),
    ]);
  });
  afterAll(async () => {
    for (const p of [live, ready]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it('a failing liveness probe kills the container and it is restarted', async () => {
    await waitFor(async () => (await get(live)).containers[0]!.restartCount >= 1, 20_000, 'a restart after the liveness failure');
    const events = await podns.ok(['events', live]);
    expect(events).toMatch(/Unhealthy.*Liveness probe failed/);
    expect(events).toMatch(/Killing.*failed liveness probe, will be restarted/);
  });

  it('a readiness probe drives ready and the Ready condition', async () => {
    let p = await get(ready);
    expect(p.containers[0]).toMatchObject({ status: 'running', ready: false });
    expect(p.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
    await shOk(podns, ready, 'app', 'touch /tmp/ready');
    await waitFor(async () => (await get(ready)).conditions.find((c) => c.type === 'Ready')?.status === 'True', 10_000, 'Ready');
    p = await get(ready);
    expect(p.containers[0]!.ready).toBe(true);
    expect(p.conditions.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
  });
});
