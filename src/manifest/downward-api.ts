/**
 * downwardAPI volumes, and the downwardAPI sources of projected volumes, validated as the API server's
 * validateDownwardAPIVolumeFile does. A volume file may name a pod field of a shorter list than env (no
 * spec.* or status.*, but all labels or all annotations at once) and a container's resource (containerName
 * required: a volume belongs to no container). The content is resolved by `podns run` (runtime/downward-api.ts).
 */

import { posix } from 'node:path';
import type { Plain } from './check-fields.js';
import { checkMode, DEFAULT_MODE } from './config-refs.js';
import { buildFieldRef, buildResourceFieldRef } from './env-source.js';
import type { Reporter } from './reporter.js';
import type { DownwardAPIFile, DownwardAPIVolumeSource, VolumeSpec } from './types.js';

/** validVolumeDownwardAPIFieldPathExpressions, in the sorted order the API server's message lists them. */
export const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'] as const;

/**
 * A downwardAPI volume (`projection` unset) or a projected volume's downwardAPI source, which has no
 * defaultMode of its own but the projected volume's. Item paths must be unique within the source; a projected
 * volume checks them across its sources too.
 */
export function buildDownwardAPI(r: Reporter, v: Plain, path: string, projection?: { defaultMode: number }): DownwardAPIVolumeSource {
  const defaultMode = projection?.defaultMode ?? checkMode(r, `${path}.defaultMode`, v.defaultMode) ?? DEFAULT_MODE;
  const items = ((v.items as Plain[] | undefined) ?? []).map((item, i) => buildFile(r, item, `${path}.items[${i}]`));
  r.noDuplicates('path', items.map((it) => posix.normalize(it.path)), (i) => `${path}.items[${i}].path`);
  return { items, defaultMode };
}

function buildFile(r: Reporter, item: Plain, at: string): DownwardAPIFile {
  const path = item.path as string;
  r.localNonReservedPath(`${at}.path`, path);
  const out: DownwardAPIFile = { path };
  if (item.fieldRef !== undefined) {
    if (item.resourceFieldRef !== undefined) r.fail(at, 'fieldRef and resourceFieldRef can not be specified simultaneously', `${at}.resourceFieldRef`);
    out.fieldRef = buildFieldRef(r, item.fieldRef as Plain, `${at}.fieldRef`, VOLUME_FIELD_PATHS);
  } else if (item.resourceFieldRef !== undefined) {
    const ref = buildResourceFieldRef(r, item.resourceFieldRef as Plain, `${at}.resourceFieldRef`);
    if (ref.containerName === undefined) r.fail(`${at}.resourceFieldRef.containerName`, 'required value', `${at}.resourceFieldRef`);
    out.resourceFieldRef = { containerName: ref.containerName, resource: ref.resource, divisor: ref.divisor };
  } else {
    r.fail(at, 'required value: one of fieldRef and resourceFieldRef is required');
  }
  const mode = checkMode(r, `${at}.mode`, item.mode);
  if (mode !== undefined) out.mode = mode;
  return out;
}

/** Every downwardAPI item of the pod's volumes, with its field path (plain downwardAPI volumes and projected sources). */
export function downwardItems(volumes: VolumeSpec[]): { item: DownwardAPIFile; at: string }[] {
  const out: { item: DownwardAPIFile; at: string }[] = [];
  volumes.forEach((v, i) => {
    const sources = 'downwardAPI' in v ? [{ source: v.downwardAPI, at: `spec.volumes[${i}].downwardAPI` }] : [];
    if ('projected' in v) {
      v.projected.sources.forEach((s, j) => {
        if ('downwardAPI' in s) sources.push({ source: s.downwardAPI, at: `spec.volumes[${i}].projected.sources[${j}].downwardAPI` });
      });
    }
    for (const { source, at } of sources) source.items.forEach((item, k) => out.push({ item, at: `${at}.items[${k}]` }));
  });
  return out;
}

/**
 * A resourceFieldRef's container must be one of the pod's, an init container too (kubelet's findContainerInPod);
 * kubelet finds out when it sets the volume up, podns before anything exists.
 */
export function checkDownwardContainers(r: Reporter, volumes: VolumeSpec[], containerNames: Set<string>): void {
  for (const { item, at } of downwardItems(volumes)) {
    const name = item.resourceFieldRef?.containerName;
    if (name !== undefined && !containerNames.has(name)) r.fail(`${at}.resourceFieldRef.containerName`, `not found: no container named ${JSON.stringify(name)} in the pod`);
  }
}
