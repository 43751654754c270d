/**
 * `podns run`'s wait for the supervisor's start report (src/supervisor/start-report.ts). There is no limit on
 * the whole start: init containers and postStart hooks take what they take, as kubelet lets them. The wait ends
 * with the final report, at once when the connection closes without one (the supervisor died), when the
 * supervisor has been silent for `silenceMs` (stuck: its heartbeat stopped), or when `signal` aborts (Ctrl-C).
 */
import { parseReportLine, type StartReport } from '../supervisor/start-report.js';

/**
 * How long the supervisor may be silent (no heartbeat, no report) before `podns run` takes it for stuck and
 * gives up. Its heartbeat comes every second; a silence this long is a blocked event loop, not a slow start (a
 * long start keeps beating).
 */
export const SUPERVISOR_SILENCE_LIMIT_MS = 60_000;

/**
 * The silence limit; TEST ONLY: PODNS_SILENCE_SCALE (0 < s ≤ 1) shrinks it, so that a kernel test can show a
 * start outlasting it and a stopped supervisor given up on, in seconds. Anything else (unset, bad, > 1) is 1.
 */
export function supervisorSilenceLimitMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.PODNS_SILENCE_SCALE);
  return Math.round(SUPERVISOR_SILENCE_LIMIT_MS * (Number.isFinite(s) && s > 0 && s <= 1 ? s : 1));
}

export type StartOutcome =
  | { kind: 'report'; report: StartReport }
  | { kind: 'died' }
  | { kind: 'silent' }
  | { kind: 'interrupted' };

/** Where the report comes from: lines as they arrive, and the end of the channel. */
export interface ReportSource {
  onLine(listener: (line: string) => void): void;
  /** Settles when the channel is closed (the supervisor closed it or died). */
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
    // Lines come before the close: a report written just before the close is taken first.
    void source.report.then(() => finish({ kind: 'died' }));
  });
}
