/** The detached helper's channel: lines as they come (also to a late listener), the whole text at the close. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDetached } from '../../../src/sys/detached.js';

describe('startDetached', () => {
  it('passes each line from fd 3 to onLine as it arrives, before the report settles', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-detached-'));
    try {
      // Answers the work line with two lines, a pause, a line split across writes, then exits.
      const script = `const fs = require('fs'); const s = new (require('net').Socket)({ fd: 3 });
        s.once('data', async (work) => {
          s.write('got ' + work.toString().trim() + '\\nalive\\n');
          await new Promise((r) => setTimeout(r, 200));
          s.write('do'); s.end('ne\\n', () => process.exit(0));
        });`;
      const helper = startDetached([process.execPath, '-e', script], path.join(dir, 'log'));
      helper.send('pod-a');
      const early: string[] = [];
      helper.onLine((l) => early.push(l));
      await new Promise((r) => setTimeout(r, 100));
      expect(early).toEqual(['got pod-a', 'alive']);
      const late: string[] = [];
      helper.onLine((l) => late.push(l));
      expect(await helper.report).toBe('got pod-a\nalive\ndone\n');
      expect(early).toEqual(['got pod-a', 'alive', 'done']);
      expect(late).toEqual(['got pod-a', 'alive', 'done']);
      await helper.exited;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
