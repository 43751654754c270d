/**
 * Decoding of tar header blocks and pax extended records exactly as GNU tar 1.34 reads them (list.c
 * `read_header`, `tar_checksum`, `from_header`; xheader.c `decode_record`), for tar-guard.ts: the guard must see
 * the same names, link targets and sizes that `tar -x` will act on, or it would check a different archive than
 * the one extracted. Wherever GNU tar would warn, guess or carry on (a bad checksum, a malformed pax record, a
 * number with stray characters), these functions throw a TarFormatError instead: the guard then refuses the
 * archive, so no input on which the two readers could disagree ever reaches tar.
 *
 * Strings are kept as `latin1` JS strings: one char per byte, so names compare byte for byte, as the kernel
 * compares them (GNU tar runs with LC_ALL=C and leaves names unconverted).
 */

export const BLOCK = 512;

/** The archive is not one podns will hand to tar; the message says why. */
export class TarFormatError extends Error {}

/** Typeflags (POSIX ustar, GNU and pax) and what podns does with them. */
export const TYPE = {
  regular: '0',
  oldRegular: '\0',
  contiguous: '7',
  hardLink: '1',
  symlink: '2',
  charDevice: '3',
  blockDevice: '4',
  directory: '5',
  fifo: '6',
  paxLocal: 'x',
  /** Solaris' name for `x`; GNU tar treats both alike. */
  paxLocalSolaris: 'X',
  paxGlobal: 'g',
  gnuLongName: 'L',
  gnuLongLink: 'K',
} as const;

/** The fields of one header block the guard needs. */
export interface RawHeader {
  type: string;
  /** The name as GNU tar assembles it from the block alone: ustar `prefix/name`, else `name`. */
  name: string;
  linkname: string;
  /** The size field, decoded; undefined for a hard link, whose size GNU tar ignores (treats as 0). */
  size: number | undefined;
}

/** True for the all-zero block that ends an archive (GNU tar: unsigned checksum sum 0). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes a non-zero header block; throws on a checksum GNU tar would reject or a size it could not read. */
export function decodeHeader(block: Buffer): RawHeader {
  verifyChecksum(block);
  const type = String.fromCharCode(block[156]!);
  const name = cString(block, 0, 100);
  // POSIX.1-1988 ustar (magic "ustar\0"): a non-empty prefix field is joined before the name. GNU's own
  // magic ("ustar  \0") uses those bytes for other things, and GNU tar then ignores them as a prefix.
  const ustar = block.toString('latin1', 257, 263) === 'ustar\0';
  const prefix = ustar ? cString(block, 345, 155) : '';
  return {
    type,
    name: prefix !== '' ? `${prefix}/${name}` : name,
    linkname: cString(block, 157, 100),
    size: type === TYPE.hardLink ? undefined : decodeNumber(block, 124, 12, 'size'),
  };
}

/** tar_checksum: the sum of all bytes with the checksum field counted as spaces, unsigned or signed. */
function verifyChecksum(block: Buffer): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const recorded = decodeNumber(block, 148, 8, 'checksum', true);
  if (recorded !== unsigned && recorded !== signed) throw new TarFormatError('header checksum mismatch');
}

/**
 * from_header: one leading NUL skipped, then spaces, then octal digits (or, unless `octalOnly`, GNU's
 * base-256 with a leading 0x80 byte), then only NUL or spaces. Negative numbers, base-64 and anything
 * GNU tar would "recover" from are refused.
 */
export function decodeNumber(block: Buffer, offset: number, width: number, field: string, octalOnly = false): number {
  const end = offset + width;
  let i = offset;
  if (block[i] === 0) i++;
  while (i < end && isSpace(block[i]!)) i++;
  if (i === end) throw new TarFormatError(`blank ${field} field`);
  let value = 0;
  if (isOctal(block[i]!)) {
    while (i < end && isOctal(block[i]!)) {
      value = value * 8 + (block[i]! - 0x30);
      i++;
    }
  } else if (!octalOnly && block[i] === 0x80) {
    // Positive base-256: the remaining bits of the first byte, then whole bytes, big-endian.
    value = block[i]! & 0x3f;
    for (i++; i < end; i++) value = value * 256 + block[i]!;
  } else {
    throw new TarFormatError(`unreadable ${field} field`);
  }
  if (i < end && block[i] !== 0 && !isSpace(block[i]!)) throw new TarFormatError(`unreadable ${field} field`);
  if (!Number.isSafeInteger(value)) throw new TarFormatError(`${field} out of range`);
  return value;
}

/** A pax extended header's records, in order: `"%d %s=%s\n"`, the length counting the whole record. */
export function decodePaxRecords(data: Buffer): Array<[string, string]> {
  const records: Array<[string, string]> = [];
  let start = 0;
  for (;;) {
    let p = start;
    while (p < data.length && (data[p] === 0x20 || data[p] === 0x09)) p++;
    // GNU tar stops quietly at a NUL (or the end: its buffer is NUL-terminated) and loudly at anything else.
    if (p >= data.length || data[p] === 0) return records;
    if (!isDigit(data[p]!)) throw new TarFormatError('malformed pax record: missing length');
    const digitsStart = p;
    let length = 0;
    while (p < data.length && isDigit(data[p]!)) length = length * 10 + (data[p++]! - 0x30);
    if (p - digitsStart > 15 || length > data.length - start) throw new TarFormatError('pax record length out of range');
    const next = start + length;
    const afterDigits = p;
    while (p < data.length && (data[p] === 0x20 || data[p] === 0x09)) p++;
    if (p === afterDigits) throw new TarFormatError('malformed pax record: no blank after the length');
    const keyStart = p;
    // strchr: the first '=' before any NUL, and it must lie inside this record.
    while (p < data.length && data[p] !== 0x3d && data[p] !== 0) p++;
    if (p >= next || data[p] !== 0x3d) throw new TarFormatError('malformed pax record: no "=" in it');
    if (data[next - 1] !== 0x0a) throw new TarFormatError('malformed pax record: no newline at its end');
    records.push([data.toString('latin1', keyStart, p), cString(data, p + 1, next - 1 - (p + 1))]);
    start = next;
  }
}

/** The bytes of a field up to its first NUL (C string semantics, as GNU tar copies names). */
export function cString(buf: Buffer, offset: number, width: number): string {
  const end = Math.min(offset + width, buf.length);
  let nul = offset;
  while (nul < end && buf[nul] !== 0) nul++;
  return buf.toString('latin1', offset, nul);
}

const isOctal = (b: number) => b >= 0x30 && b <= 0x37;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
// C isspace in the C locale.
const isSpace = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);
