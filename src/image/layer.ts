/**
 * Unpacks one layer blob into `layers/<hex>/`, once: extracted in one guarded pass (tar-extract.ts: an archive
 * whose entries would escape is refused before tar acts on them) into a fresh temp dir beside the target, its
 * whiteouts converted for overlayfs, and only then renamed into place. A directory under its final name is
 * therefore always complete and checked, and an interrupted or refused unpack leaves only a `.tmp-*` dir that
 * nothing trusts.
 */
import { chmod, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../sys/command.js';
import { CommandError, PodnsError, describeErrno, fromNodeError } from '../errors.js';
import { extractTar, type TarSource } from './tar-extract.js';
import { applyWhiteouts, planWhiteouts } from './whiteout.js';

const STEP = 'image.unpackLayer';

/**
 * Path of the unpacked layer keyed by `hex`, unpacking `source` (a plain, gzip or zstd tar: a verified blob, or a
 * download whose bytes are verified before the stream ends) only if it is absent.
 */
export async function unpackLayer(runner: CommandRunner, source: TarSource, layersDir: string, hex: string): Promise<string> {
  const target = path.join(layersDir, hex);
  if (await isDirectory(target)) return target;

  let tmp: string;
  try {
    tmp = await mkdtemp(path.join(layersDir, `.tmp-${hex.slice(0, 12)}-`));
    // mkdtemp makes 0700; a layer without a "./" entry would give the container a root only root can enter.
    await chmod(tmp, 0o755);
  } catch (err) {
    throw fromNodeError(STEP, err, `create a temp dir in "${layersDir}"`);
  }
  try {
    await extractTar(runner, source, tmp, {
      what: `layer sha256:${hex}`,
      tarFlags: ['--numeric-owner', '--same-permissions', '--xattrs', '--xattrs-include=*'],
      step: STEP,
    });
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
