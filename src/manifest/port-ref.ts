/**
 * A probe's or hook's port (httpGet.port, tcpSocket.port), an IntOrString checked as the API server's
 * ValidatePortNumOrName does (pkg/apis/core/validation): an int by IsValidPortNum, a string by IsValidPortName,
 * whatever it holds, so `port: "8080"` is a name without a letter and refused. A name must also be one of the
 * container's ports: kubelet would find out only when the probe or hook runs, and fail it every time.
 */
import { checkPortName } from './names.js';
import type { Reporter } from './reporter.js';
import type { ContainerPort } from './types.js';

export function resolvePortRef(r: Reporter, value: number | string, path: string, ports: ContainerPort[]): number {
  if (typeof value === 'number') {
    if (value < 1 || value > 65535) r.fail(path, `invalid value ${value}: must be between 1 and 65535, inclusive`);
    return value;
  }
  const problem = checkPortName(value);
  // The API server's words, and the likely fix: YAML quotes made a number a string.
  if (problem && /^\d+$/.test(value)) r.fail(path, `invalid value ${JSON.stringify(value)}: ${problem} (a string is a port name; for port number ${value}, drop the quotes)`);
  r.check(path, problem, value);
  const named = ports.find((p) => p.name === value);
  if (!named) r.fail(path, `invalid value ${JSON.stringify(value)}: the container has no port named ${JSON.stringify(value)}`);
  return named.containerPort;
}
