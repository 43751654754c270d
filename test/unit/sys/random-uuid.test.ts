import { describe, expect, it } from 'vitest';
import { randomUuid } from '../../../src/sys/random-uuid.js';

describe('randomUuid', () => {
  it('is a version 4, RFC 9562 variant UUID in the canonical form, and differs every time', () => {
    const ids = Array.from({ length: 1000 }, randomUuid);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses every hex digit in the random positions (the bytes are random, not a counter)', () => {
    const random = Array.from({ length: 200 }, randomUuid).map((id) => id.replace(/-/g, '')).join('');
    expect(new Set(random).size).toBe(16);
  });
});
