import { describe, expect, it } from 'vitest';
import { Channel, encodeFrame, FrameReader, MAX_FRAME } from '../../../src/supervisor/attach-protocol.js';
import { DETACH_KEYS, KeySequence } from '../../../src/cli/local-terminal.js';

describe('attach frames', () => {
  it('encode as channel, big-endian length, payload', () => {
    expect([...encodeFrame(Channel.stdout, 'hi')]).toEqual([1, 0, 0, 0, 2, 0x68, 0x69]);
    expect([...encodeFrame(Channel.stdin)]).toEqual([0, 0, 0, 0, 0]);
  });

  it('are cut out of a stream whatever its chunking, empty ones included', () => {
    const frames = [encodeFrame(Channel.stdout, 'hello'), encodeFrame(Channel.stdin), encodeFrame(Channel.resize, '{"Width":80,"Height":24}'), encodeFrame(Channel.status, '{"exitCode":3}')];
    const stream = Buffer.concat(frames);
    for (const size of [1, 2, 3, 5, 7, stream.length]) {
      const seen: [number, string][] = [];
      const reader = new FrameReader((c, p) => seen.push([c, p.toString()]));
      for (let i = 0; i < stream.length; i += size) reader.push(stream.subarray(i, i + size));
      expect(seen).toEqual([
        [1, 'hello'],
        [0, ''],
        [4, '{"Width":80,"Height":24}'],
        [3, '{"exitCode":3}'],
      ]);
    }
  });

  it('refuse a frame larger than the limit instead of buffering it', () => {
    const head = Buffer.from([1, 0, 0, 0, 0]);
    head.writeUInt32BE(MAX_FRAME + 1, 1);
    expect(() => new FrameReader(() => {}).push(head)).toThrow(/larger than/);
  });
});

describe('detach keys (Ctrl-P Ctrl-Q)', () => {
  it('are found in one chunk, across chunks, and after a repeated Ctrl-P', () => {
    expect(new KeySequence(DETACH_KEYS).seen(Buffer.from('ab\x10\x11'))).toBe(true);
    const split = new KeySequence(DETACH_KEYS);
    expect(split.seen(Buffer.from('x\x10'))).toBe(false);
    expect(split.seen(Buffer.from('\x11'))).toBe(true);
    expect(new KeySequence(DETACH_KEYS).seen(Buffer.from('\x10\x10\x11'))).toBe(true);
  });

  it('are not matched by other input or by the keys out of order', () => {
    const k = new KeySequence(DETACH_KEYS);
    expect(k.seen(Buffer.from('\x11\x10'))).toBe(false);
    expect(k.seen(Buffer.from('a'))).toBe(false);
    expect(k.seen(Buffer.from('\x11'))).toBe(false);
    expect(k.seen(Buffer.from('\x10x\x11'))).toBe(false);
  });
});
