/**
 * Hand-made tar archives for the guard tests: every header field settable, including the ones no honest writer
 * produces (a `..` name, a pax record renaming an entry, a symlink with data, a wrong checksum).
 */

export interface RawEntry {
  name: string;
  /** Typeflag; '0' by default. */
  type?: string;
  data?: Buffer | string;
  /** Size field override (defaults to the data's length). */
  size?: number;
  linkname?: string;
  /** ustar prefix field (only read by tar with the POSIX magic). */
  prefix?: string;
  /** 'posix' = "ustar\0" "00" (default), 'gnu' = "ustar  \0". */
  magic?: 'posix' | 'gnu';
  /** Add this much to the correct checksum. */
  checksumDelta?: number;
}

export function header(e: RawEntry): Buffer {
  const block = Buffer.alloc(512);
  const data = Buffer.from(e.data ?? '');
  const octal = (value: number, offset: number, width: number) => block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'latin1');
  block.write(e.name, 0, 100, 'latin1');
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(e.size ?? data.length, 124, 12);
  octal(0, 136, 12);
  block.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname) block.write(e.linkname, 157, 100, 'latin1');
  block.write(e.magic === 'gnu' ? 'ustar  \0' : 'ustar\u000000', 257, 'latin1');
  if (e.prefix) block.write(e.prefix, 345, 155, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${(sum + (e.checksumDelta ?? 0)).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** Header, data and padding of one entry. */
export function entry(e: RawEntry): Buffer {
  const data = Buffer.from(e.data ?? '');
  return Buffer.concat([header(e), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A pax extended header ('x', or 'g' for global) carrying `records` in order. */
export function pax(records: Array<[string, string]>, type = 'x'): Buffer {
  const body = records
    .map(([k, v]) => {
      const payload = ` ${k}=${v}\n`;
      let length = Buffer.byteLength(payload) + 1;
      while (String(length).length + Buffer.byteLength(payload) !== length) length = String(length).length + Buffer.byteLength(payload);
      return `${length}${payload}`;
    })
    .join('');
  return entry({ name: 'PaxHeaders/x', type, data: body });
}

/** A GNU long name ('L') or long link ('K') for the next entry. */
export function longName(name: string, type = 'L'): Buffer {
  return entry({ name: '././@LongLink', type, data: `${name}\0`, magic: 'gnu' });
}

export const END = Buffer.alloc(1024);

export function archive(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, END]);
}
