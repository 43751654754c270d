/** `podns stop POD [-c CTR]`: the stop signal, then SIGKILL after the grace period; through the supervisor. */
import { UserError } from '../../errors.js';
import type { Roots } from '../../state/paths.js';
import { callSupervisor } from '../../supervisor/client.js';
import { findPod, requireState } from '../pod-lookup.js';

export async function stopPod(roots: Roots, namespace: string, name: string, container: string | undefined, timeout: number | undefined): Promise<void> {
  const state = requireState(findPod(roots, namespace, name));
  if (container && !state.containers.some((c) => c.name === container)) {
    throw new UserError('ENOCONTAINER', `pod "${name}" has no container "${container}" (it has: ${state.containers.map((c) => c.name).join(', ')})`);
  }
  const response = await callSupervisor(roots, { op: 'stop', pod: state.id, container, timeout });
  if (!response.ok) throw new UserError(response.code ?? 'ESTOP', `pod "${name}": ${response.error}`);
}
