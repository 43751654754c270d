/** `podns rm [-f] POD`: through the shim when it lives, from the state on disk when it does not. */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { podProcessPids, teardownPod } from '../../runtime/pod-teardown.js';
import { isAlive } from '../../runtime/proc.js';
import { podId, podsRunDir, type Roots } from '../../state/paths.js';
import { callShim, waitForShimExit } from '../../shim/shim-client.js';
import { waitForTakeover } from '../../shim/takeover.js';
import { findPod } from '../pod-lookup.js';

export async function removePod(roots: Roots, namespace: string, name: string, force: boolean): Promise<void> {
  // A shim taking the pod over (podns recover) will own it in a moment: ask that one, not the state on disk.
  await waitForTakeover(path.join(podsRunDir(roots), podId(namespace, name)));
  const record = findPod(roots, namespace, name);
  const { state, paths } = record;
  const shimAlive = state?.shim !== undefined && isAlive(state.shim) && fs.existsSync(paths.socket);
  if (shimAlive) {
    if (!force && state!.phase === 'Running') {
      throw new UserError('ERUNNING', `pod "${name}" is running: stop it first, or use rm -f`);
    }
    const response = await callShim(paths.socket, { op: 'remove', force });
    if (!response.ok) throw new UserError('ESHIM', `pod "${name}": ${response.error}`);
    await waitForShimExit(() => !isAlive(state!.shim));
    return;
  }
  if (state && !force && podProcessPids(state).length > 0) {
    throw new UserError('ERUNNING', `pod "${name}": its shim is gone but processes are left; take it over with podns recover ${name}, or use rm -f`);
  }
  if (state) await teardownPod(state, paths);
  else for (const dir of [paths.libDir, paths.logDir, paths.runDir]) fs.rmSync(dir, { recursive: true, force: true });
}
