/**
 * `podns run`'s wait for the shim's start report: no limit on a start that keeps showing signs of life, the
 * end at once when the shim dies, after a silence, or on Ctrl-C; and the shim's heartbeat that feeds it.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { awaitStartReport, supervisorSilenceLimitMs, type ReportSource } from '../../src/cli/start-wait.js';
import { parseReportLine, startHeartbeat } from '../../src/supervisor/start-report.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A channel the test writes lines into and closes, as the shim would. */
function fakeShim(): ReportSource & { line(text: string): void; close(): void } {
  const listeners: ((line: string) => void)[] = [];
  let close!: () => void;
  const report = new Promise<void>((resolve) => (close = resolve));
  return { onLine: (l) => void listeners.push(l), report, line: (text) => listeners.forEach((l) => l(text)), close };
}

describe("run's wait for the start report", () => {
  /** Settles `promise` into a flag, so that a test can ask whether it has settled yet. */
  const track = <T>(promise: Promise<T>) => {
    const t = { settled: false, value: undefined as T | undefined };
    void promise.then((v) => Object.assign(t, { settled: true, value: v }));
    return t;
  };

  it('waits past the silence limit as long as heartbeats come (a long postStart or init container), then takes the report', async () => {
    vi.useFakeTimers();
    try {
      const shim = fakeShim();
      const waiting = track(awaitStartReport(shim, 100));
      for (let i = 0; i < 10; i++) {
        await vi.advanceTimersByTimeAsync(90);
        shim.line('{"alive":true}');
      }
      expect(waiting.settled).toBe(false);
      shim.line('{"ok":true}');
      await vi.advanceTimersByTimeAsync(0);
      expect(waiting.value).toEqual({ kind: 'report', report: { ok: true } });
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives up on a shim that falls silent for the limit; lines that are no heartbeat do not count', async () => {
    vi.useFakeTimers();
    try {
      const shim = fakeShim();
      const waiting = track(awaitStartReport(shim, 150));
      await vi.advanceTimersByTimeAsync(100);
      shim.line('garbage');
      shim.line('{"other":1}');
      await vi.advanceTimersByTimeAsync(49);
      expect(waiting.settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(waiting.value).toEqual({ kind: 'silent' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends at once when the shim dies without a report, but takes a report written just before the close', async () => {
    const dead = fakeShim();
    const t0 = Date.now();
    const waiting = awaitStartReport(dead, 10_000);
    dead.close();
    expect(await waiting).toEqual({ kind: 'died' });
    expect(Date.now() - t0).toBeLessThan(1000);

    const failed = fakeShim();
    const reported = awaitStartReport(failed, 10_000);
    failed.line('{"ok":false,"error":"boom","step":"shim.init"}');
    failed.close();
    expect(await reported).toEqual({ kind: 'report', report: { ok: false, error: 'boom', step: 'shim.init' } });
  });

  it('ends on Ctrl-C (the abort signal), also one that came before the wait', async () => {
    const abort = new AbortController();
    const waiting = awaitStartReport(fakeShim(), 10_000, abort.signal);
    await sleep(20);
    abort.abort();
    expect(await waiting).toEqual({ kind: 'interrupted' });
    expect(await awaitStartReport(fakeShim(), 10_000, abort.signal)).toEqual({ kind: 'interrupted' });
  });
});

describe('the silence limit', () => {
  it('is 60 s; only the test-only scale (0 < s <= 1) changes it', () => {
    expect(supervisorSilenceLimitMs({})).toBe(60_000);
    expect(supervisorSilenceLimitMs({ PODNS_SILENCE_SCALE: '0.05' })).toBe(3000);
    for (const v of ['', '0', '-1', '2', 'x']) expect(supervisorSilenceLimitMs({ PODNS_SILENCE_SCALE: v })).toBe(60_000);
  });
});

describe("the shim's heartbeat", () => {
  it('writes {"alive":true} lines until the final report ends the channel', async () => {
    const channel = new PassThrough();
    let text = '';
    channel.on('data', (chunk: Buffer) => (text += chunk.toString()));
    startHeartbeat(channel, 10);
    await sleep(100);
    channel.end('{"ok":true}\n');
    await sleep(50);
    const lines = text.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.slice(0, -1).every((l) => l === '{"alive":true}')).toBe(true);
    expect(lines.at(-1)).toBe('{"ok":true}');
    expect(lines.map(parseReportLine)).not.toContain(undefined);
  });
});
