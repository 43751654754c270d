/**
 * When a pod can be taken over by a new shim (`podns recover`), and the lock that keeps two recoveries of one
 * pod apart. The takeover itself is PodSupervisor.prepareTakeover/completeTakeover; the CLI and the new shim
 * both ask takeoverRefusal (the CLI to fail fast, the shim again under the lock).
 */
import fs from 'node:fs';
import path from 'node:path';
import { acquireLock, ownerAlive, type Release } from '../image/lock.js';
import { PodnsError, SysError } from '../errors.js';
import { isAlive } from '../runtime/proc.js';
import type { PodState } from '../state/pod-state.js';

/** Why `state`'s pod cannot be taken over now, with what to do instead (to follow `pod "NAME": `); undefined: it can. */
export function takeoverRefusal(state: PodState, procRoot = '/proc'): string | undefined {
  const name = state.name;
  if (state.shim && isAlive(state.shim, procRoot)) return `its shim is running (pid ${state.shim.pid}): nothing to recover`;
  if (state.phase === 'Stopped') return `it is stopped: nothing to take over (podns rm ${name})`;
  if (state.infra === 'none') {
    // Nothing held the containers' output pipes while no shim ran: they got EPIPE, and a new shim could not
    // give them back a reader. Refused rather than half done.
    return `it runs without a pause (--infra=none): nothing held its containers' output while its shim was gone, so it cannot be taken over; remove it with podns rm -f ${name}`;
  }
  if (!state.pause || !isAlive(state.pause, procRoot)) return `its pause is gone (the sandbox died while no shim ran); remove it with podns rm -f ${name}`;
  if (!state.fdStore) return `it was started without an fd store (by an older podns), so it cannot be taken over; remove it with podns rm -f ${name}`;
  return undefined;
}

/** The lock file a taking-over shim holds until state.json names it: `<run dir>/takeover.lock`. */
export function takeoverLockFile(runDir: string): string {
  return path.join(runDir, 'takeover.lock');
}

/** Taken by the new shim before it reads state.json; a second recovery of the same pod fails at once. */
export async function acquireTakeoverLock(runDir: string, name: string): Promise<Release> {
  try {
    return await acquireLock(takeoverLockFile(runDir), `pod "${name}"`, 0);
  } catch (err) {
    // A failed create is a SysError; otherwise the lock is held by a live process: another recovery.
    if (err instanceof SysError) throw err;
    throw new PodnsError('shim.takeover', 'it is being recovered by another podns recover', { cause: err });
  }
}

/**
 * Waits (bounded) while a shim is taking the pod over, so that `podns rm -f` does not tear the pod down under a
 * shim that is about to own it: afterwards the caller reads the state again and finds the new shim.
 */
export async function waitForTakeover(runDir: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let owner: string;
    try {
      owner = fs.readFileSync(takeoverLockFile(runDir), 'utf8');
    } catch {
      return;
    }
    // An empty file is a holder between its create and its write.
    if (owner.trim() !== '' && !ownerAlive(owner)) return;
    if (Date.now() > deadline) throw new PodnsError('shim.takeover', `a takeover of the pod in ${runDir} did not finish within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
