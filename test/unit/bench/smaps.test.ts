import { describe, expect, it } from 'vitest';
import { memoryUse, parseSmapsRollup } from '../../../src/bench/smaps.js';

const ROLLUP = `561351561000-7fff9e717000 ---p 00000000 00:00 0                          [rollup]
Rss:                1608 kB
Pss:                 335 kB
Pss_Dirty:           112 kB
Pss_Anon:            112 kB
Pss_File:            223 kB
Pss_Shmem:             0 kB
Shared_Clean:       1460 kB
Private_Dirty:       112 kB
SwapPss:               0 kB
`;

describe('parseSmapsRollup', () => {
  it('reads every kB field by name and skips the header line', () => {
    const f = parseSmapsRollup(ROLLUP);
    expect(f).toMatchObject({ Rss: 1608, Pss: 335, Pss_Anon: 112, Pss_File: 223, Shared_Clean: 1460, SwapPss: 0 });
    expect(Object.keys(f)).not.toContain('561351561000-7fff9e717000');
  });
  it('ignores lines that are not "Key: N kB"', () => {
    expect(parseSmapsRollup('VmFlags: rd wr\nRss: 12 kB\nbogus\n')).toEqual({ Rss: 12 });
  });
});

describe('memoryUse', () => {
  it('gives RSS and PSS in kB', () => {
    expect(memoryUse(ROLLUP)).toEqual({ rssKb: 1608, pssKb: 335 });
  });
  it('throws without Rss or Pss (an empty read of a process that just exited)', () => {
    expect(() => memoryUse('')).toThrow(/Rss\/Pss/);
    expect(() => memoryUse('Rss: 1 kB\n')).toThrow(/Rss\/Pss/);
  });
});
