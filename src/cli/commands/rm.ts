/** `podns rm [-f] POD`: through the supervisor, which stops the pod (SIGKILL with -f) and deletes it. */
import { UserError } from '../../errors.js';
import { podId, type Roots } from '../../state/paths.js';
import { callSupervisor } from '../../supervisor/client.js';
import { findPod } from '../pod-lookup.js';

export async function removePod(roots: Roots, namespace: string, name: string, force: boolean): Promise<void> {
  const { state } = findPod(roots, namespace, name);
  if (!force && state?.phase === 'Running') throw new UserError('ERUNNING', `pod "${name}" is running: stop it first, or use rm -f`);
  const response = await callSupervisor(roots, { op: 'remove', pod: podId(namespace, name), force });
  if (!response.ok) throw new UserError(response.code ?? 'ERM', `pod "${name}": ${response.error}`);
}
