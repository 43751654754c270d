import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, mkdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ExtractionPaths, TarGuard, UnsafeEntryError, type TarEntry } from '../../../src/image/tar-guard.js';
import { TarFormatError } from '../../../src/image/tar-header.js';
import { ExecaRunner } from '../../../src/sys/command.js';
import { END, archive, entry, header, longName, pax } from './raw-tar.js';

/** Runs `input` through a guard in `chunk`-byte pieces; what came out, and the error if it refused. */
async function guard(input: Buffer, chunk = 97): Promise<{ out: Buffer; error?: Error }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  const g = new TarGuard();
  const out: Buffer[] = [];
  g.on('data', (d: Buffer) => out.push(d));
  const error = await new Promise<Error | undefined>((resolve) => {
    g.on('error', resolve);
    g.on('end', () => resolve(undefined));
    Readable.from(pieces).pipe(g);
  });
  return { out: Buffer.concat(out), error };
}

const file = (name: string, data = 'x') => entry({ name, data });
const link = (name: string, target: string) => entry({ name, type: '2', linkname: target });
const hard = (name: string, target: string) => entry({ name, type: '1', linkname: target });
const dir = (name: string) => entry({ name, type: '5' });

describe('TarGuard', () => {
  it('passes an archive made by GNU tar through byte for byte, chunked or whole', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'podns-guard-'));
    try {
      const root = path.join(work, 'root');
      await mkdir(path.join(root, 'usr', 'bin'), { recursive: true });
      await writeFile(path.join(root, 'usr', 'bin', 'tool'), Buffer.alloc(5000, 7));
      await symlink('/usr/bin/tool', path.join(root, 'tool'));
      await symlink('../bin/tool', path.join(root, 'usr', 'bin', 'rel'));
      const long = `${'d'.repeat(120)}/${'f'.repeat(130)}`;
      await mkdir(path.join(root, 'd'.repeat(120)));
      await writeFile(path.join(root, long), 'long');
      for (const format of ['gnu', 'posix']) {
        const tarFile = path.join(work, `${format}.tar`);
        await new ExecaRunner().run(['tar', '-c', `--format=${format}`, '-f', tarFile, '-C', root, '--sort=name', '.']);
        const bytes = await readFile(tarFile);
        for (const chunk of [1, 511, 512, 4096, bytes.length]) {
          const { out, error } = await guard(bytes, chunk);
          expect(error).toBeUndefined();
          // tar pads to a 10 KiB record: the guard ends the stream right after the two end blocks.
          expect(out.equals(bytes.subarray(0, out.length))).toBe(true);
          expect(out.subarray(-1024).equals(END)).toBe(true);
        }
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses a name with ".." or an absolute name, and emits nothing of the refused entry', async () => {
    const ok = file('ok');
    for (const name of ['../evil', './a/../../evil', '/etc/passwd', '..']) {
      const { out, error } = await guard(archive(ok, file(name)));
      expect(error, name).toBeInstanceOf(UnsafeEntryError);
      expect(error!.message).toMatch(/escapes the extraction directory/);
      expect(out.equals(ok), name).toBe(true);
    }
    expect((await guard(archive(file('..dots-are-fine'), file('a/..b')))).error).toBeUndefined();
  });

  it('reads names as GNU tar assembles them: ustar prefix, GNU long names, pax path', async () => {
    // The ustar name alone looks harmless each time; the name tar extracts does not.
    expect((await guard(archive(entry({ name: 'passwd', prefix: '../etc' })))).error?.message).toMatch(/"..\/etc\/passwd" escapes/);
    // GNU's magic: the prefix bytes are not a prefix, and tar ignores them.
    expect((await guard(archive(entry({ name: 'passwd', prefix: '../etc', magic: 'gnu' })))).error).toBeUndefined();
    expect((await guard(archive(longName('../evil'), file('innocent')))).error?.message).toMatch(/"..\/evil" escapes/);
    expect((await guard(archive(pax([['path', '/etc/cron.d/x']]), file('innocent')))).error?.message).toMatch(/"\/etc\/cron.d\/x" escapes/);
    expect((await guard(archive(longName('../t', 'K'), hard('h', 'innocent')))).error?.message).toMatch(/hard link to "..\/t"/);
    expect((await guard(archive(pax([['linkpath', '/etc/shadow']]), hard('h', 'innocent')))).error?.message).toMatch(/hard link to "\/etc\/shadow"/);
    // Harmless pax records (mtime, xattrs) are fine, and apply to one entry only.
    expect((await guard(archive(pax([['mtime', '1.5'], ['SCHILY.xattr.user.a', 'b']]), file('f'), file('g')))).error).toBeUndefined();
  });

  it('names what GNU tar then extracts: the guard and tar read each format the same way', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'podns-guard-tar-'));
    try {
      const cases: Array<[string, Buffer, string[]]> = [
        ['ustar prefix', archive(dir('pre'), entry({ name: 'n', prefix: 'pre', data: 'p' })), ['pre', 'pre/n']],
        ['GNU magic: no prefix', archive(entry({ name: 'n', prefix: 'pre', magic: 'gnu', data: 'g' })), ['n']],
        ['GNU long name', archive(longName(`${'x'.repeat(150)}`), file('short')), ['x'.repeat(150)]],
        ['pax path over a long name', archive(longName('long'), pax([['path', 'from-pax']]), file('short')), ['from-pax']],
        ['pax size', archive(pax([['size', '3']]), entry({ name: 'sized', data: 'abc', size: 0 })), ['sized']],
        ['hard link by long link', archive(file('target'), longName('target', 'K'), hard('h', 'nowhere')), ['h', 'target']],
        ['harmless global header', archive(pax([['comment', 'hi']], 'g'), file('g')), ['g']],
        ['name field filled to 100 bytes', archive(file('n'.repeat(100))), ['n'.repeat(100)]],
      ];
      for (const [what, bytes, expected] of cases) {
        const { out, error } = await guard(bytes);
        expect(error, what).toBeUndefined();
        const dest = await mkdtemp(path.join(work, 'x-'));
        await new ExecaRunner().run(['tar', '-x', '-P', '-f', '-', '-C', dest], { input: out });
        const found = (await new ExecaRunner().run(['find', '.', '-mindepth', '1', '-printf', '%P\n'], { cwd: dest })).stdout.trim().split('\n').sort();
        expect(found, what).toEqual(expected);
      }
      // The pax size is what tar stepped over: the data came through whole.
      const sized = await mkdtemp(path.join(work, 'sized-'));
      await new ExecaRunner().run(['tar', '-x', '-P', '-f', '-', '-C', sized], { input: (await guard(archive(pax([['size', '3']]), entry({ name: 'sized', data: 'abc', size: 0 })))).out });
      expect(await readFile(path.join(sized, 'sized'), 'utf8')).toBe('abc');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses anything below a symlink of the archive, a link over an earlier entry, and any entry over a symlink', async () => {
    const cases: Array<[string, Buffer[], RegExp]> = [
      ['write through a symlink', [link('l', '/etc'), file('l/passwd')], /goes through the symlink "l"/],
      ['relative symlink', [dir('a'), link('a/up', '..'), file('a/up/x')], /goes through the symlink "a\/up"/],
      ['dot components', [link('l', '/'), file('./l/./x')], /goes through the symlink "l"/],
      ['hard link through a symlink', [file('f'), link('l', '/etc'), hard('h', 'l/shadow')], /goes through the symlink "l"/],
      ['hard link to a symlink is a symlink', [link('l', '/etc'), hard('h', 'l'), file('h/passwd')], /goes through the symlink "h"/],
      ['symlink over a directory', [dir('d'), link('d', '/etc')], /link replacing an earlier entry/],
      ['symlink over an implicit parent', [file('d/x'), link('d', '/etc')], /link replacing an earlier entry/],
      ['file over a symlink', [link('l', '/etc/passwd'), file('l')], /replaces a symlink/],
      ['directory over a symlink', [link('l', '/etc'), dir('l/')], /replaces a symlink/],
      ['symlink as the root', [link('.', '/')], /names the layer root/],
    ];
    for (const [what, entries, message] of cases) {
      const { out, error } = await guard(archive(...entries));
      expect(error, what).toBeInstanceOf(UnsafeEntryError);
      expect(error!.message, what).toMatch(message);
      expect(out.equals(Buffer.concat(entries.slice(0, -1))), what).toBe(true);
    }
    // Links that point anywhere are fine as long as nothing goes through them.
    expect((await guard(archive(link('bin/sh', '/bin/busybox'), link('lib', 'usr/lib'), hard('bin/sh2', 'bin/sh'), file('usr/lib/x')))).error).toBeUndefined();
  });

  it('refuses headers the two readers could step over differently', async () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['bad checksum', archive(entry({ name: 'f', checksumDelta: 1 })), /checksum/],
      ['not a tar at all', Buffer.alloc(2048, 0x41), /checksum|unreadable/],
      ['old GNU sparse', archive(entry({ name: 's', type: 'S' })), /type 'S'/],
      ['volume label', archive(entry({ name: 'v', type: 'V' })), /type 'V'/],
      ['unknown type', archive(entry({ name: 'u', type: 'Z' })), /type 'Z'/],
      ['symlink with data', archive(entry({ name: 'l', type: '2', linkname: 'x', data: 'hidden header' })), /carries 13 bytes/],
      ['hard link with a pax size', archive(pax([['size', '512']]), hard('h', 'f')), /carries 512 bytes/],
      ['directory-like file with data', archive(entry({ name: 'd/', data: 'x' })), /carries 1 bytes/],
      ['global pax path', archive(pax([['path', 'x']], 'g'), file('f')), /global pax header sets "path"/],
      ['two pax paths', archive(pax([['path', 'a'], ['path', 'b']]), file('f')), /given twice/],
      ['two pax headers', archive(pax([['mtime', '1']]), pax([['path', 'a']]), file('f')), /two pax headers/],
      ['sparse name', archive(pax([['GNU.sparse.name', '../s']]), file('f')), /"GNU.sparse.name" \(sparse/],
      // tar would read 4096 bytes of "data" for this 512-byte file, taking the next header for data.
      ['sparse real size', archive(pax([['GNU.sparse.realsize', '4096']]), file('f', 'x'.repeat(512)), file('next')), /"GNU.sparse.realsize"/],
      ['empty pax path', archive(pax([['path', '']]), file('f')), /empty pax record/],
      ['bad pax size', archive(pax([['size', '12x']]), file('f')), /not a number/],
      ['malformed pax record', archive(entry({ name: 'p', type: 'x', data: '4 a\n' }), file('f')), /malformed pax record/],
      ['pax length past its data', archive(entry({ name: 'p', type: 'x', data: '99 path=a\n' }), file('f')), /out of range/],
      ['dumpdir', archive(pax([['GNU.dumpdir', 'Yx']]), file('f')), /incremental/],
      ['global sparse record', archive(pax([['GNU.sparse.size', '1']], 'g'), file('f')), /global pax header sets "GNU.sparse.size"/],
      ['two long names', archive(longName('a'), longName('b'), file('f')), /two GNU long names/],
      ['cut short', Buffer.concat([header({ name: 'f', size: 5000 }), Buffer.alloc(1000)]), /cut short/],
      ['huge long name', archive(entry({ name: 'L', type: 'L', size: 2 * 1024 * 1024, data: '' })), /extended header of/],
    ];
    for (const [what, bytes, message] of cases) {
      const { error } = await guard(bytes);
      expect(error, what).toBeInstanceOf(TarFormatError);
      expect(error!.message, what).toMatch(message);
    }
  });

  it('stops at the first zero block, as GNU tar does, and ends an archive that has none', async () => {
    const ok = file('ok');
    const { out, error } = await guard(Buffer.concat([ok, Buffer.alloc(512), file('../after-the-end')]));
    expect(error).toBeUndefined();
    expect(out.equals(Buffer.concat([ok, END]))).toBe(true);
    const unterminated = await guard(ok);
    expect(unterminated.out.equals(Buffer.concat([ok, END]))).toBe(true);
    expect((await guard(Buffer.alloc(0))).out.equals(END)).toBe(true);
  });
});

describe('ExtractionPaths', () => {
  const admit = (...entries: TarEntry[]) => {
    const paths = new ExtractionPaths();
    for (const e of entries) paths.admit(e);
  };
  const f = (name: string): TarEntry => ({ kind: 'file', name, size: 0 });
  const l = (name: string, target: string): TarEntry => ({ kind: 'symlink', name, target, size: 0 });
  const h = (name: string, target: string): TarEntry => ({ kind: 'hardlink', name, target, size: 0 });

  it('compares normalised paths, as the kernel resolves them', () => {
    expect(() => admit(l('a//b', '/'), f('./a/b/./c'))).toThrow(/goes through the symlink "a\/b"/);
    expect(() => admit(l('a/b/', '/'), f('a/b'))).toThrow(/replaces a symlink/);
    expect(() => admit(f('a/b'), l('./a/', '/'))).toThrow(/replacing an earlier entry/);
  });

  it('lets a file replace a file and a hard link name a file, as layers do', () => {
    expect(() => admit(f('a'), f('a'), h('b', 'a'), h('c', './a'), f('b'))).not.toThrow();
    expect(() => admit(h('x', ''))).toThrow(/hard link to ""/);
  });
});
