/**
 * activeDeadlineSeconds against the real kernel: past the deadline every container is stopped with the pod's
 * grace period and the pod is Failed with reason DeadlineExceeded (ps shows the reason, as kubectl does); a pod
 * whose init containers outlast it fails `podns run` in one line and leaves nothing.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, waitFor, type Podns } from './harness.js';
import { BUSYBOX, leaksAfterRemoval, podYaml } from './support.js';

interface Pod {
  phase: string;
  reason?: string;
  message?: string;
  containers: { name: string; status: string; exitCode?: number }[];
}

describe.skipIf(kernelSkip)('kubelet: activeDeadlineSeconds', () => {
  let podns: Podns;
  const pod = podName('dl-pod');
  const init = podName('dl-init');

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    for (const p of [pod, init]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it('stops the pod at the deadline: Failed, DeadlineExceeded', async () => {
    const t0 = Date.now();
    await podns.ok([
      'run',
      podns.writeManifest(pod, podYaml(pod, { spec: '  activeDeadlineSeconds: 2\n  terminationGracePeriodSeconds: 1\n', containers: `  - name: app\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n` })),
    ]);
    await waitFor(async () => ((await inspect(podns, pod)) as unknown as Pod).phase === 'Failed', 8000, 'the deadline');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    const state = (await inspect(podns, pod)) as unknown as Pod;
    expect(state).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(state.containers[0]).toMatchObject({ status: 'exited', exitCode: 137 }); // sleep as PID 1 ignores SIGTERM
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+\\(pause\\)\\s+DeadlineExceeded`));
    expect(await podns.ok(['events', pod])).toMatch(/DeadlineExceeded/);
  });

  it('a deadline passed while init containers run fails run in one line; nothing is left', async () => {
    const r = await podns.fails([
      'run',
      podns.writeManifest(init, podYaml(init, { spec: `  activeDeadlineSeconds: 1\n  terminationGracePeriodSeconds: 0\n  initContainers:\n  - {name: slow, image: ${BUSYBOX}, command: ["sleep", "30"]}\n`, containers: `  - name: app\n    image: ${BUSYBOX}\n` })),
    ]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/exceeded its activeDeadlineSeconds \(1 s\) while initializing \(DeadlineExceeded\)/);
    expect(await leaksAfterRemoval(podns.root, [init])).toEqual([]);
  });
});
