/**
 * SPDY/3's name/value header block (§2.6.10), before compression: a 32-bit count, then for each pair a 32-bit
 * length and the name (lower case), a 32-bit length and the value; several values of one name are joined by NUL.
 */
import { SpdyProtocolError } from './frames.js';

/** Header names (lower case) to their values. */
export type Headers = Map<string, string[]>;

export function encodeHeaderBlock(headers: Record<string, string | string[]> | Headers): Buffer {
  const entries = headers instanceof Map ? [...headers] : Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from((Array.isArray(value) ? value : [value]).join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/**
 * The pairs of a decompressed block. Names are taken in lower case (spdystream lower-cases too); a name given
 * twice has its values merged. A block cut short, or one saying more pairs than it holds, is a protocol error.
 */
export function decodeHeaderBlock(block: Buffer): Headers {
  let at = 0;
  const read = (what: string): Buffer => {
    if (at + 4 > block.length) throw new SpdyProtocolError(`header block cut short in ${what}`);
    const length = block.readUInt32BE(at);
    at += 4;
    if (at + length > block.length) throw new SpdyProtocolError(`header block cut short in ${what}`);
    const out = block.subarray(at, at + length);
    at += length;
    return out;
  };
  if (block.length < 4) throw new SpdyProtocolError('header block without a count');
  const count = block.readUInt32BE(0);
  at = 4;
  const headers: Headers = new Map();
  for (let i = 0; i < count; i++) {
    const name = read('a name').toString('utf8').toLowerCase();
    const values = read(`the value of "${name}"`).toString('utf8').split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}
