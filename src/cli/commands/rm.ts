/** `podns rm [-f] POD`: through the supervisor, which stops the pod (SIGKILL with -f) and deletes it. */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { podId, podsRunDir, type Roots } from '../../state/paths.js';
import { callSupervisor } from '../../supervisor/client.js';
import { notFound } from '../pod-lookup.js';

export async function removePod(roots: Roots, namespace: string, name: string, force: boolean): Promise<void> {
  const id = podId(namespace, name);
  // Only whether it exists: the supervisor knows the rest (a running pod without -f is refused there).
  if (!fs.existsSync(path.join(podsRunDir(roots), id))) throw notFound(namespace, name);
  const response = await callSupervisor(roots, { op: 'remove', pod: id, force });
  if (!response.ok) throw new UserError(response.code ?? 'ERM', response.code === 'ERUNNING' ? response.error : `pod "${name}": ${response.error}`);
}
