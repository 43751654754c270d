/** `podns rm [-f] POD`: through the supervisor, which stops the pod (SIGKILL with -f) and deletes it. */
import path from 'node:path';
import { UserError } from '../../errors.js';
import { podId, podsRunDir, type Roots } from '../../state/paths.js';
import { callSupervisor } from '../../supervisor/client.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

export async function removePod(roots: Roots, namespace: string, name: string, force: boolean): Promise<void> {
  let id = podId(namespace, name);
  // Only whether it exists: the supervisor knows the rest (a running pod without -f is refused there). A name
  // with no directory may be a sandbox of kubelet's (by its metadata); the records are read only then.
  if (!fs.existsSync(path.join(podsRunDir(roots), id))) id = (await import('../pod-lookup.js')).findPod(roots, namespace, name).paths.id;
  const response = await callSupervisor(roots, { op: 'remove', pod: id, force });
  if (!response.ok) throw new UserError(response.code ?? 'ERM', response.code === 'ERUNNING' ? response.error : `pod "${name}": ${response.error}`);
}
