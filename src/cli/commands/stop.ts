/** `podns stop POD [-c CTR]`: the stop signal, then SIGKILL after the grace period; via the shim. */
import { UserError } from '../../errors.js';
import { isAlive } from '../../runtime/proc.js';
import type { Roots } from '../../state/paths.js';
import { callShim, waitForShimExit } from '../../shim/shim-client.js';
import { findPod, requireState } from '../pod-lookup.js';

export async function stopPod(roots: Roots, namespace: string, name: string, container: string | undefined, timeout: number | undefined): Promise<void> {
  const record = findPod(roots, namespace, name);
  const state = requireState(record);
  if (container && !state.containers.some((c) => c.name === container)) {
    throw new UserError('ENOCONTAINER', `pod "${name}" has no container "${container}" (it has: ${state.containers.map((c) => c.name).join(', ')})`);
  }
  if (!state.shim || !isAlive(state.shim)) {
    if (state.phase === 'Stopped' || state.phase === 'Failed' || state.phase === 'Succeeded') return;
    throw new UserError('ENOSHIM', `pod "${name}": its shim is not running; take the pod over with podns recover ${name}, or remove it with podns rm -f ${name}`);
  }
  const response = await callShim(record.paths.socket, { op: 'stop', container, timeout });
  if (!response.ok) throw new UserError('ESHIM', `pod "${name}": ${response.error}`);
  // A whole-pod stop ends the shim: return once it is gone.
  if (!container) await waitForShimExit(() => !isAlive(state.shim));
}
