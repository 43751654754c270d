/**
 * Reads a manifest file of one or more YAML (or JSON) documents and returns its Pods, validated and
 * defaulted, before anything is created, with the ConfigMaps and Secrets of the same file (as `podman kube
 * play` takes them) that their env and volumes refer to. Problems are ManifestErrors (`file:line: path: message`);
 * fields podns accepts but does not act on come back as warnings in the same format.
 */

import type { Node, YAMLMap } from 'yaml';
import { yaml } from './yaml.js';
import { ManifestError, describeErrno } from '../errors.js';
import { checkObject, type CheckContext } from './check-fields.js';
import { buildConfigObject } from './config-objects.js';
import { resolveConfigRefs, type ConfigObjects } from './config-refs.js';
import { CONFIG_MAP, POD, SECRET, WORKLOADS, type WorkloadKind } from './pod-schema.js';
import { workloadPod } from './workloads.js';
import { Reporter } from './reporter.js';
import { checkDns1123Subdomain } from './names.js';
import type { ConfigObject, PodManifest } from './types.js';
import { buildPod } from './validate.js';
import { parseYamlDocuments } from './yaml-source.js';

const { isMap, isScalar } = yaml;

export interface LoadedManifests {
  pods: PodManifest[];
  /** ConfigMap documents by `namespace/name`. */
  configMaps: Map<string, ConfigObject>;
  /** Secret documents by `namespace/name`, data decoded. */
  secrets: Map<string, ConfigObject>;
  /** One line each: `file:line: path: ignored: why`. */
  warnings: string[];
}

/**
 * Parses multi-document YAML (or JSON) text. Empty documents are skipped; every other document must be
 * a v1 Pod, ConfigMap or Secret. Throws a ManifestError for the first problem found, in document order;
 * references from Pods to ConfigMaps and Secrets are checked after every document is read.
 */
export function parseManifests(file: string, text: string): LoadedManifests {
  const pods: PodManifest[] = [];
  const reporters: Reporter[] = [];
  const warnings: string[] = [];
  const objects: ConfigObjects = { configMaps: new Map(), secrets: new Map() };
  const seen = new Map<string, number>();
  const skippedKinds = new Set<string>();
  for (const source of parseYamlDocuments(file, text)) {
    if (!source.root) continue;
    const ctx: CheckContext = { file, source, lines: new Map(), warnings };
    const root = source.resolve(source.root);
    if (!root || !isMap(root)) throw new ManifestError(file, source.line, '', 'a document must be a mapping (an object with apiVersion, kind, metadata and spec)');
    const skipped = bundledKind(root, ctx);
    if (skipped) {
      skippedKinds.add(skipped.kind);
      warnings.push(`${file}:${skipped.line}: kind ${skipped.kind}: skipped: ${SKIPPED_KINDS[skipped.kind]}`);
      continue;
    }
    const kind = checkHeader(root, ctx);
    if (kind === 'ConfigMap' || kind === 'Secret') {
      const raw = checkObject(root, kind === 'ConfigMap' ? CONFIG_MAP : SECRET, '', source.line, ctx);
      const obj = buildConfigObject(new Reporter(file, ctx.lines, source.line), kind, raw);
      const byName = kind === 'ConfigMap' ? objects.configMaps : objects.secrets;
      const key = `${obj.namespace}/${obj.name}`;
      const first = byName.get(key);
      if (first) throw new ManifestError(file, obj.line, 'metadata.name', `duplicate ${kind === 'ConfigMap' ? 'configmap' : 'secret'} ${JSON.stringify(key)} (first at line ${first.line})`);
      byName.set(key, obj);
      continue;
    }
    let pod: PodManifest;
    let prefix = '';
    if (kind && kind in WORKLOADS) {
      const raw = checkObject(root, WORKLOADS[kind as WorkloadKind].schema, '', source.line, ctx);
      const top = new Reporter(file, ctx.lines, source.line);
      top.check('metadata.name', checkDns1123Subdomain((raw.metadata as Record<string, unknown>).name as string), (raw.metadata as Record<string, unknown>).name as string);
      const podRaw = workloadPod(kind as WorkloadKind, raw, top, (path, message) => warnings.push(`${file}:${top.lineOf(path)}: ${path}: ${message}`));
      prefix = 'spec.template.';
      pod = buildPod(file, podRaw, ctx.lines, source.line, prefix);
    } else {
      pod = buildPod(file, checkObject(root, POD, '', source.line, ctx), ctx.lines, source.line);
    }
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const line = ctx.lines.get('metadata.name');
    const first = seen.get(key);
    if (first !== undefined) throw new ManifestError(file, line, 'metadata.name', `duplicate pod ${JSON.stringify(key)} (first at line ${first})`);
    seen.set(key, line ?? source.line);
    pods.push(pod);
    reporters.push(new Reporter(file, ctx.lines, source.line, prefix));
  }
  if (pods.length === 0) {
    const has = [...(objects.configMaps.size + objects.secrets.size > 0 ? ['ConfigMaps and Secrets'] : []), ...skippedKinds];
    throw new ManifestError(file, undefined, '', `no Pod found (the file has ${has.length ? `only ${has.join(', ')}` : 'no documents'})`);
  }
  pods.forEach((pod, i) => resolveConfigRefs(pod, reporters[i]!, objects, (line) => warnings.push(line)));
  return { pods, ...objects, warnings };
}

/** Reads `file` and parses it with parseManifests. (Read synchronously: a manifest is small; and not through an ESM import of node:fs, which loads fs/promises and streams, ~2 ms.) */
export async function loadManifests(file: string): Promise<LoadedManifests> {
  let text: string;
  try {
    text = process.getBuiltinModule('node:fs').readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ManifestError(file, undefined, '', describeErrno(code));
  }
  return parseManifests(file, text);
}

/**
 * The kind decides which field table applies, so kind and then apiVersion are checked before any other
 * field. A missing one is left for checkObject to report as a required value.
 */
function checkHeader(root: YAMLMap, ctx: CheckContext): Kind | undefined {
  const kind = headerField(root, 'kind', ctx);
  if (kind && !(typeof kind.value === 'string' && Object.hasOwn(API_VERSIONS, kind.value))) {
    if (typeof kind.value !== 'string') throw new ManifestError(ctx.file, kind.line, 'kind', `must be a string, got ${typeof kind.value} ${String(kind.value)}`);
    // Quoted only when odd (a newline, say), so the message stays one line and reads well for `kind: Service`.
    const name = /^[\x21-\x7e]+$/.test(kind.value) ? kind.value : JSON.stringify(kind.value);
    throw new ManifestError(ctx.file, kind.line, '', `kind ${name} is not supported (only ${Object.keys(API_VERSIONS).join(', ')})`);
  }
  const want = API_VERSIONS[((kind?.value as Kind | undefined) ?? 'Pod')];
  const apiVersion = headerField(root, 'apiVersion', ctx);
  if (apiVersion && apiVersion.value !== want) {
    throw new ManifestError(ctx.file, apiVersion.line, 'apiVersion', `must be "${want}" for a ${(kind?.value as string | undefined) ?? 'Pod'}, got ${JSON.stringify(apiVersion.value)}`);
  }
  return kind?.value as Kind | undefined;
}

type Kind = 'Pod' | 'ConfigMap' | 'Secret' | WorkloadKind;

const NO_CLUSTER = 'podns runs pods on this host; there is no cluster to give it meaning';
/**
 * Kinds that real manifest bundles carry beside their workloads (a Deployment with its Service, Ingress,
 * ServiceAccount, RBAC, ...): they create no pod, so they are skipped with a warning, as the file's pods can run
 * without them. Any other kind stays an error: a typo must not pass silently.
 */
const SKIPPED_KINDS: Record<string, string> = {
  Service: 'there are no Services (publish a port with hostPort)',
  Ingress: NO_CLUSTER,
  IngressClass: NO_CLUSTER,
  ServiceAccount: 'there is no API server: no token is issued',
  Role: NO_CLUSTER,
  RoleBinding: NO_CLUSTER,
  ClusterRole: NO_CLUSTER,
  ClusterRoleBinding: NO_CLUSTER,
  NetworkPolicy: 'podns does not enforce network policies',
  PodDisruptionBudget: NO_CLUSTER,
  HorizontalPodAutoscaler: NO_CLUSTER,
  Namespace: 'a pod\'s namespace needs no object of its own here',
  PersistentVolumeClaim: 'a persistentVolumeClaim volume is a named local volume made on first use (podns volume ls)',
  PersistentVolume: NO_CLUSTER,
  StorageClass: NO_CLUSTER,
  LimitRange: NO_CLUSTER,
  ResourceQuota: NO_CLUSTER,
  PriorityClass: NO_CLUSTER,
  Endpoints: NO_CLUSTER,
  EndpointSlice: NO_CLUSTER,
};

/** A document of a kind in SKIPPED_KINDS: its name and line. */
function bundledKind(root: YAMLMap, ctx: CheckContext): { kind: string; line: number } | undefined {
  const kind = headerField(root, 'kind', ctx);
  if (!kind || typeof kind.value !== 'string' || !Object.hasOwn(SKIPPED_KINDS, kind.value)) return undefined;
  return { kind: kind.value, line: kind.line };
}

const API_VERSIONS: Record<Kind, string> = {
  Pod: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  ...(Object.fromEntries(Object.entries(WORKLOADS).map(([k, w]) => [k, w.apiVersion])) as Record<WorkloadKind, string>),
};

function headerField(root: YAMLMap, name: string, ctx: CheckContext): { value: unknown; line: number } | undefined {
  for (const pair of root.items) {
    const key = pair.key as Node | null;
    if (!key || !isScalar(key) || key.value !== name) continue;
    const value = pair.value ? ctx.source.resolve(pair.value as Node) : undefined;
    if (!value || (isScalar(value) && value.value === null)) return undefined;
    return { value: isScalar(value) ? value.value : isMap(value) ? 'a mapping' : 'a list', line: ctx.source.lineOf(key) };
  }
  return undefined;
}
