/**
 * configMap and secret volume sources, and every reference from a Pod to a ConfigMap or Secret document of
 * the same file. References are checked once all documents are read (a ConfigMap may follow its Pod); a
 * missing object or key is `file:line: path: configmap "x" not found` unless the reference is optional.
 * Volume files are resolved here, so the runtime writes them without seeing the documents.
 */

import { posix } from 'node:path';
import type { Plain } from './check-fields.js';
import { checkConfigKey } from './env-source.js';
import { checkEnvVarName } from './names.js';
import type { Reporter } from './reporter.js';
import type { ConfigObject, ConfigVolumeSource, PodManifest, VolumeFile } from './types.js';

/** ConfigMaps and Secrets by `namespace/name`. */
export interface ConfigObjects {
  configMaps: Map<string, ConfigObject>;
  secrets: Map<string, ConfigObject>;
}

/** The API server's default for defaultMode (configMap, secret, downwardAPI and projected volumes). */
export const DEFAULT_MODE = 0o644;

/** A file mode field: 0 to 0777 (fileModeErrorMsg). */
export function checkMode(r: Reporter, path: string, mode: unknown): number | undefined {
  if (mode === undefined) return undefined;
  const n = mode as number;
  if (n < 0 || n > 0o777) r.fail(path, `invalid value ${n}: must be a number between 0 and 0777 (octal), both inclusive`);
  return n;
}

/**
 * A configMap or secret volume source as written, or such a source of a projected volume (`projection`: its
 * name field is `name` for a Secret too, it has no defaultMode of its own but the projected volume's); its files
 * come from resolveConfigRefs.
 */
export function buildConfigVolume(r: Reporter, v: Plain, path: string, kind: 'configMap' | 'secret', projection?: { defaultMode: number }): ConfigVolumeSource {
  const nameField = kind === 'secret' && !projection ? 'secretName' : 'name';
  const name = v[nameField] as string;
  if (name === '') r.fail(`${path}.${nameField}`, 'required value');
  const out: ConfigVolumeSource = {
    name,
    defaultMode: projection?.defaultMode ?? checkMode(r, `${path}.defaultMode`, v.defaultMode) ?? DEFAULT_MODE,
    optional: (v.optional as boolean | undefined) ?? false,
    files: [],
  };
  if (v.items !== undefined) {
    out.items = (v.items as Plain[]).map((item, i) => {
      const at = `${path}.items[${i}]`;
      const key = item.key as string;
      r.check(`${at}.key`, checkConfigKey(key), key);
      const p = item.path as string;
      r.localNonReservedPath(`${at}.path`, p);
      const mode = checkMode(r, `${at}.mode`, item.mode);
      return mode === undefined ? { key, path: p } : { key, path: p, mode };
    });
    r.noDuplicates('path', out.items.map((it) => posix.normalize(it.path)), (i) => `${path}.items[${i}].path`);
  }
  return out;
}

/**
 * The ConfigMap kube-controller-manager's root-ca-cert-publisher keeps in every namespace, with the cluster's CA
 * as `ca.crt`: a manifest exported from a cluster mounts it in its kube-api-access-* volume. Without a cluster
 * there is no such CA; a volume reference to it that the file does not satisfy is treated as optional, with a
 * warning, so that such a manifest runs. A ConfigMap of that name in the file is used as any other.
 */
export const CLUSTER_CA_CONFIGMAP = 'kube-root-ca.crt';

/** kubelet's words for a missing object (the API's NotFound, singular as the brief of issue 7 asks). */
function notFound(kind: 'ConfigMap' | 'Secret', name: string): string {
  return `${kind === 'ConfigMap' ? 'configmap' : 'secret'} ${JSON.stringify(name)} not found`;
}

/**
 * Checks every reference of `pod` and fills the files of its configMap and secret volumes and of the
 * configMap and secret sources of its projected volumes. `warn` gets kubelet's InvalidEnvironmentVariableNames
 * warning for envFrom keys that are not variable names, and one line per serviceAccountToken source (no token
 * without an API server) and per missing kube-root-ca.crt (see CLUSTER_CA_CONFIGMAP).
 */
export function resolveConfigRefs(pod: PodManifest, r: Reporter, objects: ConfigObjects, warn: (line: string) => void): void {
  const ns = pod.metadata.namespace;
  const lookup = (kind: 'ConfigMap' | 'Secret', name: string) => (kind === 'ConfigMap' ? objects.configMaps : objects.secrets).get(`${ns}/${name}`);
  const names = new Set(pod.spec.containers.map((c) => c.name));

  // kubelet's getPullSecretsForPod: a missing secret is an event (FailedToRetrieveImagePullSecret), not an error;
  // one of another type has no registry credentials in it.
  (pod.spec.imagePullSecrets ?? []).forEach((name, i) => {
    const at = `spec.imagePullSecrets[${i}].name`;
    const obj = lookup('Secret', name);
    if (!obj) warn(`${r.file}:${r.lineOf(at)}: ${r.at(at)}: secret ${JSON.stringify(name)} not found: unable to retrieve some image pull secrets; attempting to pull the image may not succeed`);
    else if (obj.type !== 'kubernetes.io/dockerconfigjson' && obj.type !== 'kubernetes.io/dockercfg') {
      warn(`${r.file}:${r.lineOf(at)}: ${r.at(at)}: secret ${JSON.stringify(name)} is of type ${JSON.stringify(obj.type ?? 'Opaque')}, not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg: it holds no registry credentials`);
    }
  });

  pod.spec.containers.forEach((c, i) => {
    const path = `spec.containers[${i}]`;
    c.env.forEach((e, j) => {
      const at = `${path}.env[${j}].valueFrom`;
      const from = e.valueFrom;
      if (!from) return;
      if ('resourceFieldRef' in from) {
        const target = from.resourceFieldRef.containerName;
        if (target !== undefined && !names.has(target)) r.fail(`${at}.resourceFieldRef.containerName`, `not found: no container named ${JSON.stringify(target)} in the pod`);
        return;
      }
      const [kind, ref, field] =
        'configMapKeyRef' in from ? (['ConfigMap', from.configMapKeyRef, 'configMapKeyRef'] as const) : 'secretKeyRef' in from ? (['Secret', from.secretKeyRef, 'secretKeyRef'] as const) : [];
      if (!kind) return;
      const obj = lookup(kind, ref.name);
      if (ref.optional) return;
      if (!obj) r.fail(`${at}.${field}.name`, notFound(kind, ref.name));
      if (!Object.hasOwn(obj.data, ref.key)) r.fail(`${at}.${field}.key`, `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`);
    });
    (c.envFrom ?? []).forEach((e, j) => {
      const [kind, ref, field] = e.configMapRef ? (['ConfigMap', e.configMapRef, 'configMapRef'] as const) : (['Secret', e.secretRef!, 'secretRef'] as const);
      const obj = lookup(kind, ref.name);
      if (!obj) {
        if (!ref.optional) r.fail(`${path}.envFrom[${j}].${field}.name`, notFound(kind, ref.name));
        return;
      }
      // kubelet skips them with an InvalidEnvironmentVariableNames event (with the relaxed names of 1.32+, only a
      // key that the prefix cannot rescue, which config keys never are; kept for parity).
      const invalid = Object.keys(obj.data).map((k) => e.prefix + k).filter((k) => checkEnvVarName(k)).sort();
      if (invalid.length > 0) {
        warn(`${r.file}:${r.lineOf(`${path}.envFrom[${j}]`)}: ${r.at(`${path}.envFrom[${j}]`)}: keys [${invalid.join(', ')}] from the EnvFrom ${field === 'configMapRef' ? 'configMap' : 'secret'} ${ns}/${ref.name} were skipped since they are considered invalid environment variable names`);
      }
    });
  });

  const volumeSource = (kind: 'ConfigMap' | 'Secret', source: ConfigVolumeSource, at: string, nameField: string) => {
    const obj = lookup(kind, source.name);
    if (!obj && kind === 'ConfigMap' && source.name === CLUSTER_CA_CONFIGMAP && !source.optional) {
      const files = (source.items ?? []).map((it) => JSON.stringify(it.path)).join(', ');
      warn(`${r.file}:${r.lineOf(`${at}.${nameField}`)}: ${r.at(`${at}.${nameField}`)}: configmap "${CLUSTER_CA_CONFIGMAP}" not found: treated as optional (kube-controller-manager publishes it in every namespace of a cluster; podns has no cluster CA), so ${files ? `no ${files} is written` : 'it adds no files'}`);
      return;
    }
    source.files = obj || !source.optional ? configFiles(r, kind, obj, source, at, nameField) : [];
  };
  pod.spec.volumes.forEach((v, i) => {
    const at = `spec.volumes[${i}]`;
    if ('configMap' in v) volumeSource('ConfigMap', v.configMap, `${at}.configMap`, 'name');
    if ('secret' in v) volumeSource('Secret', v.secret, `${at}.secret`, 'secretName');
    if (!('projected' in v)) return;
    v.projected.sources.forEach((s, j) => {
      const sourceAt = `${at}.projected.sources[${j}]`;
      if ('configMap' in s) volumeSource('ConfigMap', s.configMap, `${sourceAt}.configMap`, 'name');
      if ('secret' in s) volumeSource('Secret', s.secret, `${sourceAt}.secret`, 'name');
      if ('serviceAccountToken' in s) {
        const tokenAt = `${sourceAt}.serviceAccountToken`;
        warn(`${r.file}:${r.lineOf(tokenAt)}: ${r.at(tokenAt)}: ignored: there is no API server to issue a service account token; no file ${JSON.stringify(s.serviceAccountToken.path)} is written`);
      }
    });
  });
}

/**
 * The files of a configMap or secret volume (or projected source) as kubelet's MakePayload makes them: every
 * key with defaultMode, or only the items (a missing key fails unless the source is optional). `obj` is
 * undefined only for a missing object, which fails here: the caller handles optional ones.
 */
function configFiles(r: Reporter, kind: 'ConfigMap' | 'Secret', obj: ConfigObject | undefined, source: ConfigVolumeSource, at: string, nameField: string): VolumeFile[] {
  if (!obj) r.fail(`${at}.${nameField}`, notFound(kind, source.name));
  const files: VolumeFile[] = [];
  if (!source.items) {
    for (const [key, value] of Object.entries(obj.data).sort(([a], [b]) => (a < b ? -1 : 1))) files.push({ path: key, mode: source.defaultMode, data: value.toString('base64') });
    return files;
  }
  source.items.forEach((item, j) => {
    const value = Object.hasOwn(obj.data, item.key) ? obj.data[item.key] : undefined;
    if (!value) {
      if (source.optional) return;
      r.fail(`${at}.items[${j}].key`, `${kind === 'ConfigMap' ? 'configmap references non-existent config key' : 'secret references non-existent secret key'}: ${item.key}`);
    }
    files.push({ path: posix.normalize(item.path), mode: item.mode ?? source.defaultMode, data: value.toString('base64') });
  });
  return files;
}

/**
 * The registry credentials of a pod's imagePullSecrets, in their order, as docker config objects
 * (`{"auths": {HOST: {auth}}}`; a legacy .dockercfg is the `auths` map itself). Secrets that are missing or of
 * another type give nothing (resolveConfigRefs warned about them).
 */
export function pullSecretAuths(pod: PodManifest, objects: ConfigObjects): unknown[] {
  const out: unknown[] = [];
  for (const name of pod.spec.imagePullSecrets ?? []) {
    const obj = objects.secrets.get(`${pod.metadata.namespace}/${name}`);
    const raw = obj?.type === 'kubernetes.io/dockerconfigjson' ? obj.data['.dockerconfigjson'] : obj?.type === 'kubernetes.io/dockercfg' ? obj.data['.dockercfg'] : undefined;
    if (!raw) continue;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      out.push(obj!.type === 'kubernetes.io/dockercfg' ? { auths: parsed } : parsed);
    } catch {
      // The API server checks .dockerconfigjson is JSON (config-objects.ts does too); nothing to use otherwise.
    }
  }
  return out;
}
