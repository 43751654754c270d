/**
 * The value pass for containers[*].lifecycle (postStart, preStop) and terminationMessagePath/Policy: the API
 * server's checks (validateLifecycle, validateHandler: exactly one of exec, httpGet and sleep; the port as
 * port-ref.ts checks it) and defaults (/dev/termination-log, File).
 */
import type { Plain } from './check-fields.js';
import { resolvePortRef } from './port-ref.js';
import type { Reporter } from './reporter.js';
import type { ContainerPort, ContainerSpec, LifecycleHandler } from './types.js';

const HOOKS = ['postStart', 'preStop'] as const;
const POLICIES = ['File', 'FallbackToLogsOnError'] as const;

export function buildLifecycle(r: Reporter, raw: Plain | undefined, path: string, ports: ContainerPort[], gracePeriod = 30): ContainerSpec['lifecycle'] {
  if (!raw) return undefined;
  const out: { postStart?: LifecycleHandler; preStop?: LifecycleHandler } = {};
  for (const hook of HOOKS) {
    const h = raw[hook] as Plain | undefined;
    if (!h) continue;
    const at = `${path}.${hook}`;
    const set = ['exec', 'httpGet', 'sleep'].filter((k) => h[k] !== undefined);
    if (set.length === 0) r.fail(at, 'required value: must specify a handler type (exec, httpGet or sleep)');
    if (set.length > 1) r.fail(`${at}.${set[1]}`, 'forbidden: may not specify more than 1 handler type');
    if (h.sleep !== undefined) {
      // validateSleepAction with PodLifecycleSleepActionAllowZero (on by default since 1.33): 0 ≤ seconds ≤ grace.
      const seconds = (h.sleep as Plain).seconds as number | undefined;
      if (seconds === undefined) r.fail(`${at}.sleep.seconds`, 'required value');
      if (seconds! < 0 || seconds! > gracePeriod) {
        r.fail(`${at}.sleep`, `invalid value ${seconds}: must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`);
      }
      out[hook] = { sleep: { seconds: seconds! } };
      continue;
    }
    if (h.exec !== undefined) {
      const command = ((h.exec as Plain).command as string[] | undefined) ?? [];
      if (command.length === 0) r.fail(`${at}.exec.command`, 'required value');
      out[hook] = { exec: { command } };
      continue;
    }
    const g = h.httpGet as Plain;
    const port = resolvePortRef(r, g.port as number | string, `${at}.httpGet.port`, ports);
    const scheme = (g.scheme as string | undefined) || 'HTTP';
    if (scheme !== 'HTTP') r.fail(`${at}.httpGet.scheme`, `unsupported value ${JSON.stringify(scheme)}: podns supports "HTTP"`);
    const httpHeaders = ((g.httpHeaders as Plain[] | undefined) ?? []).map((x) => ({ name: x.name as string, value: (x.value as string | undefined) ?? '' }));
    out[hook] = { httpGet: { path: (g.path as string | undefined) || '/', port, ...(g.host ? { host: g.host as string } : {}), scheme: 'HTTP', httpHeaders } };
  }
  return Object.keys(out).length ? out : undefined;
}

/** Only the fields the manifest sets: the runtime applies the defaults (/dev/termination-log, File). */
export function buildTerminationMessage(r: Reporter, c: Plain, path: string): Pick<ContainerSpec, 'terminationMessagePath' | 'terminationMessagePolicy'> {
  const out: Pick<ContainerSpec, 'terminationMessagePath' | 'terminationMessagePolicy'> = {};
  const file = c.terminationMessagePath as string | undefined;
  if (file) {
    if (!file.startsWith('/')) r.fail(`${path}.terminationMessagePath`, `invalid value ${JSON.stringify(file)}: must be an absolute path`);
    if (file.split('/').includes('..')) r.fail(`${path}.terminationMessagePath`, `invalid value ${JSON.stringify(file)}: must not contain '..'`);
    out.terminationMessagePath = file;
  }
  const policy = c.terminationMessagePolicy as string | undefined;
  if (policy) out.terminationMessagePolicy = r.oneOf(`${path}.terminationMessagePolicy`, policy, POLICIES);
  return out;
}
