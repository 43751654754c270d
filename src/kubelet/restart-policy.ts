/**
 * kubelet's restart rules, pure: which exits restart under a pod's restartPolicy, and the crash-loop back-off
 * between restarts (pkg/kubelet/kubelet.go: backOffPeriod 10 s, MaxContainerBackOff 300 s).
 */
import type { PodManifest } from '../manifest/types.js';

export type RestartPolicy = PodManifest['spec']['restartPolicy'];

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
/** client-go flowcontrol hasExpired: an entry not updated for 2 × maxDuration counts as stable again. */
export const BACKOFF_EXPIRES_AFTER_MS = 2 * BACKOFF_MAX_MS;

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

/**
 * One container's crash-loop back-off, as kubelet drives it: kuberuntime_manager.go doBackOff asks client-go's
 * flowcontrol.Backoff (util/flowcontrol/backoff.go) IsInBackOffSince(key, finishedAt) of the container's last
 * exit, and when that is false calls Next(key, finishedAt) and starts the container. So:
 * - the first exit finds no entry: not in back-off, the container starts again at once, and Next creates the
 *   entry at 10 s (lastUpdate = now);
 * - a later exit waits while now − finishedAt < the entry's back-off, then Next doubles it (capped at 300 s);
 * - the entry has expired when finishedAt − lastUpdate > 2 × 300 s, i.e. the run since the last restart lasted
 *   over 10 minutes: the container starts at once and Next begins again at 10 s.
 * Times are in ms; `scale` is PODNS_BACKOFF_SCALE and shrinks all three constants alike.
 */
export class CrashLoopBackOff {
  private entry?: { backOffMs: number; lastUpdate: number };

  constructor(private readonly scale = 1) {}

  /** IsInBackOffSince: how long a container that finished at `finishedAt` still has to wait at `now`; 0 is at once. */
  remaining(finishedAt: number, now: number): number {
    if (!this.entry || this.expired(finishedAt)) return 0;
    return Math.max(0, Math.round(this.entry.backOffMs - (now - finishedAt)));
  }

  /** The current window (flowcontrol Get), which the CrashLoopBackOff message names: "back-off 20s …". */
  get current(): number {
    return Math.round(this.entry?.backOffMs ?? 0);
  }

  /** Next: the container that finished at `finishedAt` starts again at `now`. */
  next(finishedAt: number, now: number): void {
    if (!this.entry || this.expired(finishedAt)) {
      this.entry = { backOffMs: BACKOFF_INITIAL_MS * this.scale, lastUpdate: now };
      return;
    }
    this.entry = { backOffMs: Math.min(this.entry.backOffMs * 2, BACKOFF_MAX_MS * this.scale), lastUpdate: now };
  }

  private expired(finishedAt: number): boolean {
    return finishedAt - this.entry!.lastUpdate > BACKOFF_EXPIRES_AFTER_MS * this.scale;
  }
}

/** kubelet's way of printing a back-off: 10s, 1m20s, 5m0s. */
export function formatDelay(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(2).replace(/\.?0+$/, '')}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

