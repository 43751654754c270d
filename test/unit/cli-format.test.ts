import { describe, expect, it } from 'vitest';
import { formatAge, formatColumns } from '../../src/cli/columns.js';

describe('formatAge, kubectl-style', () => {
  const now = Date.parse('2026-01-10T00:00:00Z');
  it.each([
    ['2026-01-09T23:59:55Z', '5s'],
    ['2026-01-09T23:55:00Z', '5m'],
    ['2026-01-09T20:00:00Z', '4h'],
    ['2026-01-01T00:00:00Z', '9d'],
    ['1970-01-01T00:00:00Z', '56y'],
    [undefined, '-'],
  ])('%s → %s', (since, age) => expect(formatAge(since, now)).toBe(age));
});

describe('formatColumns', () => {
  it('pads every column but the last to its widest cell plus two spaces', () => {
    expect(formatColumns([['A', 'BB', 'C'], ['aaa', 'b', 'c']])).toBe('A    BB  C\naaa  b   c\n');
  });
});
