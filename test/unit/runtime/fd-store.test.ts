import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fdIdentity, fdTable } from '../../../src/runtime/fd-store.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-fdtable-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('fdTable: the fds a process holds, by the identity of the open file', () => {
  it('maps st_dev:st_ino to the fd number, following /proc/<pid>/fd/N to the file itself; a dangling entry is skipped', () => {
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    fs.writeFileSync(a, '');
    fs.writeFileSync(b, '');
    const fdDir = path.join(root, 'proc', '42', 'fd');
    fs.mkdirSync(fdDir, { recursive: true });
    fs.symlinkSync(a, path.join(fdDir, '5'));
    fs.symlinkSync(b, path.join(fdDir, '9'));
    fs.symlinkSync(path.join(root, 'gone'), path.join(fdDir, '3'));
    const fd = fs.openSync(b, 'r');
    try {
      const id = fdIdentity(fd);
      const table = fdTable(42, path.join(root, 'proc'));
      expect(table.get(`${id.dev}:${id.ino}`)).toBe(9);
      expect([...table.values()].sort()).toEqual([5, 9]);
    } finally {
      fs.closeSync(fd);
    }
  });
});
