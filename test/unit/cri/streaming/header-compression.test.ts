import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from '../../../../src/cri/streaming/spdy/dictionary.js';
import { decodeHeaderBlock, encodeHeaderBlock } from '../../../../src/cri/streaming/spdy/header-block.js';
import { HeaderDeflater, HeaderInflater } from '../../../../src/cri/streaming/spdy/header-compression.js';
import { SpdyProtocolError } from '../../../../src/cri/streaming/spdy/frames.js';

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const byte of b) {
    a = (a + byte) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

describe('SPDY/3 header blocks', () => {
  it("the dictionary is the spec's: 1423 bytes, Adler-32 0xe3c6a7c2 (what every SPDY/3 peer's zlib header names)", () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(adler32(SPDY3_DICTIONARY)).toBe(0xe3c6a7c2);
  });

  it('a block is a count, then length-prefixed lower-case names and NUL-joined values', () => {
    const block = encodeHeaderBlock({ StreamType: 'error', port: ['80', '81'] });
    expect(block.readUInt32BE(0)).toBe(2);
    expect(block.subarray(8, 18).toString()).toBe('streamtype');
    expect(decodeHeaderBlock(block)).toEqual(
      new Map([
        ['streamtype', ['error']],
        ['port', ['80', '81']],
      ]),
    );
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(SpdyProtocolError);
    const lying = Buffer.from(block);
    lying.writeUInt32BE(3, 0);
    expect(() => decodeHeaderBlock(lying)).toThrow(/cut short/);
  });

  it('blocks compress on one zlib stream per direction: each decodes in order, later ones smaller, the dictionary id in the header', async () => {
    const deflater = new HeaderDeflater();
    const inflater = new HeaderInflater();
    const blocks = [0, 1, 2, 3].map((i) => encodeHeaderBlock({ streamtype: 'data', port: '8080', requestid: String(i) }));
    const compressed = await Promise.all(blocks.map((b) => deflater.compress(b)));
    // RFC 1950: FDICT set, then the dictionary's Adler-32.
    expect(compressed[0]![1]! & 0x20).toBe(0x20);
    expect(compressed[0]!.readUInt32BE(2)).toBe(0xe3c6a7c2);
    expect(compressed[3]!.length).toBeLessThan(compressed[0]!.length);
    // Each ends at a sync flush (00 00 ff ff), so the receiver can decode it before the next arrives.
    for (const c of compressed) expect([...c.subarray(-4)]).toEqual([0, 0, 0xff, 0xff]);
    for (let i = 0; i < blocks.length; i++) expect(await inflater.decompress(compressed[i]!)).toEqual(blocks[i]);
    deflater.close();
    inflater.close();
  });

  it('what a plain zlib deflater with the dictionary makes (another implementation) decodes', async () => {
    const block = encodeHeaderBlock({ ':status': '101', 'x-stream-protocol-version': 'v4.channel.k8s.io' });
    const other = zlib.deflateSync(block, { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const inflater = new HeaderInflater();
    expect(decodeHeaderBlock(await inflater.decompress(other))).toEqual(decodeHeaderBlock(block));
    inflater.close();
  });

  it('a block out of order, corrupt, or inflating past the limit fails with a protocol error, and so does every later one', async () => {
    const deflater = new HeaderDeflater();
    const first = await deflater.compress(encodeHeaderBlock({ a: 'b' }));
    const second = await deflater.compress(encodeHeaderBlock({ c: 'd' }));
    const wrongOrder = new HeaderInflater();
    await expect(wrongOrder.decompress(second)).rejects.toThrow(SpdyProtocolError);
    await expect(wrongOrder.decompress(first)).rejects.toThrow(SpdyProtocolError);
    const bomb = new HeaderInflater(1024);
    const big = await new HeaderDeflater().compress(encodeHeaderBlock({ x: 'y'.repeat(100_000) }));
    expect(big.length).toBeLessThan(2048);
    await expect(bomb.decompress(big)).rejects.toThrow(/more than 1024 bytes/);
    deflater.close();
  });
});
