/**
 * The value pass for containers[*].livenessProbe, readinessProbe and startupProbe: the API server's defaults
 * (SetDefaults_Probe, SetDefaults_HTTPGetAction) and checks (validateProbe, validateHandler,
 * validateHTTPGetAction, validatePortNumOrName and the per-kind rules in validateContainers), plus what podns
 * cannot do yet: HTTPS. A gRPC probe's port is a plain number (GRPCAction.port is an int32, no names). A named
 * port of the other handlers is resolved against the container's
 * ports here, where kubelet would fail every probe at run time.
 */

import type { Plain } from './check-fields.js';
import { resolvePortRef } from './port-ref.js';
import type { Reporter } from './reporter.js';
import type { ContainerPort, ContainerSpec, HttpGetAction, Probe, ProbeTiming } from './types.js';

const KINDS = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;
/** apimachinery's IsHTTPHeaderName. */
const HTTP_HEADER_NAME = /^[-A-Za-z0-9]+$/;

/** The container's probes, validated and defaulted; only the kinds the manifest sets. */
export function buildProbes(r: Reporter, c: Plain, path: string, ports: ContainerPort[]): Pick<ContainerSpec, (typeof KINDS)[number]> {
  const out: Pick<ContainerSpec, (typeof KINDS)[number]> = {};
  for (const kind of KINDS) {
    if (c[kind] === undefined) continue;
    const at = `${path}.${kind}`;
    const probe = buildProbe(r, c[kind] as Plain, at, ports);
    if (kind !== 'readinessProbe' && probe.successThreshold !== 1) r.fail(`${at}.successThreshold`, `invalid value ${probe.successThreshold}: must be 1`);
    if (kind === 'readinessProbe' && probe.terminationGracePeriodSeconds !== undefined) {
      r.fail(`${at}.terminationGracePeriodSeconds`, `invalid value ${probe.terminationGracePeriodSeconds}: must not be set for readinessProbes`);
    }
    out[kind] = probe;
  }
  return out;
}

function buildProbe(r: Reporter, p: Plain, path: string, ports: ContainerPort[]): Probe {
  const set = HANDLERS.filter((h) => p[h] !== undefined);
  if (set.length === 0) r.fail(path, 'required value: must specify a handler type');
  if (set.length > 1) r.fail(`${path}.${set[1]}`, 'forbidden: may not specify more than 1 handler type');

  // SetDefaults_Probe: a zero means the default, so only negative values are left to refuse.
  const timing: ProbeTiming = {
    initialDelaySeconds: (p.initialDelaySeconds as number | undefined) ?? 0,
    timeoutSeconds: (p.timeoutSeconds as number | undefined) || 1,
    periodSeconds: (p.periodSeconds as number | undefined) || 10,
    successThreshold: (p.successThreshold as number | undefined) || 1,
    failureThreshold: (p.failureThreshold as number | undefined) || 3,
  };
  for (const [key, value] of Object.entries(timing)) {
    if (value < 0) r.fail(`${path}.${key}`, `invalid value ${value}: must be greater than or equal to 0`);
  }
  if (p.terminationGracePeriodSeconds !== undefined) {
    const grace = p.terminationGracePeriodSeconds as number;
    if (grace <= 0) r.fail(`${path}.terminationGracePeriodSeconds`, `invalid value ${grace}: must be greater than 0`);
    timing.terminationGracePeriodSeconds = grace;
  }

  if (p.exec !== undefined) {
    const command = ((p.exec as Plain).command as string[] | undefined) ?? [];
    if (command.length === 0) r.fail(`${path}.exec.command`, 'required value');
    return { ...timing, exec: { command } };
  }
  if (p.httpGet !== undefined) return { ...timing, httpGet: buildHttpGet(r, p.httpGet as Plain, `${path}.httpGet`, ports) };
  if (p.grpc !== undefined) {
    // GRPCAction.port is an int32, not an IntOrString: no named ports (validatePortNumOrName is not called).
    const g = p.grpc as Plain;
    const port = g.port as number;
    if (!Number.isInteger(port) || port < 1 || port > 65535) r.fail(`${path}.grpc.port`, `invalid value ${JSON.stringify(port)}: must be between 1 and 65535, inclusive`);
    const grpc: { port: number; service?: string } = { port };
    if (typeof g.service === 'string') grpc.service = g.service;
    return { ...timing, grpc };
  }
  const t = p.tcpSocket as Plain;
  const tcpSocket: { port: number; host?: string } = { port: resolvePortRef(r, t.port as number | string, `${path}.tcpSocket.port`, ports) };
  if (t.host) tcpSocket.host = t.host as string;
  return { ...timing, tcpSocket };
}

function buildHttpGet(r: Reporter, h: Plain, path: string, ports: ContainerPort[]): HttpGetAction {
  const scheme = (h.scheme as string | undefined) || 'HTTP';
  if (scheme === 'HTTPS') r.fail(`${path}.scheme`, 'HTTPS is not supported by podns yet');
  if (scheme !== 'HTTP') r.fail(`${path}.scheme`, `unsupported value ${JSON.stringify(scheme)}: supported values: "HTTP", "HTTPS"`);
  const httpHeaders = ((h.httpHeaders as Plain[] | undefined) ?? []).map((header, i) => {
    const name = header.name as string;
    if (!HTTP_HEADER_NAME.test(name)) {
      r.fail(`${path}.httpHeaders[${i}].name`, `invalid value ${JSON.stringify(name)}: a valid HTTP header must consist of alphanumeric characters or '-'`);
    }
    return { name, value: header.value as string };
  });
  const action: HttpGetAction = { path: (h.path as string | undefined) || '/', port: resolvePortRef(r, h.port as number | string, `${path}.port`, ports), scheme: 'HTTP', httpHeaders };
  if (h.host) action.host = h.host as string;
  return action;
}
