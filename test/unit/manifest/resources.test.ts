/** containers[*].resources: quantities parsed, requests defaulted to limits, the API server's checks, file:line. */
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';

const pod = (resources: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    resources:
${resources}`;

function errorOf(text: string): string {
  try {
    parseManifests('pod.yaml', text);
  } catch (err) {
    if (err instanceof ManifestError) return err.message;
    throw err;
  }
  throw new Error('no error');
}

describe('container resources', () => {
  it('reads cpu in cores and memory in bytes; a request defaults to its limit', () => {
    const { pods, warnings } = parseManifests('pod.yaml', pod('      limits: {cpu: 500m, memory: 64Mi}\n      requests: {cpu: 0.25}\n'));
    expect(warnings).toEqual([]);
    expect(pods[0]!.spec.containers[0]!.resources).toEqual({
      limits: { cpu: 0.5, memory: 64 * 2 ** 20 },
      requests: { cpu: 0.25, memory: 64 * 2 ** 20 },
    });
  });

  it('accepts plain numbers (cpu: 2) and requests alone', () => {
    const { pods } = parseManifests('pod.yaml', pod('      requests: {cpu: 2, memory: 1G}\n'));
    expect(pods[0]!.spec.containers[0]!.resources).toEqual({ limits: {}, requests: { cpu: 2, memory: 1e9 } });
  });

  it('an empty resources object sets nothing', () => {
    const { pods } = parseManifests('pod.yaml', pod('      {}\n'));
    expect(pods[0]!.spec.containers[0]!.resources).toBeUndefined();
  });

  it('refuses bad quantities with file:line', () => {
    expect(errorOf(pod('      limits:\n        memory: 64MB\n'))).toBe(
      'pod.yaml:10: spec.containers[0].resources.limits.memory: invalid quantity "64MB" (expected a number with an optional suffix such as 128Mi, 1G, 500m or 1e3)',
    );
    expect(errorOf(pod('      requests:\n        cpu: -1\n'))).toBe('pod.yaml:10: spec.containers[0].resources.requests.cpu: invalid value "-1": must be greater than or equal to 0');
    expect(errorOf(pod('      limits:\n        cpu: [1]\n'))).toMatch(/^pod\.yaml:10: spec\.containers\[0\]\.resources\.limits\.cpu: must be a quantity/);
  });

  it('refuses a request above its limit, as the API server does', () => {
    expect(errorOf(pod('      limits: {cpu: 1}\n      requests:\n        cpu: "2"\n'))).toBe(
      'pod.yaml:11: spec.containers[0].resources.requests: invalid value "2": must be less than or equal to cpu limit of 1',
    );
    expect(errorOf(pod('      limits: {memory: 32Mi}\n      requests: {memory: 64Mi}\n'))).toBe(
      'pod.yaml:10: spec.containers[0].resources.requests: invalid value "64Mi": must be less than or equal to memory limit of 32Mi',
    );
  });

  it('accepts ephemeral-storage with a warning: kubelet enforces it only by eviction', () => {
    const { pods, warnings } = parseManifests('pod.yaml', pod('      limits: {memory: 64Mi, ephemeral-storage: 1Gi}\n      requests:\n        ephemeral-storage: 500Mi\n'));
    expect(pods[0]!.spec.containers[0]!.resources?.limits).toEqual({ memory: 64 * 1024 * 1024 });
    expect(warnings.join('\n')).toMatch(/pod\.yaml:9: spec\.containers\[0\]\.resources\.limits\.ephemeral-storage: .*not enforced/);
    expect(warnings).toHaveLength(2);
  });

  it('refuses resources podns does not account, with a clear message', () => {
    const why = 'podns honours cpu and memory only (extended resources need a device plugin; hugepages are not accounted)';
    expect(errorOf(pod('      limits:\n        nvidia.com/gpu: 1\n'))).toBe(`pod.yaml:10: spec.containers[0].resources.limits.nvidia.com/gpu: ${why}`);
    expect(errorOf(pod('      requests:\n        hugepages-2Mi: 2Mi\n'))).toBe(`pod.yaml:10: spec.containers[0].resources.requests.hugepages-2Mi: ${why}`);
    expect(errorOf(pod('      claims: [{name: gpu}]\n'))).toBe('pod.yaml:9: spec.containers[0].resources.claims: dynamic resource allocation needs an API server');
  });
});

describe('pod-level resources (KEP-2837)', () => {
  const podLevel = (podResources: string, containers: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  resources:
${podResources}  containers:
${containers}`;
  const ctr = (name: string, resources: string) => `  - name: ${name}\n    image: busybox\n    resources: ${resources}\n`;

  it('are read like a container\'s, requests defaulted to limits', () => {
    const spec = parseManifests('pod.yaml', podLevel('    limits: {cpu: "2", memory: 1Gi}\n', ctr('a', '{requests: {cpu: 500m}}'))).pods[0]!.spec;
    expect(spec.resources).toEqual({ limits: { cpu: 2, memory: 1 << 30 }, requests: { cpu: 2, memory: 1 << 30 } });
  });

  it("must cover the containers' aggregate requests, and no container limit may exceed them (the API server's words)", () => {
    expect(errorOf(podLevel('    requests: {cpu: "1"}\n', ctr('a', '{requests: {cpu: 750m}}') + ctr('b', '{requests: {cpu: 750m}}')))).toBe(
      'pod.yaml:6: spec.resources.requests[cpu]: invalid value "1": must be greater than or equal to aggregate container requests of 1500m',
    );
    expect(errorOf(podLevel('    limits: {memory: 64Mi}\n', ctr('a', '{limits: {memory: 128Mi}, requests: {memory: 32Mi}}')))).toBe(
      'pod.yaml:10: spec.containers[0].resources.limits[memory]: invalid value "128Mi": must be less than or equal to pod limits of 64Mi',
    );
    expect(errorOf(podLevel('    limits: {hugepages-2Mi: 2Mi}\n', ctr('a', '{}')))).toMatch(/^pod\.yaml:6: spec\.resources\.limits\.hugepages-2Mi: podns honours cpu and memory only/);
  });
});
