/**
 * A start report, JSON lines: `{"alive":true}` every HEARTBEAT_MS while the work goes on, then one final
 * `{"ok":…}` line. The supervisor reports so on a `run` connection (a pod's start may rightly take long: an init
 * container runs as long as it needs, a postStart hook up to 2 minutes per container), and on fd 3 when the CLI
 * started it (while it adopts pods). The reader waits as long as the beats come and judges a stuck supervisor
 * (its event loop blocked) by silence.
 */
import type { Writable } from 'node:stream';

export const HEARTBEAT_MS = 1000;

/** The final line: the pod runs (`ok`), or why the start failed (the supervisor has undone it then). */
export interface StartReport {
  ok: boolean;
  error?: string;
  step?: string;
  stack?: string;
}

export type StartReportLine = StartReport | { alive: true };

/**
 * Writes a heartbeat on `channel` every `intervalMs` until the channel is ended (by the final report) or
 * destroyed. The timer is unref'd: it never keeps the process alive by itself.
 */
export function startHeartbeat(channel: Writable, intervalMs = HEARTBEAT_MS): void {
  const timer = setInterval(() => {
    if (channel.writableEnded || channel.destroyed) clearInterval(timer);
    else channel.write(`${JSON.stringify({ alive: true } satisfies StartReportLine)}\n`);
  }, intervalMs);
  timer.unref();
}

/** One line of the channel, or undefined for anything else (a torn or foreign line is no sign of a report). */
export function parseReportLine(line: string): StartReportLine | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    if (value && typeof value === 'object' && ('ok' in value || 'alive' in value)) return value as StartReportLine;
  } catch {
    // not JSON
  }
  return undefined;
}
