import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { innermostPid, isAlive, processRef } from '../../../src/runtime/proc.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function fakeProc(entries: Record<number, { stat: string; status?: string }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-proc-'));
  made.push(root);
  for (const [pid, e] of Object.entries(entries)) {
    fs.mkdirSync(path.join(root, pid));
    fs.writeFileSync(path.join(root, pid, 'stat'), e.stat);
    if (e.status) fs.writeFileSync(path.join(root, pid, 'status'), e.status);
  }
  return root;
}
// Field 22 (starttime) is the 20th field after "pid (comm) ".
const stat = (pid: number, comm: string, state: string, start: number) =>
  `${pid} (${comm}) ${state} 1 ${Array.from({ length: 17 }, () => '0').join(' ')} ${start} 0 0\n`;

describe('proc', () => {
  it('reads the start time past a comm that holds spaces and parentheses', () => {
    const root = fakeProc({ 10: { stat: stat(10, 'a (b) c', 'S', 777) } });
    expect(processRef(10, root)).toEqual({ pid: 10, startTime: 777 });
  });
  it('a reused pid (other start time) and a zombie are not alive', () => {
    const root = fakeProc({ 10: { stat: stat(10, 'x', 'S', 5) }, 11: { stat: stat(11, 'z', 'Z', 6) } });
    expect(isAlive({ pid: 10, startTime: 5 }, root)).toBe(true);
    expect(isAlive({ pid: 10, startTime: 4 }, root)).toBe(false);
    expect(isAlive({ pid: 11, startTime: 6 }, root)).toBe(false);
    expect(isAlive({ pid: 12, startTime: 6 }, root)).toBe(false);
  });
  it('the pid inside the innermost PID namespace is the last NSpid field', () => {
    const root = fakeProc({ 10: { stat: stat(10, 'x', 'S', 1), status: 'Name:\tx\nNSpid:\t10\t3\n' } });
    expect(innermostPid(10, root)).toBe(3);
  });
  it('this process is alive by its own record', () => {
    expect(isAlive(processRef(process.pid))).toBe(true);
  });
});

describe('stopSignalNumber', async () => {
  const { stopSignalNumber } = await import('../../../src/runtime/runtime-service.js');
  it.each([
    [undefined, 15],
    ['SIGQUIT', 3],
    ['quit', 3],
    ['9', 9],
    ['SIGNOPE', 15],
  ])('%s → %d', (name, n) => expect(stopSignalNumber(name)).toBe(n));
});
