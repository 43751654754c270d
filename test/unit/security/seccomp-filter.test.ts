import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../../../src/security/capabilities.js';
import type { Confinement } from '../../../src/security/confinement.js';
import { seccompFilterOf } from '../../../src/security/seccomp-filter.js';

const conf = (capabilities: string[]): Confinement => ({
  privileged: false,
  capabilities,
  noNewPrivs: false,
  readonlyRoot: false,
  unmasked: false,
  seccomp: { type: 'RuntimeDefault' },
});

describe('seccompFilterOf keeps compiled RuntimeDefault programs on disk', () => {
  const lib = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-seccomp-'));
  afterAll(() => fs.rmSync(lib, { recursive: true, force: true }));
  const cached = () => fs.readdirSync(path.join(lib, 'cache', 'seccomp'));

  it('compiles once, then reads the same program back', async () => {
    const first = await seccompFilterOf(conf([...DEFAULT_CAPABILITIES]), lib);
    expect(first!.length % 8).toBe(0);
    expect(cached()).toHaveLength(1);
    const file = path.join(lib, 'cache', 'seccomp', cached()[0]!);
    const mtime = fs.statSync(file).mtimeMs;
    expect(await seccompFilterOf(conf([...DEFAULT_CAPABILITIES].reverse()), lib)).toEqual(first);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
  });

  it('another capability set is another program (CAP_SYS_ADMIN lets mount through)', async () => {
    const withAdmin = await seccompFilterOf(conf([...DEFAULT_CAPABILITIES, 'SYS_ADMIN']), lib);
    expect(cached()).toHaveLength(2);
    expect(withAdmin).not.toEqual(await seccompFilterOf(conf([...DEFAULT_CAPABILITIES]), lib));
  });

  it('an unconfined container has no program', async () => {
    expect(await seccompFilterOf({ ...conf([]), seccomp: undefined }, lib)).toBeUndefined();
  });
});
