/**
 * `podns run`'s wait for a shim's start report (src/shim/start-report.ts). There is no limit on the whole
 * start: init containers and postStart hooks take what they take, as kubelet lets them. The wait ends with
 * the final report, at once when the shim dies (its fd 3 closes), when the shim has been silent for
 * `silenceMs` (stuck: its heartbeat stopped), or when `signal` aborts (Ctrl-C).
 */
import { parseReportLine, type StartReport } from '../shim/start-report.js';

/**
 * How long a shim may be silent (no heartbeat, no report) before `podns run` takes it for stuck, kills it and
 * undoes the pod. Its heartbeat comes every second; a silence this long is a blocked event loop, not a slow
 * start (a long start keeps beating).
 */
export const SHIM_SILENCE_LIMIT_MS = 60_000;

/**
 * The silence limit; TEST ONLY: PODNS_SHIM_SILENCE_SCALE (0 < s ≤ 1) shrinks it, so that a kernel test can
 * show a start outlasting it and a stopped shim given up on, in seconds. Anything else (unset, bad, > 1) is 1.
 */
export function shimSilenceLimitMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.PODNS_SHIM_SILENCE_SCALE);
  return Math.round(SHIM_SILENCE_LIMIT_MS * (Number.isFinite(s) && s > 0 && s <= 1 ? s : 1));
}

export type StartOutcome =
  | { kind: 'report'; report: StartReport }
  | { kind: 'died' }
  | { kind: 'silent' }
  | { kind: 'interrupted' };

/** The shim's side of the channel, as DetachedHelper has it. */
export interface ReportSource {
  onLine(listener: (line: string) => void): void;
  /** Settles when the channel is closed (the shim closed fd 3 or exited). */
  report: Promise<unknown>;
}

export function awaitStartReport(source: ReportSource, silenceMs: number, signal?: AbortSignal): Promise<StartOutcome> {
  return new Promise((resolve) => {
    let silence: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (outcome: StartOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(silence);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish({ kind: 'interrupted' });
    const rearm = () => {
      clearTimeout(silence);
      silence = setTimeout(() => finish({ kind: 'silent' }), silenceMs);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    rearm();
    source.onLine((line) => {
      const message = parseReportLine(line);
      if (message && 'ok' in message) finish({ kind: 'report', report: message });
      else if (message) rearm();
    });
    // Lines come before the close: a report the shim wrote just before exiting is taken first.
    void source.report.then(() => finish({ kind: 'died' }));
  });
}
