/**
 * The value pass for a container's env and envFrom: valueFrom sources checked as the API server's
 * validateEnvVarValueFrom does (exactly one source, fieldRef paths, resourceFieldRef resources and divisors,
 * key names). Whether the ConfigMaps and Secrets exist is checked once every document is read (config-refs.ts).
 * The fieldRef and resourceFieldRef checks are shared with downwardAPI volume files (downward-api.ts).
 */

import type { Plain } from './check-fields.js';
import { checkEnvVarName, checkQualifiedName } from './names.js';
import { parseQuantity } from './quantity.js';
import type { Reporter } from './reporter.js';
import type { EnvFromSource, EnvVar, EnvVarSource, KeyRef } from './types.js';

/** The fieldRef paths kubelet resolves for env (pkg/apis/core/validation validEnvDownwardAPIFieldPathExpressions). */
export const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
] as const;

export const ENV_RESOURCES = ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'] as const;

const CPU_DIVISORS = ['1m', '1'];
const MEMORY_DIVISORS = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** ConfigMap and Secret keys (IsConfigMapKey). */
export function checkConfigKey(s: string): string | undefined {
  if (s.length > 253) return 'must be no more than 253 characters';
  if (!CONFIG_KEY.test(s)) return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (regex used for validation is '[-._a-zA-Z0-9]+')";
  if (s === '.') return "must not be '.'";
  if (s === '..') return "must not be '..'";
  if (s.startsWith('..')) return "must not start with '..'";
  return undefined;
}

/** `metadata.labels['k']` → ['metadata.labels', 'k']; anything else → [path]. */
export function splitSubscript(fieldPath: string): [string, string?] {
  const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/s.exec(fieldPath);
  return m ? [m[1]!, m[2]!] : [fieldPath];
}

export function buildEnv(r: Reporter, c: Plain, path: string): { env: EnvVar[]; envFrom: EnvFromSource[] } {
  const env: EnvVar[] = ((c.env as Plain[] | undefined) ?? []).map((e, i) => {
    const at = `${path}.env[${i}]`;
    const name = e.name as string;
    r.check(`${at}.name`, checkEnvVarName(name), name);
    const value = (e.value as string | undefined) ?? '';
    const out: EnvVar = { name, value };
    if (e.valueFrom !== undefined) {
      if (value !== '') r.fail(`${at}.valueFrom`, 'may not be specified when `value` is not empty');
      out.valueFrom = buildValueFrom(r, e.valueFrom as Plain, `${at}.valueFrom`);
    }
    return out;
  });
  const envFrom: EnvFromSource[] = ((c.envFrom as Plain[] | undefined) ?? []).map((e, i) => {
    const at = `${path}.envFrom[${i}]`;
    const out: EnvFromSource = { prefix: (e.prefix as string | undefined) ?? '' };
    if (out.prefix !== '') r.check(`${at}.prefix`, checkEnvVarName(out.prefix), out.prefix);
    const refs = (['configMapRef', 'secretRef'] as const).filter((k) => e[k] !== undefined);
    if (refs.length === 0) r.fail(at, 'must specify one of: `configMapRef` or `secretRef`');
    if (refs.length > 1) r.fail(at, 'may not have more than one field specified at a time');
    const ref = e[refs[0]!] as Plain;
    const name = ref.name as string;
    if (name === '') r.fail(`${at}.${refs[0]}.name`, 'required value');
    out[refs[0]!] = { name, optional: (ref.optional as boolean | undefined) ?? false };
    return out;
  });
  return { env, envFrom };
}

/**
 * An ObjectFieldSelector (validateObjectFieldSelector): apiVersion v1, and a path of `paths`, or a label or
 * annotation with a subscript whose key is a qualified name (an annotation key is checked lower-cased, as the
 * API server does). `listed` is the list the message offers.
 */
export function buildFieldRef(r: Reporter, s: Plain, at: string, paths: readonly string[], listed: readonly string[] = paths): { fieldPath: string } {
  const apiVersion = (s.apiVersion as string | undefined) || 'v1';
  if (apiVersion !== 'v1') r.fail(`${at}.apiVersion`, `unsupported value ${JSON.stringify(apiVersion)}: must be "v1"`);
  const fieldPath = s.fieldPath as string;
  const [base, key] = splitSubscript(fieldPath);
  if (key !== undefined) {
    r.check(`${at}.fieldPath`, checkQualifiedName(base === 'metadata.annotations' ? key.toLowerCase() : key), key);
    return { fieldPath: `${base}['${key}']` };
  }
  if (!paths.includes(fieldPath)) {
    r.fail(`${at}.fieldPath`, `unsupported value ${JSON.stringify(fieldPath)}: must be one of ${listed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return { fieldPath };
}

/** A ResourceFieldSelector (validateContainerResourceFieldSelector): cpu and memory, with their divisors. */
export function buildResourceFieldRef(r: Reporter, s: Plain, at: string): { containerName?: string; resource: string; divisor: string } {
  const resource = r.oneOf(`${at}.resource`, s.resource as string, ENV_RESOURCES);
  const divisor = (s.divisor as string | undefined) ?? '1';
  const cpu = resource.endsWith('.cpu');
  const allowed = cpu ? CPU_DIVISORS : MEMORY_DIVISORS;
  let amount: number;
  try {
    amount = parseQuantity(divisor);
  } catch (err) {
    r.fail(`${at}.divisor`, (err as Error).message);
  }
  if (!allowed.some((d) => parseQuantity(d) === amount)) {
    r.fail(`${at}.divisor`, `invalid value ${JSON.stringify(divisor)}: only divisor's values ${allowed.join(', ')} are supported with the ${cpu ? 'cpu' : 'memory'} resource`);
  }
  const out: { containerName?: string; resource: string; divisor: string } = { resource, divisor };
  if (s.containerName) out.containerName = s.containerName as string;
  return out;
}

function buildValueFrom(r: Reporter, v: Plain, path: string): EnvVarSource {
  const sources = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const).filter((k) => v[k] !== undefined);
  if (sources.length === 0) r.fail(path, 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
  if (sources.length > 1) r.fail(path, 'may not have more than one field specified at a time');
  const kind = sources[0]!;
  const s = v[kind] as Plain;
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'fieldRef': {
      const allowed = [...ENV_FIELD_PATHS.slice(0, 3), "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']", ...ENV_FIELD_PATHS.slice(3)];
      return { fieldRef: buildFieldRef(r, s, at, ENV_FIELD_PATHS, allowed) };
    }
    case 'resourceFieldRef':
      return { resourceFieldRef: buildResourceFieldRef(r, s, at) };
    case 'configMapKeyRef':
    case 'secretKeyRef': {
      const ref: KeyRef = { name: s.name as string, key: s.key as string, optional: (s.optional as boolean | undefined) ?? false };
      if (ref.name === '') r.fail(`${at}.name`, 'required value');
      r.check(`${at}.key`, checkConfigKey(ref.key), ref.key);
      return kind === 'configMapKeyRef' ? { configMapKeyRef: ref } : { secretKeyRef: ref };
    }
  }
}
