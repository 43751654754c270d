import { describe, expect, it } from 'vitest';
import { describePod, describeProbe, qosClass } from '../../src/cli/commands/describe.js';
import { formatMemory as formatMemoryQuantity } from '../../src/manifest/pod-resources.js';
import type { PodRecord } from '../../src/cli/pod-lookup.js';
import type { ContainerSpec } from '../../src/manifest/types.js';
import { processRef } from '../../src/runtime/proc.js';

const container = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({ name: 'app', image: 'busybox', env: [], ports: [], volumeMounts: [], ...over });

describe('podns describe', () => {
  it('prints quantities and probes as kubectl does', () => {
    expect(formatMemoryQuantity(64 * 1024 * 1024)).toBe('64Mi');
    expect(formatMemoryQuantity(1536)).toBe('1536');
    expect(formatMemoryQuantity(1024 ** 3)).toBe('1Gi');
    expect(describeProbe({ httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP', httpHeaders: [] }, initialDelaySeconds: 3, timeoutSeconds: 1, periodSeconds: 3, successThreshold: 1, failureThreshold: 3 })).toBe(
      'http-get http://:8080/healthz delay=3s timeout=1s period=3s #success=1 #failure=3',
    );
  });

  it('classifies QoS as Kubernetes does', () => {
    expect(qosClass([container()])).toBe('BestEffort');
    const exact = { limits: { cpu: 1, memory: 1 << 20 }, requests: { cpu: 1, memory: 1 << 20 } };
    expect(qosClass([container({ resources: exact })])).toBe('Guaranteed');
    expect(qosClass([container({ resources: exact }), container({ name: 'b' })])).toBe('Burstable');
    expect(qosClass([container({ resources: { limits: {}, requests: { cpu: 0.1 } } })])).toBe('Burstable');
    // Pod-level resources decide when set.
    expect(qosClass([container()], { limits: { cpu: 1, memory: 1 << 20 }, requests: { cpu: 1, memory: 1 << 20 } })).toBe('Guaranteed');
    expect(qosClass([container({ resources: exact })], { limits: { cpu: 2 }, requests: { cpu: 1 } })).toBe('Burstable');
  });

  it('shows the state, the last state, conditions, volumes and events', () => {
    const record = {
      paths: {},
      spec: {
        pod: {
          file: 'p.yaml',
          metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: {} },
          spec: { containers: [container({ ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] })], volumes: [{ name: 'data', emptyDir: { medium: '' } }] },
        },
      },
      state: {
        createdAt: '2026-11-27T09:00:00.000Z',
        phase: 'Running',
        // A live shim and pause (this process): ps would say NoSupervisor or SandboxDead otherwise.
        supervisor: processRef(process.pid),
        pause: processRef(process.pid),
        podIP: '10.89.0.7',
        conditions: [{ type: 'Ready', status: 'True' }],
        containers: [
          {
            name: 'app',
            image: 'docker.io/library/busybox:latest',
            imageId: 'sha256:abc',
            status: 'running',
            startedAt: '2026-11-27T09:00:10.000Z',
            ready: true,
            restartCount: 1,
            lastState: { terminated: { exitCode: 2, reason: 'Error', startedAt: '2026-11-27T09:00:01.000Z', finishedAt: '2026-11-27T09:00:02.000Z' } },
            spec: { argv: ['sh'], env: ['PATH=/bin', 'A=b'] },
          },
        ],
      },
    } as unknown as PodRecord;
    const text = describePod(record, Date.parse('2026-11-27T09:01:00Z'), [{ time: '2026-11-27T09:00:00.000Z', type: 'Normal', reason: 'Started', object: 'pod/web/app', message: 'Started container app' }]);
    expect(text).toMatch(/^Name: {13}web$/m);
    expect(text).toMatch(/^Status: {11}Running$/m);
    expect(text).toMatch(/^IP: {15}10\.89\.0\.7$/m);
    expect(text).toMatch(/^ {4}State: {10}Running\n {6}Started: {6}Fri, 27 Nov 2026 09:00:10 \+0000$/m);
    expect(text).toMatch(/^ {4}Last State: {5}Terminated\n {6}Reason: {7}Error\n {6}Exit Code: {4}2$/m);
    expect(text).toMatch(/^ {4}Port: {11}80\/TCP$/m);
    expect(text).toMatch(/^ {6}A: {2}b$/m);
    expect(text).not.toMatch(/PATH/);
    expect(text).toMatch(/^ {6}\/data from data \(ro\)$/m);
    expect(text).toMatch(/^ {2}Ready {2}True$/m);
    expect(text).toMatch(/^ {4}Type: {7}EmptyDir/m);
    expect(text).toMatch(/^ {2}Normal {2}Started {2}60s {3}podns {2}Started container app$/m);
  });
});
