import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CriLogWriter, MAX_LINE_BYTES, formatCriTimestamp } from '../../../src/logs/cri-log-writer.js';
import { parseCriLine, readLogs, type LogStream, type ReadLogsOptions } from '../../../src/logs/cri-log-reader.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podns-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(path: string, opts: Omit<ReadLogsOptions, 'out'> = {}): Promise<{ all: string; byStream: Record<LogStream, string> }> {
  let all = '';
  const byStream: Record<LogStream, string> = { stdout: '', stderr: '' };
  await readLogs(path, {
    ...opts,
    out: (chunk, stream) => {
      all += chunk;
      byStream[stream] += chunk;
    },
  });
  return { all, byStream };
}

async function fileLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('CriLogWriter', () => {
  it('writes both streams into one file as whole records, creating parent dirs with mode 0640', async () => {
    const path = join(dir, 'pods', 'c', '0.log');
    const w = new CriLogWriter(path);
    const out = new PassThrough();
    const err = new PassThrough();
    w.attach(out, 'stdout');
    w.attach(err, 'stderr');
    out.write('hel');
    err.write('oops\n');
    out.write('lo\nworld\n');
    out.end();
    err.end();
    await w.close();

    const lines = await fileLines(path);
    const parsed = lines.map((l) => parseCriLine(l));
    expect(parsed.map((p) => [p?.stream, p?.partial, p?.message])).toEqual([
      ['stderr', false, 'oops'],
      ['stdout', false, 'hello'],
      ['stdout', false, 'world'],
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o640 & ~process.umask());
  });

  it('splits a line longer than 16 KiB into P records of 16 KiB and a closing F, and reads it back joined', async () => {
    const path = join(dir, 'long.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    const long = 'a'.repeat(MAX_LINE_BYTES) + 'b'.repeat(MAX_LINE_BYTES) + 'c'.repeat(10);
    const exact = 'x'.repeat(MAX_LINE_BYTES);
    // Written in odd-sized pieces, as a pipe delivers them.
    const data = `${long}\n${exact}\r\n`;
    for (let i = 0; i < data.length; i += 5000) s.write(data.slice(i, i + 5000));
    s.end();
    await w.close();

    const recs = (await fileLines(path)).map((l) => parseCriLine(l)!);
    expect(recs.map((r) => [r.partial, r.message.length])).toEqual([
      [true, MAX_LINE_BYTES],
      [true, MAX_LINE_BYTES],
      [false, 10],
      [false, MAX_LINE_BYTES], // exactly the limit, "\r\n" dropped: one F, as containerd does
    ]);
    expect((await collect(path)).all).toBe(`${long}\n${exact}\n`);
  });

  it('writes the bytes left without a newline at end of stream as a P record, which reads back without newline', async () => {
    const path = join(dir, 'tail.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    s.end('one\nno newline');
    await w.close();
    const recs = (await fileLines(path)).map((l) => parseCriLine(l)!);
    expect(recs.map((r) => [r.partial, r.message])).toEqual([
      [false, 'one'],
      [true, 'no newline'],
    ]);
    expect((await collect(path)).all).toBe('one\nno newline');
  });

  it('keeps a multi-byte character split across P records intact when reading', async () => {
    const path = join(dir, 'utf8.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    const line = `${'a'.repeat(MAX_LINE_BYTES - 1)}é€${'z'.repeat(3)}`;
    s.end(`${line}\n`);
    await w.close();
    expect((await collect(path)).all).toBe(`${line}\n`);
  });

  it('writes strictly increasing RFC3339Nano UTC timestamps', async () => {
    const path = join(dir, 'ts.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    for (let i = 0; i < 200; i++) s.write(`line ${i}\n`);
    s.end();
    await w.close();
    const times = (await fileLines(path)).map((l) => parseCriLine(l)!.time);
    expect(times).toHaveLength(200);
    const nanos = times.map(toNanos);
    for (let i = 1; i < nanos.length; i++) expect(nanos[i]! > nanos[i - 1]!).toBe(true);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    expect(Math.abs(Number(nanos[0]! / 1_000_000n) - Date.now())).toBeLessThan(5_000);
  });

  it('formats timestamps like Go: trailing zeros of the fraction trimmed, no dot for whole seconds', () => {
    const base = BigInt(Date.UTC(2016, 9, 6, 0, 17, 9)) * 1_000_000n;
    expect(formatCriTimestamp(base + 669_794_202n)).toBe('2016-10-06T00:17:09.669794202Z');
    expect(formatCriTimestamp(base + 500_000_000n)).toBe('2016-10-06T00:17:09.5Z');
    expect(formatCriTimestamp(base)).toBe('2016-10-06T00:17:09Z');
  });

  it('resolves close() only after the attached streams ended and their data is on disk', async () => {
    const path = join(dir, 'close.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stderr');
    let closed = false;
    const p = w.close().then(() => (closed = true));
    s.write('late\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    s.end('last');
    await p;
    expect((await collect(path)).byStream.stderr).toBe('late\nlast');
  });

  it('reports a file it cannot open through close(), after draining the streams', async () => {
    const path = join(dir, 'is-a-dir');
    await mkdir(path);
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    s.end('dropped\n');
    await expect(w.close()).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

function toNanos(time: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(time)!;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

describe('parseCriLine', () => {
  it('parses records as containerd writes them', () => {
    expect(parseCriLine('2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1')).toEqual({
      time: '2016-10-06T00:17:09.669794202Z',
      stream: 'stdout',
      partial: false,
      message: 'The content of the log entry 1',
    });
    expect(parseCriLine('2016-10-06T00:17:09.669794203Z stderr P First line of log entry 2\n')).toEqual({
      time: '2016-10-06T00:17:09.669794203Z',
      stream: 'stderr',
      partial: true,
      message: 'First line of log entry 2',
    });
    // containerd stamps local time: an offset instead of Z.
    expect(parseCriLine('2024-03-01T10:00:00.1+02:00 stdout F  two spaces kept')?.message).toBe(' two spaces kept');
    // An empty line is an F record with an empty message.
    expect(parseCriLine('2016-10-06T00:17:10.113242941Z stdout F ')?.message).toBe('');
    // Future tags after ':' are ignored, as kubelet does.
    expect(parseCriLine('2016-10-06T00:17:10Z stdout P:x partial')?.partial).toBe(true);
  });

  it('trims trailing zeros of the fraction like Go', () => {
    expect(parseCriLine('2016-10-06T00:17:09.100Z stdout F x')?.time).toBe('2016-10-06T00:17:09.1Z');
    expect(parseCriLine('2016-10-06T00:17:09.000Z stdout F x')?.time).toBe('2016-10-06T00:17:09Z');
  });

  it('rejects what kubelet rejects', () => {
    expect(parseCriLine('')).toBeUndefined();
    expect(parseCriLine('not-a-time stdout F x')).toBeUndefined();
    expect(parseCriLine('2016-10-06T00:17:09Z stdin F x')).toBeUndefined();
    expect(parseCriLine('2016-10-06T00:17:09Z stdout F')).toBeUndefined();
    expect(parseCriLine('{"log":"docker json","stream":"stdout"}')).toBeUndefined();
  });
});

const SAMPLE = [
  '2016-10-06T00:17:09.669794202Z stdout F line 1',
  '2016-10-06T00:17:09.669794203Z stderr P err ',
  '2016-10-06T00:17:09.669794204Z stdout P line ',
  '2016-10-06T00:17:09.669794205Z stderr F one',
  '2016-10-06T00:17:09.669794206Z stdout F 2',
  'garbage that kubelet skips',
  '2016-10-06T00:17:09.669794207Z stdout F line 3',
  '2016-10-06T00:17:09.669794208Z stderr F err two',
  '',
].join('\n');

describe('readLogs', () => {
  it('joins partial records per stream even when the other stream interleaves', async () => {
    const path = join(dir, 'sample.log');
    await writeFile(path, SAMPLE);
    const { all, byStream } = await collect(path);
    expect(byStream.stdout).toBe('line 1\nline 2\nline 3\n');
    expect(byStream.stderr).toBe('err one\nerr two\n');
    expect(all).toBe('line 1\nerr line one\n2\nline 3\nerr two\n');
  });

  it('prefixes each line with the time of its first record', async () => {
    const path = join(dir, 'sample.log');
    await writeFile(path, SAMPLE);
    const { byStream } = await collect(path, { timestamps: true, streams: ['stdout'] });
    expect(byStream.stdout).toBe(
      '2016-10-06T00:17:09.669794202Z line 1\n2016-10-06T00:17:09.669794204Z line 2\n2016-10-06T00:17:09.669794207Z line 3\n',
    );
    expect(byStream.stderr).toBe('');
  });

  it('tail prints the last N lines of the selected streams, with the heads of split lines', async () => {
    const path = join(dir, 'sample.log');
    await writeFile(path, SAMPLE);
    expect((await collect(path, { tail: 2 })).all).toBe('line 3\nerr two\n');
    expect((await collect(path, { tail: 3, streams: ['stdout'] })).all).toBe('line 1\nline 2\nline 3\n');
    expect((await collect(path, { tail: 2, streams: ['stdout'] })).all).toBe('line 2\nline 3\n');
    expect((await collect(path, { tail: 3 })).all).toBe('line 2\nline 3\nerr two\n');
    // The P record "err " lies before the first record of "line 2" but belongs to the wanted line "err one".
    const four = await collect(path, { tail: 4 });
    expect(four.byStream).toEqual({ stdout: 'line 2\nline 3\n', stderr: 'err one\nerr two\n' });
    expect((await collect(path, { tail: 0 })).all).toBe('');
    expect((await collect(path, { tail: 100 })).all).toBe((await collect(path)).all);
  });

  it('tail works across read blocks on a large file', async () => {
    const path = join(dir, 'big.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    for (let i = 0; i < 20_000; i++) s.write(`line number ${i}\n`);
    s.write(`${'q'.repeat(3 * MAX_LINE_BYTES)}\n`);
    s.end('last');
    await w.close();
    const { all } = await collect(path, { tail: 3 });
    expect(all).toBe(`line number 19999\n${'q'.repeat(3 * MAX_LINE_BYTES)}\nlast`);
  });

  it('follows appended lines and returns once isDone() is true and the file is read to the end', async () => {
    const path = join(dir, 'follow.log');
    const w = new CriLogWriter(path);
    const s = new PassThrough();
    w.attach(s, 'stdout');
    s.write('before\n');
    await new Promise((r) => setTimeout(r, 20));

    let done = false;
    const chunks: string[] = [];
    const reading = readLogs(path, { follow: true, isDone: () => done, out: (c) => chunks.push(c) });
    await waitFor(() => chunks.join('') === 'before\n');
    s.write('after 1\n');
    await waitFor(() => chunks.join('') === 'before\nafter 1\n');
    s.end('after 2\n');
    await w.close();
    done = true;
    await reading;
    expect(chunks.join('')).toBe('before\nafter 1\nafter 2\n');
  });

  it('follow with tail starts from the last N lines and stops when the signal aborts', async () => {
    const path = join(dir, 'abort.log');
    await writeFile(path, SAMPLE);
    const ac = new AbortController();
    const chunks: string[] = [];
    const reading = readLogs(path, { follow: true, tail: 1, signal: ac.signal, out: (c) => chunks.push(c) });
    await waitFor(() => chunks.join('') === 'err two\n');
    await appendFile(path, '2016-10-06T00:17:10Z stdout F appended\n');
    await waitFor(() => chunks.join('') === 'err two\nappended\n');
    ac.abort();
    await reading;
  });

  it('rejects with code ENOENT for a missing file', async () => {
    await expect(readLogs(join(dir, 'nope.log'), { out: () => {} })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
