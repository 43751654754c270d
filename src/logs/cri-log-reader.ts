/**
 * Reads CRI-format container log files (see cri-log-writer.ts) and prints them the way `kubectl logs` does,
 * following kubelet's pkg/kubelet/kuberuntime/logs/logs.go:
 * - `P` records are joined with the following records of the same stream up to the closing `F`; a newline is
 *   printed after each `F` record only (so a trailing `P` at EOF prints without one, as the container wrote it);
 * - with `timestamps`, each line starts with its first record's time and a space;
 * - records that do not parse are skipped (kubelet logs and skips them too).
 * Differences from kubelet, on purpose:
 * - partial lines are joined per stream, not with one global "at line start" flag, so a stderr record landing
 *   between two `P` records of stdout does not break either line;
 * - `tail` counts logical lines (a `P`…`F` run is one line) of the selected streams; kubelet counts raw file
 *   records of all streams and filters afterwards, which can print fewer lines than asked.
 * Bytes are joined before UTF-8 decoding (a per-stream StringDecoder), because records are split by bytes.
 */

import type { FSWatcher, Stats } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fromNodeError } from '../errors.js';
// Not `import … from 'node:fs'`: an ESM import of node:fs also loads its streams and fs/promises (~2 ms of
// `podns logs`); the reads below are synchronous for a like reason (see LogFile).
const fs = process.getBuiltinModule('node:fs');

export type LogStream = 'stdout' | 'stderr';

export interface CriLogEntry {
  /** The record's RFC3339Nano timestamp, as written (fraction trailing zeros trimmed, like Go's Format). */
  time: string;
  stream: LogStream;
  /** Tag `P`: the line continues in the next record of this stream. */
  partial: boolean;
  /** The content, without the record's terminating newline. */
  message: string;
}

export interface ReadLogsOptions {
  /** Print only the last N lines (of the selected streams); undefined or negative = everything. */
  tail?: number;
  /** Keep reading appended data until `signal` aborts or `isDone()` returns true. */
  follow?: boolean;
  /** Prefix every line with its RFC3339Nano time and a space. */
  timestamps?: boolean;
  /** Streams to print; default both. */
  streams?: LogStream[];
  signal?: AbortSignal;
  out: (chunk: string, stream: LogStream) => void;
  /**
   * With `follow`: true once nothing more will be appended (the container exited and its CriLogWriter.close()
   * resolved). Polled after each read to EOF; the file is then read to EOF once more before returning.
   */
  isDone?: () => boolean;
}

/** How often `follow` polls, in case fs.watch misses an event or is unavailable. */
export const FOLLOW_POLL_MS = 200;
const BLOCK = 64 * 1024;
/**
 * When tailing backwards, how far past the window start we keep looking for the first `P` records of a line
 * that lies inside the window, without meeting any record of that stream. Bounds the scan when one stream
 * (typically stderr) was silent for a long time; a line whose head is further away is printed without it.
 */
const TAIL_GAP_BYTES = 1024 * 1024;
const NL = 0x0a;
const SP = 0x20;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

interface RawRecord {
  time: string;
  stream: LogStream;
  partial: boolean;
  message: Buffer;
}

/**
 * The part of a FileHandle the reader uses, over node:fs's synchronous calls: node:fs/promises costs ~1 ms to
 * load (it brings readline along) and each call through libuv's threads ~0.4 ms, most of a short `podns logs`.
 * A CRI log is a regular file on local disk, so a read does not wait on anything; the reader checks its abort
 * signal between reads to EOF as before, and follows by waiting on a timer or fs.watch, where the event loop runs.
 */
interface LogFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<Stats>;
  close(): Promise<void>;
}

async function openLogFile(path: string): Promise<LogFile> {
  const fd = fs.openSync(path, 'r');
  return {
    read: async (buffer, offset, length, position) => ({ bytesRead: fs.readSync(fd, buffer, offset, length, position) }),
    stat: async () => fs.fstatSync(fd),
    close: async () => fs.closeSync(fd),
  };
}

/**
 * Parses one record, `<time> <stream> <tag> <message>`, with or without its trailing `\n`. Returns undefined
 * for anything kubelet's parseCRILog rejects. Only the first `:`-separated part of the tag is looked at, for
 * forward compatibility, as kubelet does.
 */
export function parseCriLine(line: string): CriLogEntry | undefined {
  const rec = parseRecord(Buffer.from(line.endsWith('\n') ? line.slice(0, -1) : line, 'utf8'));
  return rec && { time: trimFraction(rec.time), stream: rec.stream, partial: rec.partial, message: rec.message.toString('utf8') };
}

/** `line` without its `\n`. The message is a view into `line`. */
function parseRecord(line: Buffer): RawRecord | undefined {
  const t = line.indexOf(SP);
  if (t < 0) return undefined;
  const time = line.toString('latin1', 0, t);
  if (!RFC3339.test(time)) return undefined;
  const s = line.indexOf(SP, t + 1);
  if (s < 0) return undefined;
  const stream = line.toString('latin1', t + 1, s);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const g = line.indexOf(SP, s + 1);
  if (g < 0) return undefined;
  const tag = line.toString('latin1', s + 1, g).split(':')[0];
  // The time as written: trimmed (trimFraction) only where it is shown, not for every record read.
  return { time, stream, partial: tag === 'P', message: line.subarray(g + 1) };
}

/** Go's RFC3339Nano drops trailing zeros of the fraction, and the dot when nothing is left. */
function trimFraction(time: string): string {
  return time.replace(/\.(\d*?)0+(?=Z|[+-])/, (_m, digits: string) => (digits ? `.${digits}` : ''));
}

/** Turns records into kubectl-style output, per stream. */
class Printer {
  private readonly state = new Map<LogStream, { atLineStart: boolean; decoder: StringDecoder }>();
  constructor(
    private readonly selected: ReadonlySet<LogStream>,
    private readonly timestamps: boolean,
    private readonly out: ReadLogsOptions['out'],
  ) {}

  print(rec: RawRecord): void {
    if (!this.selected.has(rec.stream)) return;
    let st = this.state.get(rec.stream);
    if (!st) this.state.set(rec.stream, (st = { atLineStart: true, decoder: new StringDecoder('utf8') }));
    let text = this.timestamps && st.atLineStart ? `${trimFraction(rec.time)} ` : '';
    text += st.decoder.write(rec.message);
    if (!rec.partial) text += `${st.decoder.end()}\n`;
    st.atLineStart = !rec.partial;
    if (text) this.out(text, rec.stream);
  }

  /** Emits bytes of an incomplete UTF-8 character left by a final `P` record. */
  finish(): void {
    for (const [stream, st] of this.state) {
      const text = st.decoder.end();
      if (text) this.out(text, stream);
    }
  }
}

/** Reads whole records forward from `pos`, keeping an incomplete last record for the next call. */
class ForwardReader {
  private rest: Buffer = Buffer.alloc(0);
  private readonly block = Buffer.allocUnsafe(BLOCK);
  constructor(
    public fh: LogFile,
    public pos: number,
  ) {}

  async readToEof(onRecord: (rec: RawRecord) => void): Promise<void> {
    for (;;) {
      const { bytesRead } = await this.fh.read(this.block, 0, BLOCK, this.pos);
      if (bytesRead === 0) return;
      this.pos += bytesRead;
      const data = this.rest.length ? Buffer.concat([this.rest, this.block.subarray(0, bytesRead)]) : this.block.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(NL); nl !== -1; nl = data.indexOf(NL, start)) {
        const rec = parseRecord(data.subarray(start, nl));
        if (rec) onRecord(rec);
        start = nl + 1;
      }
      // Copy: `block` is reused by the next read.
      this.rest = Buffer.from(data.subarray(start));
    }
  }

  /** At the real end: a record missing its `\n` is still printed, as kubelet does ("Incomplete line"). */
  flush(onRecord: (rec: RawRecord) => void): void {
    if (this.rest.length === 0) return;
    const rec = parseRecord(this.rest);
    this.rest = Buffer.alloc(0);
    if (rec) onRecord(rec);
  }

  reset(fh: LogFile): void {
    this.fh = fh;
    this.pos = 0;
    this.rest = Buffer.alloc(0);
  }
}

/**
 * Prints the log at `path` like `kubectl logs`. A missing file rejects with a SysError whose `code` is
 * 'ENOENT'. With `follow`, returns when `signal` aborts (no error) or after `isDone()` turned true and the
 * file was read to its end.
 */
export async function readLogs(path: string, opts: ReadLogsOptions): Promise<void> {
  const selected = new Set<LogStream>(opts.streams ?? ['stdout', 'stderr']);
  const printer = new Printer(selected, opts.timestamps ?? false, opts.out);
  const onRecord = (rec: RawRecord): void => printer.print(rec);
  let fh: LogFile;
  try {
    fh = await openLogFile(path);
  } catch (err) {
    throw fromNodeError('logs.readLogs', err, `open log file "${path}"`);
  }
  let reader: ForwardReader | undefined;
  try {
    let start = 0;
    if (opts.tail !== undefined && opts.tail >= 0) {
      const tail = await readTail(fh, opts.tail, selected);
      for (const rec of tail.records) onRecord(rec);
      start = tail.end;
    }
    reader = new ForwardReader(fh, start);
    if (!opts.follow) {
      await reader.readToEof(onRecord);
      reader.flush(onRecord);
      printer.finish();
      return;
    }
    await follow(path, reader, opts, onRecord);
    printer.finish();
  } finally {
    await (reader?.fh ?? fh).close().catch(() => {});
  }
}

async function follow(path: string, reader: ForwardReader, opts: ReadLogsOptions, onRecord: (rec: RawRecord) => void): Promise<void> {
  const { signal } = opts;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = fs.watch(path, { persistent: false }, () => wake?.());
    watcher.on('error', () => {});
  } catch {
    // inotify limits or an odd filesystem: the poll below still works.
  }
  try {
    let ino = (await reader.fh.stat()).ino;
    while (!signal?.aborted) {
      await reader.readToEof(onRecord);
      if (opts.isDone?.()) {
        // Whatever was appended between our EOF and isDone() turning true.
        await reader.readToEof(onRecord);
        reader.flush(onRecord);
        return;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, FOLLOW_POLL_MS);
        signal?.addEventListener('abort', done);
        wake = done;
      });
      ino = await checkRotation(path, reader, ino, onRecord);
    }
  } finally {
    watcher?.close();
  }
}

/**
 * kubelet follows a log across rotation (the file renamed and recreated) and copy-truncate. Returns the inode
 * now being read.
 */
async function checkRotation(path: string, reader: ForwardReader, ino: number, onRecord: (rec: RawRecord) => void): Promise<number> {
  let st;
  try {
    st = fs.statSync(path);
  } catch {
    return ino; // Removed, maybe being rotated: keep reading the open file.
  }
  if (st.ino !== ino) {
    await reader.readToEof(onRecord);
    reader.flush(onRecord);
    let fh: LogFile;
    try {
      fh = await openLogFile(path);
    } catch {
      return ino;
    }
    await reader.fh.close().catch(() => {});
    reader.reset(fh);
    return (await fh.stat()).ino;
  }
  if (st.size < reader.pos) reader.reset(reader.fh);
  return ino;
}

/**
 * Finds the last `n` lines of the selected streams by reading backwards, and returns their records in file
 * order plus the offset just past the last complete record (where following continues).
 *
 * Walking backwards, an `F` record, or a `P` record with no later record of its stream (an unfinished last
 * line), starts a new line of that stream; lines are counted until `n`. A stream whose next-older line is not
 * wanted is closed; the walk stops when every stream seen is closed (older `P` records of a wanted line may lie
 * behind records of the other stream, hence the per-stream bookkeeping).
 */
async function readTail(fh: LogFile, n: number, selected: ReadonlySet<LogStream>): Promise<{ records: RawRecord[]; end: number }> {
  const size = (await fh.stat()).size;
  const kept: RawRecord[] = [];
  const seen = new Set<LogStream>();
  const closed = new Set<LogStream>();
  let count = 0;
  let end = -1;
  let pos = size;
  let carry = Buffer.alloc(0);
  let gap = 0;

  const visit = (line: Buffer): boolean => {
    const rec = parseRecord(line);
    if (rec && selected.has(rec.stream) && !closed.has(rec.stream)) {
      if (!rec.partial || !seen.has(rec.stream)) {
        seen.add(rec.stream);
        if (count < n) {
          count++;
          kept.push({ ...rec, message: Buffer.from(rec.message) });
          gap = 0;
        } else {
          closed.add(rec.stream);
        }
      } else {
        kept.push({ ...rec, message: Buffer.from(rec.message) });
        gap = 0;
      }
    }
    gap += line.length + 1;
    const anyOpen = [...seen].some((s) => !closed.has(s));
    return count >= n && (!anyOpen || gap > TAIL_GAP_BYTES);
  };

  if (n === 0) {
    // Nothing to print; following starts after the last complete record.
    const last = await lastNewline(fh, size);
    return { records: [], end: last };
  }
  const block = Buffer.allocUnsafe(BLOCK);
  outer: while (pos > 0) {
    const from = Math.max(0, pos - BLOCK);
    const { bytesRead } = await fh.read(block, 0, pos - from, from);
    const data = Buffer.concat([block.subarray(0, bytesRead), carry]);
    pos = from;
    let stop = data.length;
    if (end < 0) {
      // The first time: bytes after the last newline are a record still being written; leave it to follow.
      const nl = data.lastIndexOf(NL);
      if (nl < 0) {
        carry = data;
        continue;
      }
      end = from + nl + 1;
      stop = nl;
    }
    // Guard stop > 0: a negative lastIndexOf offset would count from the end.
    while (stop > 0) {
      const nl = data.lastIndexOf(NL, stop - 1);
      if (nl < 0) break;
      if (visit(data.subarray(nl + 1, stop))) break outer;
      stop = nl;
    }
    carry = Buffer.from(data.subarray(0, stop));
    if (pos === 0 && carry.length > 0 && end >= 0) visit(carry);
  }
  kept.reverse();
  return { records: kept, end: Math.max(end, 0) };
}

async function lastNewline(fh: LogFile, size: number): Promise<number> {
  const block = Buffer.allocUnsafe(BLOCK);
  for (let pos = size; pos > 0; ) {
    const from = Math.max(0, pos - BLOCK);
    const { bytesRead } = await fh.read(block, 0, pos - from, from);
    const nl = block.subarray(0, bytesRead).lastIndexOf(NL);
    if (nl >= 0) return from + nl + 1;
    pos = from;
  }
  return 0;
}
