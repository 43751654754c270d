import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockOwner, ownerAlive } from '../../../src/image/lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-lock-'));
  dirs.push(d);
  return d;
};

describe('store locks', () => {
  it('a second taker waits for the first to release', async () => {
    const file = path.join(tmp(), 'lock');
    const release = await acquireLock(file, 'x');
    let second = false;
    const pending = acquireLock(file, 'x').then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(second).toBe(false);
    await release();
    await (await pending)();
    expect(second).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });
  it('takes over the lock of a dead holder (pid + start time)', async () => {
    const file = path.join(tmp(), 'lock');
    fs.writeFileSync(file, `${process.pid} 1\n`); // our pid, but not our start time: a recycled pid
    expect(ownerAlive(`${process.pid} 1`)).toBe(false);
    expect(ownerAlive(lockOwner()!)).toBe(true);
    const release = await acquireLock(file, 'x', 1000);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(lockOwner());
    await release();
  });
  it('times out on a live holder', async () => {
    const file = path.join(tmp(), 'lock');
    fs.writeFileSync(file, `${lockOwner()}\n`);
    await expect(acquireLock(file, 'the thing', 100)).rejects.toThrow(/timed out waiting for the lock on the thing/);
  });
});
