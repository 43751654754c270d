/**
 * Writes a container's stdout and stderr into one file in the CRI log format, the format kubelet reads
 * (`kubectl logs`) and containerd writes (internal/cri/io/logger.go, `redirectLogs`):
 *
 *     <RFC3339Nano time> <stdout|stderr> <F|P> <message>\n
 *
 * Behaviour copied from containerd, on purpose:
 * - a line is split into records of at most MAX_LINE_BYTES (containerd's `max_container_log_line_size`,
 *   16 KiB): every record but the last is tagged `P`, the last `F`; splitting is by bytes, so a UTF-8
 *   character may straddle two records (readers join the bytes before decoding);
 * - the line terminator `\n` (or `\r\n`) is not part of the message;
 * - bytes left without a newline when a stream ends are written as a `P` record: containerd's `readLine`
 *   returns them together with io.EOF, `stop` is set and it calls `writeLineBuffer(partial, ...)`. kubelet
 *   prints such a record without a trailing newline, so the output round-trips byte for byte.
 * One difference: containerd stamps `time.Now()` in the node's local zone; we always write UTC (`...Z`), which
 * every RFC3339 parser (kubelet's included) reads the same.
 */

import { mkdirSync, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { fromNodeError, PodnsError } from '../errors.js';

/** containerd's default `max_container_log_line_size`. */
export const MAX_LINE_BYTES = 16 * 1024;

type StreamName = 'stdout' | 'stderr';

interface Source {
  stream: NodeJS.ReadableStream;
  name: StreamName;
  /** Bytes of the current line not yet written (no newline seen yet), at most MAX_LINE_BYTES (+1 for a `\r`). */
  pending: Buffer[];
  pendingLen: number;
  ended: boolean;
  /** Paused until the event loop's next turn (see onData). */
  yielding: boolean;
  done: Promise<void>;
}

const NL = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from([NL]);

export class CriLogWriter {
  readonly path: string;
  private out: WriteStream;
  private readonly sources: Source[] = [];
  private closing = false;
  private waitingForDrain = false;
  private error: PodnsError | undefined;

  /** Creates the parent directories and opens `path` once with O_APPEND|O_CREAT (mode 0640). */
  constructor(path: string) {
    this.path = path;
    // One-time setup, not per line: a sync mkdir keeps the constructor usable without an async factory.
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    } catch (err) {
      throw fromNodeError('logs.openLogFile', err, `create log directory "${dirname(path)}"`);
    }
    this.out = this.open();
  }

  /**
   * CRI ReopenContainerLog: kubelet has renamed the file (log rotation); the records from now on go to a new file
   * at `path`. What the old file's stream still buffers is written to it first.
   */
  reopen(): void {
    const old = this.out;
    this.out = this.open();
    old.end();
    // A stream waiting for the old file's drain waits for nothing now.
    this.resumeAll();
  }

  private open(): WriteStream {
    const { path } = this;
    // flags 'a' = O_WRONLY|O_APPEND|O_CREAT, like containerd's os.OpenFile(path, O_CREATE|O_WRONLY|O_APPEND, 0640).
    // One WriteStream serialises all records of all streams in call order; each record is handed over whole,
    // so records of stdout and stderr never interleave mid-line.
    // Opened here, synchronously: the file exists once the writer does, so a reader that learns of the run from
    // state.json (saved right after the spawn) always finds its log.
    // One that cannot be opened is left to the stream to fail on, so that the error reaches close() as any write
    // error does (and the container's output is still drained).
    let fd: number | undefined;
    try {
      fd = openSync(path, 'a', 0o640);
    } catch {
      fd = undefined;
    }
    const out = fd === undefined ? createWriteStream(path, { flags: 'a', mode: 0o640 }) : createWriteStream(path, { fd, flags: 'a' });
    out.on('error', (err) => {
      // Like containerd, keep draining the container's pipes after a write error (a full disk must not block
      // the container); the error is reported by close().
      this.error ??= fromNodeError('logs.writeLogFile', err, `write log file "${path}"`);
      this.resumeAll();
    });
    out.on('drain', () => this.resumeAll());
    return out;
  }

  /** Starts copying `stream` into the file as `name` records. Call before close(). */
  attach(stream: NodeJS.ReadableStream, name: StreamName): void {
    if (this.closing) throw new PodnsError('logs.attach', `attach ${name} to log file "${this.path}": writer is closed`);
    let finish!: () => void;
    const src: Source = {
      stream,
      name,
      pending: [],
      pendingLen: 0,
      ended: false,
      yielding: false,
      done: new Promise<void>((resolve) => (finish = resolve)),
    };
    const onEnd = (): void => {
      if (src.ended) return;
      src.ended = true;
      this.flushRemainder(src);
      stream.removeListener('data', onData);
      finish();
    };
    const onData = (chunk: Buffer | string): void => {
      this.onData(src, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    // A socket or pipe may close or fail without 'end'; what was received still gets written.
    stream.once('close', onEnd);
    stream.on('error', onEnd);
    this.sources.push(src);
    if (this.waitingForDrain) stream.pause();
  }

  /**
   * Resolves once every attached stream has ended and all its records reached the file, then closes the file.
   * Rejects with the first write error, if any (the streams were still drained).
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.sources.map((s) => s.done));
    await new Promise<void>((resolve) => {
      if (this.out.closed || this.out.destroyed) return resolve();
      this.out.once('close', () => resolve());
      this.out.end();
    });
    if (this.error) throw this.error;
  }

  /**
   * One read of a container's stream. Its lines are stamped with the time of the read (one timestamp per read:
   * they arrived together; a stamp per line cost microseconds each, and a container writing short lines fast —
   * `yes` — sends 32 768 of them in one 64 KiB read) and written as one buffer. Then the stream is paused until
   * the event loop has served everything else that is ready: libuv would otherwise read a flooding pipe up to 32
   * times in a row, and every other pod would wait for that.
   */
  private onData(src: Source, chunk: Buffer): void {
    if (src.ended || chunk.length === 0) return;
    const stamp = formatCriTimestamp(nowNanos());
    const heads = { F: Buffer.from(`${stamp} ${src.name} F `, 'latin1'), P: undefined as Buffer | undefined };
    const records: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NL, start); nl !== -1; nl = chunk.indexOf(NL, start)) {
      let line: Buffer;
      if (src.pendingLen === 0 && nl - start <= MAX_LINE_BYTES) {
        // The common case: a whole line within this read, no longer than a record.
        line = chunk.subarray(start, nl);
      } else {
        this.addPending(src, chunk.subarray(start, nl), records, heads);
        line = concat(src.pending, src.pendingLen);
        src.pending = [];
        src.pendingLen = 0;
      }
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      records.push(heads.F, line, NEWLINE);
      start = nl + 1;
    }
    this.addPending(src, chunk.subarray(start), records, heads);
    if (records.length > 0) this.write(records);
    this.yieldAfter(src);
  }

  /** Pauses the stream until the event loop's next turn (unless the file's backpressure holds it anyway). */
  private yieldAfter(src: Source): void {
    if (src.yielding) return;
    src.yielding = true;
    src.stream.pause();
    setImmediate(() => {
      src.yielding = false;
      if (!src.ended && !this.waitingForDrain) src.stream.resume();
    });
  }

  /** Appends to the current line, cutting `P` records off the front while it is longer than the limit. */
  private addPending(src: Source, bytes: Buffer, records: Buffer[], heads: { F: Buffer; P?: Buffer }): void {
    if (bytes.length === 0) return;
    src.pending.push(bytes);
    src.pendingLen += bytes.length;
    // A trailing '\r' might be the first half of "\r\n": containerd unreads it rather than count it toward
    // the limit, so a 16 KiB line ending in "\r\n" stays one F record.
    for (;;) {
      const last = src.pending[src.pending.length - 1]!;
      const countable = src.pendingLen - (last[last.length - 1] === CR ? 1 : 0);
      if (countable <= MAX_LINE_BYTES) break;
      const all = concat(src.pending, src.pendingLen);
      heads.P ??= Buffer.from(heads.F.toString('latin1').replace(/ F $/, ' P '), 'latin1');
      records.push(heads.P, all.subarray(0, MAX_LINE_BYTES), NEWLINE);
      const rest = all.subarray(MAX_LINE_BYTES);
      src.pending = [rest];
      src.pendingLen = rest.length;
    }
  }

  private flushRemainder(src: Source): void {
    if (src.pendingLen === 0) return;
    // A lone trailing '\r' at EOF is content, as in containerd (only "\r\n" is a terminator).
    this.write([this.record(src.name, 'P', concat(src.pending, src.pendingLen))]);
    src.pending = [];
    src.pendingLen = 0;
  }

  private record(stream: StreamName, tag: 'F' | 'P', message: Buffer): Buffer {
    const head = Buffer.from(`${formatCriTimestamp(nowNanos())} ${stream} ${tag} `, 'latin1');
    const rec = Buffer.allocUnsafe(head.length + message.length + 1);
    head.copy(rec, 0);
    message.copy(rec, head.length);
    rec[rec.length - 1] = NL;
    return rec;
  }

  private write(records: Buffer[]): void {
    if (this.error || this.out.destroyed) return;
    const ok = this.out.write(records.length === 1 ? records[0]! : Buffer.concat(records));
    if (!ok && !this.waitingForDrain) {
      // Backpressure: stop reading the container's pipes until the file catches up, so memory stays bounded.
      // The container then blocks on a full pipe, as it does under containerd when the disk is slow.
      this.waitingForDrain = true;
      for (const s of this.sources) if (!s.ended) s.stream.pause();
    }
  }

  private resumeAll(): void {
    if (!this.waitingForDrain) return;
    this.waitingForDrain = false;
    for (const s of this.sources) if (!s.ended) s.stream.resume();
  }
}

function concat(parts: Buffer[], length: number): Buffer {
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts, length);
}

// JavaScript clocks give wall time only to the millisecond (Date.now()). To get nanosecond-looking, strictly
// increasing stamps we anchor the wall clock once and advance it with the monotonic hrtime: the digits below
// the millisecond are the monotonic offset, not a true wall-clock reading. If the wall clock is stepped by more
// than a second we re-anchor; stamps never go backwards within this process.
let anchorWallNs = BigInt(Date.now()) * 1_000_000n;
let anchorHr = process.hrtime.bigint();
let lastNs = 0n;

/** Nanoseconds since the epoch, strictly increasing within the process. */
export function nowNanos(): bigint {
  let ns = anchorWallNs + (process.hrtime.bigint() - anchorHr);
  const wallNs = BigInt(Date.now()) * 1_000_000n;
  const drift = ns - wallNs;
  if (drift > 1_000_000_000n || drift < -1_000_000_000n) {
    anchorWallNs = wallNs;
    anchorHr = process.hrtime.bigint();
    ns = wallNs;
  }
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/** Go's time.RFC3339Nano in UTC: fraction with trailing zeros trimmed, no dot when it is zero. */
export function formatCriTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}
