/**
 * The path-safety check of a layer, done on the very byte stream `tar -x` extracts (one decompression, one read),
 * instead of a separate `tar -t` listing pass.
 *
 * TarGuard is a Transform between the decompressor and tar's stdin. It decodes every header as GNU tar does
 * (tar-header.ts) and passes a header on only after it has admitted the entry, so tar never acts on one it
 * has not seen; the first refused entry fails the stream and tar sees nothing more. Admitting needs no help
 * from tar, so podns runs it with `-P` (--absolute-names), which turns off GNU tar's own defences (stripping
 * a leading `/`, skipping `..` members, and extracting symlinks with an absolute or `..` target as placeholder
 * files first, replaced by the link at the very end: one extra inode created and one unlinked per such link —
 * 273 of nginx's 340 entries). The rules that take their place (ExtractionPaths):
 *
 *   - no absolute names, no `..` component, in names and in hard-link targets;
 *   - nothing below a symlink: no entry (nor hard-link target) whose parent path is a symlink this archive
 *     made — so no write ever goes through a link, whatever it points at;
 *   - a symlink (or a hard link to one) never replaces an earlier entry or an implicit parent directory, and
 *     nothing replaces a symlink — so the delayed chmod/chown/utimes tar applies to directories at the end
 *     cannot land on a link;
 *   - only the types of a filesystem layer (file, dir, symlink, hard link, char/block device, fifo), a size
 *     of 0 for all but files, and no sparse files, so both readers step over the same data blocks.
 *
 * The extraction target is a fresh, empty, private temp dir (a layer's in layer.ts, an image archive's scratch
 * dir), so no path exists there that the archive did not make. Symlink targets are not checked: nothing is resolved through them during extraction,
 * and in a container they resolve inside its own root.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { BLOCK, TYPE, TarFormatError, decodeHeader, decodePaxRecords, isZeroBlock, type RawHeader } from './tar-header.js';

/** pax and GNU long-name data larger than this is refused (GNU tar itself names no limit; PATH_MAX is 4096). */
const MAX_EXTENDED_BYTES = 1024 * 1024;

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo';

export interface TarEntry {
  kind: EntryKind;
  /** The name tar will create, as bytes (latin1 string); not yet normalised. */
  name: string;
  /** Symlink or hard-link target. */
  target?: string;
  /** Bytes of data following the header (before padding). */
  size: number;
}

/** Why an entry was refused; `entryName` is its name as written in the archive. */
export class UnsafeEntryError extends Error {
  constructor(
    readonly entryName: string,
    readonly reason: string,
  ) {
    super(`entry "${printable(entryName)}" ${reason}`);
  }
}

/**
 * The containment rules, entry by entry, with what earlier entries made. Paths are normalised ('.' and empty
 * components dropped) to the form the kernel resolves them in, which is exact once `..` and links are excluded.
 */
export class ExtractionPaths {
  /** Every path an entry made or needed as a parent directory. */
  private readonly made = new Set<string>();
  private readonly symlinks = new Set<string>();

  admit(entry: TarEntry): void {
    const parts = components(entry.name);
    if (parts === undefined) throw new UnsafeEntryError(entry.name, 'escapes the extraction directory (absolute or "..")');
    const name = parts.join('/');
    if (name === '' && entry.kind !== 'directory') throw new UnsafeEntryError(entry.name, 'names the layer root but is not a directory');
    this.assertNoLinkAbove(entry.name, parts);
    if (this.symlinks.has(name)) throw new UnsafeEntryError(entry.name, 'replaces a symlink made earlier in the archive');

    let makesLink = entry.kind === 'symlink';
    if (entry.kind === 'hardlink') {
      const targetParts = components(entry.target ?? '');
      if (targetParts === undefined || targetParts.length === 0) {
        throw new UnsafeEntryError(entry.name, `is a hard link to "${printable(entry.target ?? '')}", outside the extraction directory`);
      }
      this.assertNoLinkAbove(entry.name, targetParts);
      // link(2) does not follow a symlink target: the new name is that same symlink.
      makesLink = this.symlinks.has(targetParts.join('/'));
    }
    if (makesLink && this.made.has(name)) throw new UnsafeEntryError(entry.name, 'is a link replacing an earlier entry');

    for (let i = 1; i <= parts.length; i++) this.made.add(parts.slice(0, i).join('/'));
    if (makesLink) this.symlinks.add(name);
  }

  private assertNoLinkAbove(entryName: string, parts: string[]): void {
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.symlinks.has(parent)) throw new UnsafeEntryError(entryName, `goes through the symlink "${printable(parent)}"`);
    }
  }
}

/** Components of a relative path without '.' and empty ones; undefined if absolute or holding "..". */
function components(p: string): string[] | undefined {
  if (p.startsWith('/')) return undefined;
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  return parts.includes('..') ? undefined : parts;
}

/** A latin1 byte string shown as UTF-8 text, for messages. */
function printable(bytes: string): string {
  return JSON.stringify(Buffer.from(bytes, 'latin1').toString('utf8')).slice(1, -1);
}

type Phase =
  | { kind: 'header' }
  | { kind: 'data'; remaining: number }
  | { kind: 'extended'; header: Buffer; type: string; size: number; padded: number; parts: Buffer[]; got: number }
  | { kind: 'end' };

/** Local pax records and GNU long names waiting for the header they apply to. */
interface Pending {
  pax?: Map<string, string>;
  longName?: string;
  longLink?: string;
}

/** What the guard saw of an archive it let through whole. */
export interface GuardSummary {
  entries: number;
}

/**
 * Passes a plain tar stream through, header by header, once each entry is admitted; ends it with two zero
 * blocks where the archive ends (GNU tar stops at the first zero block, and so does the guard: anything after
 * it is read and dropped). Errors with UnsafeEntryError or TarFormatError (with the entry's byte offset).
 */
export class TarGuard extends Transform {
  private phase: Phase = { kind: 'header' };
  private partial: Buffer | undefined;
  private offset = 0;
  private pending: Pending = {};
  private readonly paths = new ExtractionPaths();
  readonly summary: GuardSummary = { entries: 0 };

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(this.partial ? Buffer.concat([this.partial, chunk]) : chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.phase.kind === 'end') return done();
    if (this.phase.kind !== 'header' || this.partial) return done(new TarFormatError(`archive cut short at byte ${this.offset}`));
    // An archive without its end blocks (or an empty stream): end it for tar the regular way.
    this.push(Buffer.alloc(2 * BLOCK));
    done();
  }

  private consume(chunk: Buffer): void {
    this.partial = undefined;
    let at = 0;
    while (at < chunk.length) {
      const phase = this.phase;
      if (phase.kind === 'end') return;
      if (phase.kind === 'data') {
        const n = Math.min(phase.remaining, chunk.length - at);
        this.push(chunk.subarray(at, at + n));
        phase.remaining -= n;
        at += n;
        this.offset += n;
        if (phase.remaining === 0) this.phase = { kind: 'header' };
        continue;
      }
      if (phase.kind === 'extended') {
        const n = Math.min(phase.padded - phase.got, chunk.length - at);
        phase.parts.push(chunk.subarray(at, at + n));
        phase.got += n;
        at += n;
        this.offset += n;
        if (phase.got === phase.padded) this.finishExtended(phase);
        continue;
      }
      if (chunk.length - at < BLOCK) {
        this.partial = Buffer.from(chunk.subarray(at));
        return;
      }
      const block = chunk.subarray(at, at + BLOCK);
      at += BLOCK;
      this.header(block);
      this.offset += BLOCK;
    }
  }

  private header(block: Buffer): void {
    if (isZeroBlock(block)) {
      this.push(Buffer.alloc(2 * BLOCK));
      this.phase = { kind: 'end' };
      return;
    }
    const raw = this.decode(() => decodeHeader(block));
    if (isExtended(raw.type)) {
      const size = raw.size!;
      if (size > MAX_EXTENDED_BYTES) throw this.formatError(`extended header of ${size} bytes`);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      // Retained (not copied) until its data is complete: the chunk it lives in is not reused.
      this.phase = { kind: 'extended', header: block, type: raw.type, size, padded, parts: [], got: 0 };
      if (padded === 0) this.finishExtended(this.phase);
      return;
    }
    const entry = this.describe(raw);
    try {
      this.paths.admit(entry);
    } catch (err) {
      if (err instanceof UnsafeEntryError) err.message = `${err.message} (at byte ${this.offset})`;
      throw err;
    }
    this.summary.entries++;
    this.push(block);
    const padded = Math.ceil(entry.size / BLOCK) * BLOCK;
    this.phase = padded > 0 ? { kind: 'data', remaining: padded } : { kind: 'header' };
  }

  /** The entry tar will extract from this header and the extended data before it. */
  private describe(raw: RawHeader): TarEntry {
    const pax = this.pending.pax ?? new Map<string, string>();
    const name = pax.get('path') ?? this.pending.longName ?? raw.name;
    let target = this.pending.longLink ?? raw.linkname;
    target = pax.get('linkpath') ?? target;
    const size = pax.has('size') ? parseSize(pax.get('size')!, (m) => this.formatError(m)) : (raw.size ?? 0);
    this.pending = {};

    const kind = kindOf(raw.type, name);
    if (kind === undefined) throw this.formatError(`entry "${printable(name)}" has type '${printable(raw.type)}', not one of a filesystem layer`);
    if (kind !== 'file' && size !== 0) throw this.formatError(`entry "${printable(name)}" (${kind}) carries ${size} bytes of data`);
    return { kind, name, target: kind === 'symlink' || kind === 'hardlink' ? target : undefined, size };
  }

  private finishExtended(phase: Extract<Phase, { kind: 'extended' }>): void {
    const data = Buffer.concat(phase.parts).subarray(0, phase.size);
    if (phase.type === TYPE.gnuLongName || phase.type === TYPE.gnuLongLink) {
      const key = phase.type === TYPE.gnuLongName ? 'longName' : 'longLink';
      if (this.pending[key] !== undefined) throw this.formatError(`two GNU long ${key === 'longName' ? 'names' : 'links'} for one entry`);
      // GNU tar reads the name as a C string.
      const nul = data.indexOf(0);
      this.pending[key] = data.toString('latin1', 0, nul === -1 ? data.length : nul);
    } else {
      const records = this.decode(() => decodePaxRecords(data));
      if (phase.type === TYPE.paxGlobal) {
        const bad = records.find(([key]) => NAMING_KEYS.has(key) || key.startsWith('GNU.'));
        // A global record would rename (or resize) every entry after it: no layer writer does that.
        if (bad) throw this.formatError(`global pax header sets "${printable(bad[0])}"`);
      } else {
        if (this.pending.pax !== undefined) throw this.formatError('two pax headers for one entry');
        this.pending.pax = localPax(records, (m) => this.formatError(m));
      }
    }
    this.push(phase.header);
    for (const part of phase.parts) this.push(part);
    this.phase = { kind: 'header' };
  }

  private decode<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TarFormatError) throw this.formatError(err.message);
      throw err;
    }
  }

  private formatError(message: string): TarFormatError {
    return new TarFormatError(`${message} (at byte ${this.offset})`);
  }
}

/** pax keys that change which name, link target or data an entry has. */
const NAMING_KEYS = new Set(['path', 'linkpath', 'size']);

/**
 * The local records the guard acts on. Repeats and empty values are refused (GNU tar versions differ in what
 * they make of them; no writer produces them), and so is every `GNU.*` record: GNU.sparse.* makes tar read a
 * data size of its own (GNU.sparse.realsize, or the sparse map) instead of `size`, so the two readers would
 * step to different headers; GNU.dumpdir and GNU.volume.* belong to incremental and multi-volume archives.
 * No layer writer (Docker, BuildKit, Buildah: Go's archive/tar) emits any of them.
 */
function localPax(records: Array<[string, string]>, fail: (m: string) => Error): Map<string, string> {
  const pax = new Map<string, string>();
  for (const [key, value] of records) {
    if (key.startsWith('GNU.')) throw fail(`pax record "${printable(key)}" (sparse, incremental or multi-volume archives are not layers)`);
    if (!NAMING_KEYS.has(key)) continue;
    if (pax.has(key)) throw fail(`pax record "${key}" given twice`);
    if (value === '') throw fail(`empty pax record "${key}"`);
    pax.set(key, value);
  }
  return pax;
}

function parseSize(value: string, fail: (m: string) => Error): number {
  if (!/^[0-9]{1,15}$/.test(value)) throw fail(`pax size "${printable(value)}" is not a number`);
  return Number(value);
}

function isExtended(type: string): boolean {
  return type === TYPE.paxLocal || type === TYPE.paxLocalSolaris || type === TYPE.paxGlobal || type === TYPE.gnuLongName || type === TYPE.gnuLongLink;
}

function kindOf(type: string, name: string): EntryKind | undefined {
  switch (type) {
    case TYPE.regular:
    case TYPE.oldRegular:
    case TYPE.contiguous:
      // GNU tar (like BSD tar) extracts a "file" whose name ends in '/' as a directory, without its data.
      return name.endsWith('/') ? 'directory' : 'file';
    case TYPE.directory:
      return 'directory';
    case TYPE.symlink:
      return 'symlink';
    case TYPE.hardLink:
      return 'hardlink';
    case TYPE.charDevice:
    case TYPE.blockDevice:
      return 'device';
    case TYPE.fifo:
      return 'fifo';
    default:
      return undefined;
  }
}
