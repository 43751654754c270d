/** The manifest side of the kubelet's part: initContainers, lifecycle hooks, terminationMessagePath/Policy. */
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../src/manifest/load-manifest.js';

const pod = (spec: string, container = '') => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
${spec}  containers:
  - name: c
    image: busybox
${container}`;
const parse = (text: string) => parseManifests('pod.yaml', text).pods[0]!.spec;
const errorOf = (text: string) => {
  try {
    parseManifests('pod.yaml', text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('parsed without error');
};

describe('kubelet manifest fields', () => {
  it('initContainers are containers, in order; absent when the manifest has none', () => {
    const spec = parse(pod('  initContainers:\n  - {name: a, image: busybox, command: ["true"]}\n  - {name: b, image: busybox}\n'));
    expect(spec.initContainers?.map((c) => [c.name, c.command])).toEqual([
      ['a', ['true']],
      ['b', undefined],
    ]);
    expect(parse(pod('')).initContainers).toBeUndefined();
  });

  it('names are unique across initContainers and containers; init containers have no ports or probes', () => {
    expect(errorOf(pod('  initContainers: [{name: c, image: busybox}]\n'))).toMatch(/^pod\.yaml:\d+: spec\.containers\[0\]\.name: duplicate container name "c"/);
    expect(errorOf(pod('  initContainers: [{name: i, image: busybox, ports: [{containerPort: 80}]}]\n'))).toMatch(/spec\.initContainers\[0\]\.ports: init containers may not have ports/);
    expect(errorOf(pod('  initContainers: [{name: i, image: busybox, readinessProbe: {exec: {command: ["true"]}}}]\n'))).toMatch(
      /spec\.initContainers\[0\]\.readinessProbe: forbidden: may not be set for init containers without restartPolicy=Always$/,
    );
    expect(errorOf(pod('  initContainers: [{name: i, image: busybox, lifecycle: {preStop: {sleep: {seconds: 1}}}}]\n'))).toMatch(/initContainers\[0\]\.lifecycle: forbidden/);
  });

  it('sidecars: init containers with restartPolicy Always may have ports, probes and hooks; no other policy', () => {
    const spec = parse(
      pod('  initContainers:\n  - name: proxy\n    image: busybox\n    restartPolicy: Always\n    ports: [{containerPort: 15001}]\n    startupProbe: {tcpSocket: {port: 15001}}\n    lifecycle: {preStop: {sleep: {seconds: 1}}}\n'),
    );
    expect(spec.initContainers![0]).toMatchObject({ name: 'proxy', restartPolicy: 'Always', ports: [{ containerPort: 15001 }], startupProbe: { tcpSocket: { port: 15001 } } });
    expect(errorOf(pod('  initContainers: [{name: i, image: busybox, restartPolicy: OnFailure}]\n'))).toMatch(/initContainers\[0\]\.restartPolicy: unsupported value "OnFailure": supported values: "Always"/);
    expect(errorOf(pod('', '    restartPolicy: Always\n'))).toMatch(/spec\.containers\[0\]\.restartPolicy: not supported by podns yet/);
  });

  it('lifecycle: exec and httpGet hooks; exactly one handler', () => {
    const c = parse(
      pod('', '    ports: [{name: web, containerPort: 8080}]\n    lifecycle:\n      postStart: {exec: {command: [sh, -c, "echo hi"]}}\n      preStop: {httpGet: {port: web, path: /bye}}\n'),
    ).containers[0]!;
    expect(c.lifecycle).toEqual({
      postStart: { exec: { command: ['sh', '-c', 'echo hi'] } },
      preStop: { httpGet: { path: '/bye', port: 8080, scheme: 'HTTP', httpHeaders: [] } },
    });
    expect(errorOf(pod('', '    lifecycle:\n      postStart: {}\n'))).toMatch(/postStart: required value: must specify a handler type/);
    expect(errorOf(pod('', '    lifecycle:\n      preStop: {exec: {command: [x]}, sleep: {seconds: 1}}\n'))).toMatch(/preStop\.sleep: forbidden: may not specify more than 1 handler type/);
  });

  it('lifecycle sleep: 0 up to terminationGracePeriodSeconds, as validateSleepAction allows', () => {
    expect(parse(pod('', '    lifecycle:\n      preStop: {sleep: {seconds: 5}}\n')).containers[0]!.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(parse(pod('', '    lifecycle:\n      postStart: {sleep: {seconds: 0}}\n')).containers[0]!.lifecycle).toEqual({ postStart: { sleep: { seconds: 0 } } });
    expect(errorOf(pod('  terminationGracePeriodSeconds: 3\n', '    lifecycle:\n      preStop: {sleep: {seconds: 4}}\n'))).toMatch(
      /^pod\.yaml:\d+: spec\.containers\[0\]\.lifecycle\.preStop\.sleep: invalid value 4: must be non-negative and less than terminationGracePeriodSeconds \(3\)$/,
    );
    expect(errorOf(pod('', '    lifecycle:\n      preStop: {sleep: {seconds: -1}}\n'))).toMatch(/preStop\.sleep: invalid value -1: must be non-negative and less than terminationGracePeriodSeconds \(30\)/);
    expect(errorOf(pod('', '    lifecycle:\n      preStop: {sleep: {}}\n'))).toMatch(/preStop\.sleep\.seconds: required value/);
  });

  it('terminationMessagePath and Policy: kept when set, checked', () => {
    const c = parse(pod('', '    terminationMessagePath: /tmp/why\n    terminationMessagePolicy: FallbackToLogsOnError\n')).containers[0]!;
    expect([c.terminationMessagePath, c.terminationMessagePolicy]).toEqual(['/tmp/why', 'FallbackToLogsOnError']);
    expect(errorOf(pod('', '    terminationMessagePath: tmp/why\n'))).toMatch(/terminationMessagePath: invalid value "tmp\/why": must be an absolute path/);
    expect(errorOf(pod('', '    terminationMessagePolicy: Always\n'))).toMatch(/terminationMessagePolicy: unsupported value "Always"/);
  });
});
