import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../../../src/manifest/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['2.', 2],
    ['+3', 3],
    ['-3', -3],
    ['500m', 0.5],
    ['250m', 0.25],
    ['100u', 0.0001],
    ['1k', 1000],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['1Ki', 1024],
    ['128Mi', 134217728],
    ['100Mi', 104857600],
    ['1.5Gi', 1610612736],
    ['1Ti', 2 ** 40],
    ['1e3', 1000],
    ['1E3', 1000],
    ['12e-1', 1.2],
    ['1e+2', 100],
  ])('reads %s as %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 12);
  });

  it.each(['', 'Mi', '1GB', '1 Gi', '1mi', '1K', '1.2.3', '1e', 'e3', '0x10', '1Gi ', '--1', 'one'])('rejects %j', (text) => {
    expect(() => parseQuantity(text)).toThrow(`invalid quantity "${text}"`);
  });
});
