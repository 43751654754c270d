import { describe, expect, it } from 'vitest';
import { formatMb, formatMs, formatRatio, formatTable } from '../../../src/bench/table.js';

describe('formatTable', () => {
  it('pads columns to the widest cell, right-aligns where asked, and rules the header', () => {
    const text = formatTable(['name', 'ms'], [['exec', '47.8'], ['run → running', '223']], ['left', 'right']);
    expect(text).toBe(['name             ms', '-------------  ----', 'exec           47.8', 'run → running   223', ''].join('\n'));
  });
  it('treats missing cells as empty and trims trailing blanks', () => {
    const text = formatTable(['a', 'b', 'c'], [['x']]);
    expect(text.split('\n')[2]).toBe('x');
  });
});

describe('formatMs', () => {
  it('keeps one decimal below 100 ms and none above', () => {
    expect(formatMs(5.234)).toBe('5.2');
    expect(formatMs(99.94)).toBe('99.9');
    expect(formatMs(223.4)).toBe('223');
  });
  it('prints - for nothing', () => {
    expect(formatMs(undefined)).toBe('-');
    expect(formatMs(Number.NaN)).toBe('-');
  });
});

describe('formatRatio', () => {
  it('prints a multiplier', () => {
    expect(formatRatio(1)).toBe('1.00x');
    expect(formatRatio(43.21)).toBe('43.2x');
    expect(formatRatio(Number.NaN)).toBe('-');
  });
});

describe('formatMb', () => {
  it('converts kB to MB (1024)', () => {
    expect(formatMb(54374)).toBe('53.10');
    expect(formatMb(undefined)).toBe('-');
  });
});
