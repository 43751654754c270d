/**
 * Unpacks one layer blob into `layers/<hex>/`, once, in a single read of the blob: Node decompresses it (gzip or
 * zstd, by its magic bytes) and streams the plain tar through TarGuard (tar-guard.ts), which refuses an archive
 * whose entries would escape, into `tar -x -P` extracting into a fresh temp dir beside the target. Its
 * whiteouts are then converted for overlayfs, and only then is it renamed into place. A directory under its
 * final name is therefore always complete and checked, and an interrupted or refused unpack leaves only a
 * `.tmp-*` dir that nothing trusts (and that is removed on the way out when podns is still alive).
 */
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { CommandRunner } from '../sys/command.js';
import { CommandError, PodnsError, describeErrno, fromNodeError } from '../errors.js';
import { TarFormatError } from './tar-header.js';
import { TarGuard, UnsafeEntryError } from './tar-guard.js';
import { applyWhiteouts, planWhiteouts } from './whiteout.js';

const STEP = 'image.unpackLayer';
/** Bigger reads and inflate chunks than Node's 64 KiB / 16 KiB defaults: fewer callbacks per megabyte. */
const READ_CHUNK = 256 * 1024;

/** Path of the unpacked layer keyed by `hex`, unpacking `blob` (plain, gzip or zstd tar) only if it is absent. */
export async function unpackLayer(runner: CommandRunner, blob: string, layersDir: string, hex: string): Promise<string> {
  const target = path.join(layersDir, hex);
  if (await isDirectory(target)) return target;

  const compression = await detectCompression(blob, hex);
  let tmp: string;
  try {
    tmp = await mkdtemp(path.join(layersDir, `.tmp-${hex.slice(0, 12)}-`));
    // mkdtemp makes 0700; a layer without a "./" entry would give the container a root only root can enter.
    await chmod(tmp, 0o755);
  } catch (err) {
    throw fromNodeError(STEP, err, `create a temp dir in "${layersDir}"`);
  }
  try {
    await extractGuarded(runner, blob, compression, tmp, hex);
    const plan = await planWhiteouts(tmp);
    await applyWhiteouts(runner, tmp, plan, `${tmp}.whiteouts.tar`);
    try {
      await rename(tmp, target);
    } catch (err) {
      // Another load unpacked the same layer meanwhile: keep theirs, it is just as complete.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'EEXIST' || code === 'ENOTEMPTY') && (await isDirectory(target))) {
        await rm(tmp, { recursive: true, force: true });
        return target;
      }
      throw fromNodeError(STEP, err, `rename "${tmp}" to "${target}"`);
    }
    return target;
  } catch (err) {
    // Cleanup must not hide the original failure.
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    await rm(`${tmp}.whiteouts.tar`, { force: true }).catch(() => undefined);
    throw explainTarFailure(err, hex, layersDir);
  }
}

type Compression = 'gzip' | 'zstd' | 'none';

/** What GNU tar's own detection would pick, limited to the compressions of OCI layers (image-spec layer.md). */
async function detectCompression(blob: string, hex: string): Promise<Compression> {
  const magic = Buffer.alloc(6);
  try {
    const handle = await open(blob, 'r');
    try {
      await handle.read(magic, 0, magic.length, 0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fromNodeError(STEP, err, `read "${blob}"`);
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  const other = OTHER_FORMATS.find(([bytes]) => magic.subarray(0, bytes.length).equals(bytes));
  if (other) throw new PodnsError(STEP, `layer sha256:${hex} ("${blob}") is ${other[1]}-compressed; podns reads plain, gzip and zstd tar archives`);
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

/**
 * blob → decompressor → TarGuard → `tar -x -P` in `dir`. Resolves only when the whole blob decompressed, the
 * guard admitted every entry and tar exited 0. When the guard refuses, tar is killed before it reads anything
 * past the last admitted entry.
 */
async function extractGuarded(runner: CommandRunner, blob: string, compression: Compression, dir: string, hex: string): Promise<void> {
  const guard = new TarGuard();
  let chainError: Error | undefined;
  const chainDone = new Promise<void>((resolve) => {
    pipeline([createReadStream(blob, { highWaterMark: READ_CHUNK }), ...decompressor(compression), guard], (err) => {
      chainError = err ?? undefined;
      resolve();
    });
  });
  const argv = ['tar', '-x', '-C', dir, '-f', '-', '-B', '-P', '--numeric-owner', '--same-permissions', '--xattrs', '--xattrs-include=*'];
  try {
    // LC_ALL=C: tar keeps pax names as bytes, as the guard read them, and its errors stay in English.
    await runner.run(argv, { stdin: guard, env: { LC_ALL: 'C' }, step: STEP });
  } catch (err) {
    // tar failed first (ENOSPC, ...): stop reading the blob. Or the chain failed and tar was killed for it.
    guard.destroy();
    await chainDone;
    throw (chainError && describeChainError(chainError, blob, hex)) ?? err;
  }
  await chainDone;
  if (chainError) throw describeChainError(chainError, blob, hex) ?? chainError;
}

/** The refusal or read failure behind a failed chain; undefined when the chain was only cut short by us. */
function describeChainError(err: Error, blob: string, hex: string): Error | undefined {
  const what = `layer sha256:${hex}`;
  if (err instanceof UnsafeEntryError) return new PodnsError(STEP, `refusing ${what}: ${err.message}`, { cause: err });
  if (err instanceof TarFormatError) return new PodnsError(STEP, `refusing ${what}: not a tar archive podns accepts: ${err.message}`, { cause: err });
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_STREAM_PREMATURE_CLOSE') return undefined;
  if (code.startsWith('Z_') || code.startsWith('ERR_ZSTD') || code === 'ERR_BUFFER_TOO_LARGE') {
    return new PodnsError(STEP, `${what} ("${blob}"): corrupt compressed data: ${err.message}`, { cause: err });
  }
  return fromNodeError(STEP, err, `read ${what} from "${blob}"`);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

const TAR_ERRNO: Array<[RegExp, string]> = [
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Read-only file system/, 'EROFS'],
  [/Permission denied/, 'EACCES'],
];

/** GNU tar's last stderr line is "Exiting with failure status"; the cause is in an earlier one. */
function explainTarFailure(err: unknown, hex: string, layersDir: string): unknown {
  if (!(err instanceof CommandError)) return err;
  for (const [re, code] of TAR_ERRNO) {
    if (re.test(err.stderr)) return new PodnsError(STEP, `unpack layer sha256:${hex} into "${layersDir}": ${describeErrno(code)}`, { cause: err });
  }
  return err;
}
