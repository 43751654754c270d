import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { terminationMessage } from '../../../src/kubelet/termination-message.js';

describe('terminationMessage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-tm-'));
  const file = path.join(dir, 'termination-log');
  const log = path.join(dir, '0.log');
  afterEach(() => {
    for (const f of [file, log]) fs.rmSync(f, { force: true });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const writeLog = (lines: string[]) => fs.writeFileSync(log, lines.map((l) => `2026-01-01T00:00:00.000000000Z stdout F ${l}\n`).join(''));

  it('is the file, up to 4 KiB, whatever the policy', () => {
    fs.writeFileSync(file, 'x'.repeat(5000));
    expect(terminationMessage(file, log, 'File', 1)).toHaveLength(4096);
    fs.writeFileSync(file, 'done\n');
    expect(terminationMessage(file, log, 'FallbackToLogsOnError', 1)).toBe('done\n');
  });

  it('falls back to the last 80 lines of the log (2 KiB at most) only on an error exit', () => {
    fs.writeFileSync(file, '');
    writeLog(Array.from({ length: 100 }, (_, i) => `line ${i + 1}`));
    const tail = terminationMessage(file, log, 'FallbackToLogsOnError', 2)!;
    expect(tail.split('\n').filter(Boolean)).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 21}`));
    expect(terminationMessage(file, log, 'FallbackToLogsOnError', 0)).toBeUndefined();
    expect(terminationMessage(file, log, 'File', 2)).toBeUndefined();
    writeLog(Array.from({ length: 50 }, () => 'y'.repeat(99)));
    const capped = terminationMessage(file, log, 'FallbackToLogsOnError', 2)!;
    expect(Buffer.byteLength(capped)).toBe(2048);
    expect(capped.endsWith('y\n')).toBe(true);
  });

  it('joins partial (P) log lines', () => {
    fs.writeFileSync(log, '2026-01-01T00:00:00Z stderr P par\n2026-01-01T00:00:00Z stderr F tial\n');
    expect(terminationMessage(file, log, 'FallbackToLogsOnError', 1)).toBe('partial\n');
  });
});
