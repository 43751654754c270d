/**
 * kubelet's restart rules, pure: which exits restart under a pod's restartPolicy, and the crash-loop back-off
 * between restarts (kubernetes pkg/kubelet/kubelet.go: backOffPeriod 10 s, MaxContainerBackOff 300 s, doubled
 * per restart; reset once a container has run for 10 minutes, pod-lifecycle.md "Container restarts").
 */
import type { PodManifest } from '../manifest/types.js';

export type RestartPolicy = PodManifest['spec']['restartPolicy'];

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_AFTER_MS = 600_000;

/** Always restarts every exit, OnFailure a non-zero one, Never none. */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/**
 * TEST ONLY: PODNS_BACKOFF_SCALE (0 < s ≤ 1) shrinks every back-off time so that kernel tests see several
 * restarts in seconds. Anything else (unset, bad, > 1) is 1: the defaults are kubelet's and stay so.
 */
export function backOffScale(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.PODNS_BACKOFF_SCALE);
  return Number.isFinite(s) && s > 0 && s <= 1 ? s : 1;
}

/** One container's back-off: 10 s, 20 s, 40 s … 300 s; back to 10 s after a run of 10 minutes or more. */
export class CrashLoopBackOff {
  private current = 0;

  constructor(private readonly scale = 1) {}

  /** The wait before the next start, given how long the run that just ended lasted. */
  next(ranMs: number): number {
    if (ranMs >= BACKOFF_RESET_AFTER_MS * this.scale) this.current = 0;
    this.current = this.current === 0 ? BACKOFF_INITIAL_MS : Math.min(this.current * 2, BACKOFF_MAX_MS);
    return Math.round(this.current * this.scale);
  }
}
