/**
 * Sidecar containers (init containers with restartPolicy: Always, KEP-753) against the real kernel: the
 * Kubernetes docs' Job example as a pod (the sidecar runs beside the app, is stopped once the app is done, and the
 * pod Succeeds), a startupProbe holding the app containers back until the sidecar has started, a sidecar
 * restarted under a pod restartPolicy of Never, and the stop order (app containers first, sidecars after).
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
  restartCount: number;
  started?: boolean;
  ready?: boolean;
  process?: { pid: number };
}
interface Pod {
  phase: string;
  conditions: { type: string; status: string }[];
  containers: Ctr[];
  initContainers?: Ctr[];
}

describe.skipIf(kernelSkip)('kubelet: sidecar containers', () => {
  let podns: Podns;
  const job = podName('sc-job');
  const order = podName('sc-order');
  const get = async (pod: string) => (await inspect(podns, pod)) as unknown as Pod;
  const sidecar = async (pod: string, name: string) => (await get(pod)).initContainers!.find((c) => c.name === name)!;

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    for (const p of [job, order]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it("the docs' Job example: the log shipper runs beside the job, is stopped when it is done, and the pod Succeeds", async () => {
    // https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/ (the Job's pod template).
    await podns.ok([
      'run',
      podns.writeManifest(
        job,
        `apiVersion: v1
kind: Pod
metadata: {name: ${job}}
spec:
  containers:
    - name: myjob
      image: ${BUSYBOX}
      command: ['sh', '-c', 'sleep 1; echo "logging" > /opt/logs.txt']
      volumeMounts:
        - name: data
          mountPath: /opt
  initContainers:
    - name: logshipper
      image: ${BUSYBOX}
      restartPolicy: Always
      command: ['sh', '-c', 'tail -F /opt/logs.txt']
      volumeMounts:
        - name: data
          mountPath: /opt
  restartPolicy: Never
  # tail is PID 1 of its own PID namespace and so ignores SIGTERM: it goes at the end of the grace period.
  terminationGracePeriodSeconds: 2
  volumes:
    - name: data
      emptyDir: {}
`,
      ),
    ]);
    await waitFor(async () => (await get(job)).phase === 'Succeeded', 10_000, 'the pod to succeed');
    await waitFor(async () => (await sidecar(job, 'logshipper')).status === 'exited', 10_000, 'the sidecar to be stopped');
    const pod = await get(job);
    expect(pod.containers[0]).toMatchObject({ name: 'myjob', status: 'exited', exitCode: 0 });
    // Stopped by podns (SIGTERM, then SIGKILL after the grace period: 137), not restarted.
    expect(pod.initContainers![0]).toMatchObject({ status: 'exited', exitCode: 137, restartCount: 0 });
    expect(await podns.ok(['logs', job, '-c', 'logshipper'])).toContain('logging');
    expect(await podns.ok(['events', job])).toMatch(/Stopping container logshipper/);
  });

  it('a startupProbe holds the app containers back; sidecars restart under restartPolicy Never; stop: apps first', async () => {
    await podns.ok([
      'run',
      podns.writeManifest(
        order,
        `apiVersion: v1
kind: Pod
metadata: {name: ${order}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: proxy
    image: ${BUSYBOX}
    restartPolicy: Always
    command: ["sh", "-c", "trap 'echo proxy-term >> /shared/stops; exit 0' TERM; sleep 1; touch /shared/up; while true; do sleep 0.1; done"]
    startupProbe: {exec: {command: ["test", "-e", "/shared/up"]}, periodSeconds: 1, failureThreshold: 30}
    readinessProbe: {exec: {command: ["test", "-e", "/shared/up"]}, periodSeconds: 1}
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: app
    image: ${BUSYBOX}
    command: ["sh", "-c", "test -e /shared/up && echo up > /shared/app-saw; trap 'sleep 0.5; echo app-term >> /shared/stops; exit 0' TERM; while true; do sleep 0.1; done"]
    volumeMounts: [{name: shared, mountPath: /shared}]
`,
      ),
    ]);
    // The app only started once the proxy's startupProbe had passed: it saw /shared/up at its first instruction.
    expect(await shOk(podns, order, 'app', 'cat /shared/app-saw')).toBe('up');
    const pod = await get(order);
    expect(pod.phase).toBe('Running');
    expect(pod.initContainers![0]).toMatchObject({ name: 'proxy', status: 'running', started: true });
    // A sidecar can be entered by name, as kubectl exec -c does.
    expect(await shOk(podns, order, 'proxy', 'ls /shared/up')).toBe('/shared/up');
    await waitFor(async () => (await get(order)).conditions.find((c) => c.type === 'Ready')?.status === 'True', 8000, 'Ready (the sidecar readiness counts)');

    // The pod's restartPolicy is Never, yet a sidecar comes back.
    const pid = (await sidecar(order, 'proxy')).process!.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => {
      const p = await sidecar(order, 'proxy');
      return p.restartCount === 1 && p.status === 'running';
    }, 8000, 'the sidecar to restart');
    expect((await get(order)).phase).toBe('Running');

    await podns.ok(['stop', order]);
    // The app took 0.5 s to stop, and still the proxy was stopped after it.
    const stops = (await shOkAfterStop(order)).trim().split('\n');
    expect(stops).toEqual(['app-term', 'proxy-term']);
  });

  /** The shared emptyDir outlives the containers (it is the pod's until rm): read it from the host. */
  async function shOkAfterStop(pod: string): Promise<string> {
    const { paths } = await inspect(podns, pod);
    const fs = await import('node:fs');
    return fs.readFileSync(`${paths.libDir}/volumes/shared/stops`, 'utf8');
  }
});
