/**
 * ConfigMap and Secret documents, validated as the API server's ValidateConfigMap and ValidateSecret do
 * (keys, sizes, base64, the keys each Secret type requires), Secret stringData merged over data as the API
 * server's conversion does. Keyed by `namespace/name` in LoadedManifests.
 */

import { keyPath, type Plain } from './check-fields.js';
import { checkConfigKey } from './env-source.js';
import { checkDns1123Label, checkDns1123Subdomain } from './names.js';
import type { Reporter } from './reporter.js';
import type { ConfigObject } from './types.js';

/** MaxSecretSize, and the same bound for a ConfigMap (corev1 validation). */
const MAX_SIZE = 1024 * 1024;

/** The keys each built-in Secret type must have (pkg/apis/core/validation ValidateSecret). */
const REQUIRED_KEYS: Record<string, string[][]> = {
  'kubernetes.io/dockercfg': [['.dockercfg']],
  'kubernetes.io/dockerconfigjson': [['.dockerconfigjson']],
  'kubernetes.io/basic-auth': [['username', 'password']],
  'kubernetes.io/ssh-auth': [['ssh-privatekey']],
  'kubernetes.io/tls': [['tls.crt'], ['tls.key']],
};

export function buildConfigObject(r: Reporter, kind: 'ConfigMap' | 'Secret', raw: Plain): ConfigObject {
  const m = raw.metadata as Plain;
  const name = m.name as string;
  r.check('metadata.name', checkDns1123Subdomain(name), name);
  const namespace = (m.namespace as string | undefined) || 'default';
  r.check('metadata.namespace', checkDns1123Label(namespace), namespace);
  const data: Record<string, Buffer> = {};
  const put = (field: string, key: string, value: Buffer) => {
    r.check(keyPath(field, key), checkConfigKey(key), key);
    Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  };
  const text = (raw.data as Record<string, string> | undefined) ?? {};
  const binary = (kind === 'ConfigMap' ? raw.binaryData : raw.stringData) as Record<string, string> | undefined;
  if (kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(text)) put('data', k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(binary ?? {})) {
      if (Object.hasOwn(text, k)) r.fail(keyPath('binaryData', k), `invalid value ${JSON.stringify(k)}: duplicate of key present in data`);
      put('binaryData', k, decodeBase64(r, keyPath('binaryData', k), v));
    }
  } else {
    for (const [k, v] of Object.entries(text)) put('data', k, decodeBase64(r, keyPath('data', k), v));
    // stringData is write-only in the API: merged over data, its values winning.
    for (const [k, v] of Object.entries(binary ?? {})) put('stringData', k, Buffer.from(v, 'utf8'));
  }
  const size = Object.values(data).reduce((n, b) => n + b.length, 0);
  if (size > MAX_SIZE) r.fail('data', `too long: must have at most ${MAX_SIZE} bytes`);
  const out: ConfigObject = { kind, name, namespace, data, immutable: (raw.immutable as boolean | undefined) ?? false, line: r.lineOf('metadata.name') };
  if (kind === 'Secret') {
    const type = (raw.type as string | undefined) || 'Opaque';
    out.type = type;
    for (const anyOf of REQUIRED_KEYS[type] ?? []) {
      if (!anyOf.some((k) => Object.hasOwn(data, k))) r.fail(anyOf.length === 1 ? `data[${anyOf[0]}]` : 'data', `required value${anyOf.length > 1 ? `: must have at least one of ${anyOf.join(', ')}` : ''} (type ${type})`, 'type');
    }
    // ValidateSecret: the docker config must parse as JSON (its content is never echoed back).
    for (const key of ['.dockerconfigjson', '.dockercfg']) {
      if ((type === 'kubernetes.io/dockerconfigjson' && key === '.dockerconfigjson') || (type === 'kubernetes.io/dockercfg' && key === '.dockercfg')) {
        const value = data[key];
        if (!value) continue;
        try {
          JSON.parse(value.toString('utf8'));
        } catch (err) {
          r.fail(`data[${key}]`, `invalid value "<secret contents redacted>": ${(err as Error).message}`, keyPath(Object.hasOwn(text, key) ? 'data' : 'stringData', key));
        }
      }
    }
    if (type === 'kubernetes.io/service-account-token') {
      const annotations = (m.annotations as Record<string, string> | undefined) ?? {};
      if (!annotations['kubernetes.io/service-account.name']) r.fail('metadata.annotations[kubernetes.io/service-account.name]', 'required value', 'type');
    }
  }
  return out;
}

/**
 * base64 as Go's encoding/json decodes a []byte (StdEncoding, padding required, \r and \n skipped), with
 * its message naming the first bad byte.
 */
export function decodeBase64(r: Reporter, path: string, value: string): Buffer {
  const s = value.replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    const foreign = s.search(/[^A-Za-z0-9+/=]/);
    const pad = s.indexOf('=');
    // Go names the first byte outside the alphabet, else misplaced padding, else the cut-short final quantum.
    const at = foreign >= 0 ? foreign : pad >= 0 && pad < s.length - 2 ? pad : s.length - (s.length % 4);
    r.fail(path, `illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(s, 'base64');
}
