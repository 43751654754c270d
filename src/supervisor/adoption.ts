/**
 * What a starting supervisor does with each pod it finds on disk — pure, from the pod's records and /proc, so
 * that the decisions are unit-tested:
 *   adopt        its pause runs and holds the fd store: take it over (output read on, restarts and probes resume)
 *   leave        nothing to do: stopped, reserved by a `podns run` still handing it over, or held by a live supervisor
 *   remove       its start never wrote state (nothing but directories exist) and nobody will hand it over
 *   sandbox-died its pause died while no supervisor ran: stop what is left, mark it Failed
 *   lost         it cannot be adopted (said why); kept as Unknown for `podns rm -f`
 */
import { isAlive } from '../runtime/proc.js';
import type { PodState, ProcessRef } from '../state/pod-state.js';

export type Adoption = { kind: 'adopt' } | { kind: 'leave' } | { kind: 'remove' } | { kind: 'sandbox-died' } | { kind: 'lost'; reason: string };

export interface FoundPod {
  /** From spec.json: the `podns run` that reserved the pod, until it hands it over. */
  reservedBy?: ProcessRef;
  /** state.json; absent when the start never got as far as writing it. */
  state?: PodState;
}

export function decideAdoption(found: FoundPod, self: number, procRoot = '/proc'): Adoption {
  const { state } = found;
  if (!state) return found.reservedBy && isAlive(found.reservedBy, procRoot) ? { kind: 'leave' } : { kind: 'remove' };
  if (state.phase === 'Stopped' || state.phase === 'Unknown') return { kind: 'leave' };
  if (state.supervisor && state.supervisor.pid !== self && isAlive(state.supervisor, procRoot)) return { kind: 'leave' };
  if (state.infra === 'none') {
    // Nothing held the containers' output pipes while no supervisor ran: they got EPIPE, and a new reader
    // cannot be given back. Refused rather than half done.
    return { kind: 'lost', reason: "it runs without a pause (--infra=none): nothing held its containers' output while no supervisor ran, so it cannot be adopted" };
  }
  if (!state.pause || !isAlive(state.pause, procRoot)) {
    // Nothing runs that could be adopted; a pod that had finished (Succeeded/Failed, sandbox gone) only waits for rm.
    return state.phase === 'Failed' || state.phase === 'Succeeded' ? { kind: 'leave' } : { kind: 'sandbox-died' };
  }
  if (!state.fdStore) return { kind: 'lost', reason: 'it was started without an fd store (by an older podns), so it cannot be adopted' };
  return { kind: 'adopt' };
}
