/**
 * Workload kinds end to end: a Deployment of nginx and a Job in one file run as their two pods (web-pod, pi-pod),
 * the Job's pod completes, and `podns down FILE` removes both, leaving nothing.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, waitFor, type Podns } from './harness.js';
import { BUSYBOX, leaksAfterRemoval, shOk } from './support.js';

describe.skipIf(kernelSkip)('workload kinds', () => {
  let podns: Podns;
  const web = podName('wl-web');
  const job = podName('wl-job');
  let file: string;

  beforeAll(async () => {
    podns = await createPodns();
    file = podns.writeManifest(
      web,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${web}, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports: [{containerPort: 80}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: ${job}}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: count
        image: ${BUSYBOX}
        command: ["sh", "-c", "echo done"]
`,
    );
  });
  afterAll(async () => {
    await podns?.run(['down', file]);
    await podns?.dispose();
  });

  it('runs each template once, as <name>-pod; the Job completes; down removes them', async () => {
    const r = await podns.run(['run', file]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/spec\.replicas: 2: limiting the replica count to 1/);
    expect(await shOk(podns, `${web}-pod`, 'nginx', 'cat /etc/hostname')).toBe(`${web}-pod`);
    await waitFor(async () => (await inspect(podns, `${job}-pod`)).phase === 'Succeeded', 8000, 'the job');
    expect(await podns.ok(['logs', `${job}-pod`])).toBe('done');
    await podns.ok(['down', file]);
    expect(await leaksAfterRemoval(podns.root, [`${web}-pod`, `${job}-pod`])).toEqual([]);
  });
});
