/**
 * Guarded extraction of a tar archive (a layer blob, an image archive, or a layer still downloading) into a fresh
 * directory, in one read: Node decompresses it (gzip or zstd: for a file chosen by magic bytes as GNU tar would,
 * for a stream by its media type) and streams the plain tar through TarGuard (tar-guard.ts) into `tar -x -P`.
 * TarGuard admits every header before tar reads it, so tar's own name checks — which cost a `tar -t` pass
 * before, and placeholder files during — are not needed.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { CommandRunner } from '../sys/command.js';
import { PodnsError, fromNodeError } from '../errors.js';
import { TarFormatError } from './tar-header.js';
import { TarGuard, UnsafeEntryError } from './tar-guard.js';

/** Bigger reads and inflate chunks than Node's 64 KiB / 16 KiB defaults: fewer callbacks per megabyte. */
const READ_CHUNK = 256 * 1024;

export interface ExtractOptions {
  /** Names the archive in messages: `layer sha256:…`, `"image.tar"`. */
  what: string;
  /** tar options after `-x -C DIR -f - -B -P` (ownership, permissions, xattrs). */
  tarFlags: string[];
  step: string;
}

export type Compression = 'gzip' | 'zstd' | 'none';

/** A file (its compression is read from its first bytes), or a stream of bytes compressed as stated. */
export type TarSource = { file: string } | { stream: Readable; compression: Compression };

/**
 * Extracts `source` into `dir` (which must be new and empty: the guard's rules rely on nothing being there that
 * the archive did not make). Resolves only when the whole input decompressed, the guard admitted every entry
 * and tar exited 0; throws a one-line PodnsError when the guard refuses or the data is corrupt, tar's
 * CommandError when tar fails. When the guard refuses, tar is killed before it reads anything past the last
 * admitted entry. Whatever tar made in `dir` is the caller's to remove.
 */
export async function extractTar(runner: CommandRunner, source: TarSource, dir: string, options: ExtractOptions): Promise<void> {
  let input: Readable;
  let compression: Compression;
  if ('file' in source) {
    compression = await detectCompression(source.file, options);
    input = createReadStream(source.file, { highWaterMark: READ_CHUNK });
  } else {
    ({ stream: input, compression } = source);
  }
  const guard = new TarGuard();
  let chainError: Error | undefined;
  const chainDone = new Promise<void>((resolve) => {
    pipeline([input, ...decompressor(compression), guard], (err) => {
      chainError = err ?? undefined;
      resolve();
    });
  });
  const argv = ['tar', '-x', '-C', dir, '-f', '-', '-B', '-P', ...options.tarFlags];
  try {
    // LC_ALL=C: tar keeps pax names as bytes, as the guard read them, and its messages stay in English.
    await runner.run(argv, { stdin: guard, env: { LC_ALL: 'C' }, step: options.step });
  } catch (err) {
    // tar failed first (ENOSPC, ...): stop reading the input. Or the chain failed and tar was killed for it.
    guard.destroy();
    await chainDone;
    throw (chainError && describeChainError(chainError, source, options)) ?? err;
  }
  await chainDone;
  if (chainError) throw describeChainError(chainError, source, options) ?? chainError;
}

/** GNU tar's own detection, limited to the compressions of OCI layers (image-spec layer.md). */
async function detectCompression(file: string, options: ExtractOptions): Promise<Compression> {
  const magic = Buffer.alloc(6);
  try {
    const handle = await open(file, 'r');
    try {
      await handle.read(magic, 0, magic.length, 0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fromNodeError(options.step, err, `read ${withFile(options.what, file)}`);
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  const other = OTHER_FORMATS.find(([bytes]) => magic.subarray(0, bytes.length).equals(bytes));
  if (other) throw new PodnsError(options.step, `${withFile(options.what, file)} is ${other[1]}-compressed; podns reads plain, gzip and zstd tar archives`);
  return 'none';
}

const OTHER_FORMATS: Array<[Buffer, string]> = [
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from('LZIP'), 'lzip'],
];

function decompressor(compression: Compression): Transform[] {
  if (compression === 'gzip') return [zlib.createGunzip({ chunkSize: READ_CHUNK })];
  if (compression === 'zstd') return [zlib.createZstdDecompress({ chunkSize: READ_CHUNK })];
  return [];
}

/** The refusal or read failure behind a failed chain; undefined when it was only cut short after tar failed. */
function describeChainError(err: Error, source: TarSource, options: ExtractOptions): Error | undefined {
  const { step } = options;
  const what = 'file' in source ? withFile(options.what, source.file) : options.what;
  if (err instanceof UnsafeEntryError) return new PodnsError(step, `refusing ${options.what}: ${err.message}`, { cause: err });
  if (err instanceof TarFormatError) return new PodnsError(step, `refusing ${options.what}: not a tar archive podns accepts: ${err.message}`, { cause: err });
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_STREAM_PREMATURE_CLOSE') return undefined;
  if (code.startsWith('Z_') || code.startsWith('ZSTD_') || code.startsWith('ERR_ZSTD')) {
    return new PodnsError(step, `${what}: corrupt compressed data: ${err.message}`, { cause: err });
  }
  return fromNodeError(step, err, `read ${what}`);
}

/** `what ("file")`, unless `what` names the file already. */
function withFile(what: string, file: string): string {
  return what.includes(`"${file}"`) ? what : `${what} ("${file}")`;
}
