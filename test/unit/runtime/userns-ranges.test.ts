/**
 * The user namespace range allocator (hostUsers: false): kubelet's rules for the window, the lowest free range
 * by one O_EXCL lease each, never two pods on one range, release by the owner only, exhaustion in one line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allocateRange,
  DEFAULT_USERNS_RANGES,
  invalidRanges,
  loadUserNamespaceRanges,
  releaseOrphanRanges,
  releaseRange,
  USERNS_SIZE,
} from '../../../src/runtime/userns-ranges.js';

const owner = (podId: string) => ({ runRoot: '/run/podns', podId });

describe('userns ranges', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-userns-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('defaults to kubelet\'s window: everything after the first block, less the block no uid_map line can end', () => {
    expect(DEFAULT_USERNS_RANGES).toEqual({ firstID: 65536, length: 2 ** 32 - 2 * 65536 });
    expect(invalidRanges(DEFAULT_USERNS_RANGES)).toBeUndefined();
    expect(loadUserNamespaceRanges(dir)).toEqual(DEFAULT_USERNS_RANGES);
  });

  it('refuses windows kubelet refuses: not multiples, the first block, past the end', () => {
    expect(invalidRanges({ firstID: 65537, length: 65536 })).toMatch(/firstID 65537 is not a multiple of 65536/);
    expect(invalidRanges({ firstID: 0, length: 65536 })).toMatch(/must be at least 65536: the first block/);
    expect(invalidRanges({ firstID: 65536, length: 1000 })).toMatch(/length 1000 is not a positive multiple/);
    expect(invalidRanges({ firstID: 2 ** 32 - 65536, length: 65536 })).toMatch(/goes beyond/);
    fs.writeFileSync(path.join(dir, 'userns.json'), JSON.stringify({ firstID: 100000 }));
    expect(() => loadUserNamespaceRanges(dir)).toThrow(`${path.join(dir, 'userns.json')}: firstID 100000 is not a multiple of 65536`);
  });

  it('hands out the lowest free range, each a multiple of 65536 and none twice; a released one comes back', () => {
    const ranges = { firstID: 3 * USERNS_SIZE, length: 3 * USERNS_SIZE };
    const leases = path.join(dir, 'leases');
    const a = allocateRange(leases, ranges, owner('a'));
    const b = allocateRange(leases, ranges, owner('b'));
    const c = allocateRange(leases, ranges, owner('c'));
    expect([a, b, c].map((m) => m.uidBase)).toEqual([3, 4, 5].map((n) => n * USERNS_SIZE));
    for (const m of [a, b, c]) expect(m).toEqual({ uidBase: m.uidBase, gidBase: m.uidBase, size: USERNS_SIZE });
    expect(fs.readFileSync(path.join(leases, String(b.uidBase)), 'utf8')).toBe('/run/podns b\n');
    releaseRange(leases, b, owner('b'));
    expect(allocateRange(leases, ranges, owner('d')).uidBase).toBe(b.uidBase);
  });

  it('skips a range another start leased a moment ago (the O_EXCL create is the allocation)', () => {
    const ranges = { firstID: USERNS_SIZE, length: 2 * USERNS_SIZE };
    const first = allocateRange(dir, ranges, owner('a'));
    // A concurrent start that listed the directory before 'a' leased: its create of the same file fails.
    fs.rmSync(path.join(dir, String(first.uidBase)));
    fs.writeFileSync(path.join(dir, String(first.uidBase)), '/other x\n', { flag: 'wx' });
    expect(allocateRange(dir, ranges, owner('b')).uidBase).toBe(2 * USERNS_SIZE);
  });

  it('releases only its owner\'s lease, and a missing lease is fine', () => {
    const ranges = { firstID: USERNS_SIZE, length: USERNS_SIZE };
    const a = allocateRange(dir, ranges, owner('a'));
    releaseRange(dir, a, owner('someone-else'));
    expect(fs.existsSync(path.join(dir, String(a.uidBase)))).toBe(true);
    releaseRange(dir, a, owner('a'));
    expect(fs.existsSync(path.join(dir, String(a.uidBase)))).toBe(false);
    releaseRange(dir, a, owner('a'));
  });

  it('fails in one line when every range is taken', () => {
    const ranges = { firstID: 2 * USERNS_SIZE, length: 2 * USERNS_SIZE };
    allocateRange(dir, ranges, owner('a'));
    allocateRange(dir, ranges, owner('b'));
    let message = '';
    try {
      allocateRange(dir, ranges, owner('c'));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`no free user namespace range: all 2 ranges of 65536 IDs in [131072, 262144) are taken (leases in ${dir}; the window is set in userns.json)`);
    expect(message).not.toContain('\n');
  });

  it('gc: releases the leases of this root\'s pods that are gone, keeps live pods\' and other roots\'', () => {
    const ranges = { firstID: USERNS_SIZE, length: 4 * USERNS_SIZE };
    const gone = allocateRange(dir, ranges, owner('gone'));
    const live = allocateRange(dir, ranges, owner('live'));
    const other = allocateRange(dir, ranges, { runRoot: '/tmp/other/run', podId: 'gone' });
    fs.writeFileSync(path.join(dir, 'not-a-lease'), 'x');
    expect(releaseOrphanRanges(dir, '/run/podns', (id) => id === 'live')).toEqual([gone.uidBase]);
    expect(fs.readdirSync(dir).sort()).toEqual([String(live.uidBase), String(other.uidBase), 'not-a-lease'].sort());
    expect(releaseOrphanRanges(path.join(dir, 'missing'), '/run/podns', () => false)).toEqual([]);
  });
});
