/** `podns down FILE`: removes every pod of a manifest (as `podman kube down`): stopped with SIGKILL, then deleted. */
import { UserError } from '../../errors.js';
import { loadManifests } from '../../manifest/load-manifest.js';
import type { Roots } from '../../state/paths.js';
import { removePod } from './rm.js';

export async function downPods(roots: Roots, file: string, out: (line: string) => void): Promise<void> {
  const { pods } = await loadManifests(file);
  const missing: string[] = [];
  for (const pod of pods) {
    try {
      await removePod(roots, pod.metadata.namespace, pod.metadata.name, true);
      out(`pod/${pod.metadata.name} deleted`);
    } catch (err) {
      if (err instanceof UserError && err.code === 'ENOPOD') missing.push(pod.metadata.name);
      else throw err;
    }
  }
  if (missing.length) throw new UserError('ENOPOD', `${file}: no such pod${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
}

/** `run --wait`: until every pod is Ready (all containers running and ready), or the time is up. */
export async function waitReady(roots: Roots, namespace: string, names: string[], timeoutMs: number): Promise<void> {
  const { findPod } = await import('../pod-lookup.js');
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const state = findPod(roots, namespace, name).state;
      if (state?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
      if (state?.phase === 'Failed' || state?.phase === 'Succeeded') {
        throw new UserError('ENOTREADY', `pod "${name}" ended (${state.phase}) before it was Ready`);
      }
      if (Date.now() > deadline) throw new UserError('ETIMEDOUT', `pod "${name}" was not Ready within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
