/** containers[*].{liveness,readiness,startup}Probe: the API server's defaults and checks, named ports, file:line. */
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';

/** A pod whose container has `ports: [{name: http, containerPort: 8080}]` and the given lines (from line 11). */
const pod = (lines: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    ports:
    - name: http
      containerPort: 8080
${lines}`;

const containerOf = (text: string) => parseManifests('pod.yaml', text).pods[0]!.spec.containers[0]!;

function errorOf(text: string): string {
  try {
    parseManifests('pod.yaml', text);
  } catch (err) {
    if (err instanceof ManifestError) return err.message;
    throw err;
  }
  throw new Error('no error');
}

const DEFAULTS = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };

describe('container probes', () => {
  it('defaults the timing fields as the API server does (zero means the default)', () => {
    const c = containerOf(pod('    livenessProbe:\n      exec: {command: [cat, /tmp/healthy]}\n    readinessProbe:\n      tcpSocket: {port: 8080}\n      periodSeconds: 0\n'));
    expect(c.livenessProbe).toEqual({ ...DEFAULTS, exec: { command: ['cat', '/tmp/healthy'] } });
    expect(c.readinessProbe).toEqual({ ...DEFAULTS, tcpSocket: { port: 8080 } });
    expect(c.startupProbe).toBeUndefined();
  });

  it('keeps explicit timing, and terminationGracePeriodSeconds on liveness and startup probes', () => {
    const c = containerOf(pod('    startupProbe:\n      httpGet: {path: /healthz, port: 8080}\n      initialDelaySeconds: 5\n      timeoutSeconds: 2\n      periodSeconds: 3\n      failureThreshold: 30\n      terminationGracePeriodSeconds: 7\n'));
    expect(c.startupProbe).toEqual({
      initialDelaySeconds: 5, timeoutSeconds: 2, periodSeconds: 3, successThreshold: 1, failureThreshold: 30, terminationGracePeriodSeconds: 7,
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP', httpHeaders: [] },
    });
  });

  it('reads httpGet: path "/" and scheme HTTP by default, host and headers kept, a named port resolved', () => {
    const c = containerOf(pod('    readinessProbe:\n      httpGet:\n        port: http\n        host: 127.0.0.1\n        httpHeaders: [{name: X-Probe, value: "1"}]\n      successThreshold: 2\n'));
    expect(c.readinessProbe).toEqual({
      ...DEFAULTS, successThreshold: 2,
      httpGet: { path: '/', port: 8080, host: '127.0.0.1', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: '1' }] },
    });
  });

  it('resolves a named tcpSocket port; a quoted number is a name, as the API server reads an IntOrString', () => {
    expect(containerOf(pod('    livenessProbe:\n      tcpSocket: {port: http}\n')).livenessProbe).toEqual({ ...DEFAULTS, tcpSocket: { port: 8080 } });
    expect(errorOf(pod('    livenessProbe:\n      tcpSocket: {port: "81"}\n'))).toBe(
      'pod.yaml:12: spec.containers[0].livenessProbe.tcpSocket.port: invalid value "81": must contain at least one letter (a-z) (a string is a port name; for port number 81, drop the quotes)',
    );
  });

  it('needs exactly one handler', () => {
    expect(errorOf(pod('    livenessProbe:\n      periodSeconds: 5\n'))).toBe('pod.yaml:11: spec.containers[0].livenessProbe: required value: must specify a handler type');
    expect(errorOf(pod('    livenessProbe:\n      exec: {command: ["true"]}\n      tcpSocket: {port: 80}\n'))).toBe('pod.yaml:13: spec.containers[0].livenessProbe.tcpSocket: forbidden: may not specify more than 1 handler type');
    expect(errorOf(pod('    livenessProbe:\n      exec: {command: []}\n'))).toBe('pod.yaml:12: spec.containers[0].livenessProbe.exec.command: required value');
  });

  it('grpc: a port number (no names) and an optional service', () => {
    expect(containerOf(pod('    readinessProbe:\n      grpc: {port: 9090, service: liveness}\n')).readinessProbe).toMatchObject({ grpc: { port: 9090, service: 'liveness' }, periodSeconds: 10 });
    expect(containerOf(pod('    livenessProbe:\n      grpc: {port: 2379}\n')).livenessProbe).toMatchObject({ grpc: { port: 2379 } });
    expect(errorOf(pod('    readinessProbe:\n      grpc: {port: 0}\n'))).toBe('pod.yaml:12: spec.containers[0].readinessProbe.grpc.port: invalid value 0: must be between 1 and 65535, inclusive');
  });

  it('refuses HTTPS, which podns does not do yet', () => {
    expect(errorOf(pod('    readinessProbe:\n      httpGet: {port: 80, scheme: HTTPS}\n'))).toBe('pod.yaml:12: spec.containers[0].readinessProbe.httpGet.scheme: HTTPS is not supported by podns yet');
    expect(errorOf(pod('    readinessProbe:\n      httpGet: {port: 80, scheme: ftp}\n'))).toBe('pod.yaml:12: spec.containers[0].readinessProbe.httpGet.scheme: unsupported value "ftp": supported values: "HTTP", "HTTPS"');
  });

  it('checks ports: 1-65535, a valid name, a name the container has', () => {
    expect(errorOf(pod('    livenessProbe:\n      tcpSocket: {port: 0}\n'))).toBe('pod.yaml:12: spec.containers[0].livenessProbe.tcpSocket.port: invalid value 0: must be between 1 and 65535, inclusive');
    expect(errorOf(pod('    livenessProbe:\n      httpGet: {port: 70000}\n'))).toBe('pod.yaml:12: spec.containers[0].livenessProbe.httpGet.port: invalid value 70000: must be between 1 and 65535, inclusive');
    expect(errorOf(pod('    livenessProbe:\n      httpGet: {port: Web_Port}\n'))).toBe('pod.yaml:12: spec.containers[0].livenessProbe.httpGet.port: invalid value "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
    expect(errorOf(pod('    livenessProbe:\n      httpGet: {port: metrics}\n'))).toBe('pod.yaml:12: spec.containers[0].livenessProbe.httpGet.port: invalid value "metrics": the container has no port named "metrics"');
    expect(errorOf(pod('    livenessProbe:\n      httpGet: {path: /}\n'))).toBe('pod.yaml:12: spec.containers[0].livenessProbe.httpGet.port: required value');
  });

  it('checks header names', () => {
    expect(errorOf(pod('    livenessProbe:\n      httpGet:\n        port: 80\n        httpHeaders:\n        - {name: "X Bad", value: v}\n')))
      .toBe('pod.yaml:15: spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name: invalid value "X Bad": a valid HTTP header must consist of alphanumeric characters or \'-\'');
  });

  it('refuses negative timing, successThreshold other than 1 on liveness and startup, grace periods that are not positive or on readiness', () => {
    expect(errorOf(pod('    livenessProbe:\n      exec: {command: ["true"]}\n      initialDelaySeconds: -1\n'))).toBe('pod.yaml:13: spec.containers[0].livenessProbe.initialDelaySeconds: invalid value -1: must be greater than or equal to 0');
    expect(errorOf(pod('    readinessProbe:\n      exec: {command: ["true"]}\n      failureThreshold: -2\n'))).toBe('pod.yaml:13: spec.containers[0].readinessProbe.failureThreshold: invalid value -2: must be greater than or equal to 0');
    expect(errorOf(pod('    livenessProbe:\n      exec: {command: ["true"]}\n      successThreshold: 2\n'))).toBe('pod.yaml:13: spec.containers[0].livenessProbe.successThreshold: invalid value 2: must be 1');
    expect(errorOf(pod('    startupProbe:\n      exec: {command: ["true"]}\n      successThreshold: 3\n'))).toBe('pod.yaml:13: spec.containers[0].startupProbe.successThreshold: invalid value 3: must be 1');
    expect(errorOf(pod('    livenessProbe:\n      exec: {command: ["true"]}\n      terminationGracePeriodSeconds: 0\n'))).toBe('pod.yaml:13: spec.containers[0].livenessProbe.terminationGracePeriodSeconds: invalid value 0: must be greater than 0');
    expect(errorOf(pod('    readinessProbe:\n      exec: {command: ["true"]}\n      terminationGracePeriodSeconds: 5\n'))).toBe('pod.yaml:13: spec.containers[0].readinessProbe.terminationGracePeriodSeconds: invalid value 5: must not be set for readinessProbes');
  });

  it('names unknown probe fields with a did-you-mean', () => {
    expect(errorOf(pod('    livenessProbe:\n      exec: {command: ["true"]}\n      periodSecond: 5\n'))).toBe('pod.yaml:13: spec.containers[0].livenessProbe: unknown field "periodSecond" (did you mean "periodSeconds"?)');
  });
});
