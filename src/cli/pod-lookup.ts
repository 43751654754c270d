/** Finds pods on disk by name (and namespace), for every verb that takes a POD argument. */
import { UserError } from '../errors.js';
import { readJsonIfExists } from '../state/atomic-file.js';
import { criSandboxPaths, podId, podsRunDir, type PodPaths, type Roots } from '../state/paths.js';
import type { ContainerState, PodSpecFile, PodState } from '../state/pod-state.js';
import { readPodView } from '../kubelet/pod-view.js';
import { compareStrings } from '../state/compare.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** A pod on disk: one of `podns run` (its spec), or a sandbox kubelet made over the CRI (no spec; state.origin 'cri'). */
export interface PodRecord {
  paths: PodPaths;
  spec?: PodSpecFile;
  state: PodState | undefined;
}

export function readPodRecord(runDir: string, roots?: Roots): PodRecord | undefined {
  const spec = readJsonIfExists<PodSpecFile & { paths: PodPaths }>(`${runDir}/spec.json`);
  if (!spec) {
    const state = roots ? readPodView(runDir) : undefined;
    return state?.origin === 'cri' ? { paths: criPaths(roots!, runDir, state), state } : undefined;
  }
  return { paths: spec.paths, spec, state: readPodView(runDir, spec.processes) };
}

function criPaths(roots: Roots, runDir: string, state: PodState): PodPaths {
  const logDirectory = readJsonIfExists<{ config: { logDirectory: string } }>(`${runDir}/sandbox.json`)?.config.logDirectory ?? '';
  return criSandboxPaths(roots, state.id, logDirectory);
}

/**
 * The pod named so: a pod of `podns run` by its directory, else a sandbox of kubelet's by its metadata (its
 * ready one, else its latest attempt) or by its id.
 */
export function findPod(roots: Roots, namespace: string, name: string): PodRecord {
  const record = readPodRecord(`${podsRunDir(roots)}/${podId(namespace, name)}`, roots);
  if (record) return record;
  const cri = listPods(roots).filter((p) => p.state?.origin === 'cri' && p.state.name === name && p.state.namespace === namespace);
  const best = cri.sort((a, b) => Number(b.state!.phase === 'Running') - Number(a.state!.phase === 'Running') || compareStrings(b.state!.createdAt, a.state!.createdAt))[0];
  if (!best) throw notFound(namespace, name);
  return best;
}

export function notFound(namespace: string, name: string): UserError {
  const where = namespace === 'default' ? '' : ` in namespace "${namespace}"`;
  return new UserError('ENOPOD', `pod "${name}" not found${where}`);
}

export function listPods(roots: Roots): PodRecord[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(podsRunDir(roots));
  } catch (err) {
    // No pod yet; anything else (EACCES: a user who is not root) is for the caller to report, not an empty list.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((id) => !id.startsWith('.'))
    .sort()
    .map((id) => readPodRecord(`${podsRunDir(roots)}/${id}`, roots))
    .filter((r): r is PodRecord => r !== undefined);
}

export function requireState(record: PodRecord): PodState {
  if (!record.state) throw new UserError('ENOSTATE', `pod "${record.spec?.pod.metadata.name ?? record.paths.id}" is still being created`);
  return record.state;
}

/**
 * The container a verb acts on, its recorded state: an init container (a sidecar, one still initializing, or a
 * finished one for logs) when named with -c, as kubectl allows; else pickContainer's app container.
 */
export function findContainer(state: PodState, container: string | undefined): ContainerState {
  const init = container === undefined ? undefined : state.initContainers?.find((c) => c.name === container);
  if (init) return init;
  const name = pickContainer(state, container);
  return state.containers.find((c) => c.name === name)!;
}

/** The container a verb acts on: the one named, or (as kubectl does) the first. */
export function pickContainer(state: { name: string; containers: { name: string }[] }, container: string | undefined): string {
  if (container) {
    if (!state.containers.some((c) => c.name === container)) {
      throw new UserError('ENOCONTAINER', `pod "${state.name}" has no container "${container}" (it has: ${state.containers.map((c) => c.name).join(', ')})`);
    }
    return container;
  }
  // kubectl's default: the first container.
  return state.containers[0]!.name;
}
