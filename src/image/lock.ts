/**
 * Cross-process locks for the image store: a lock file created with O_EXCL holding `pid starttime`
 * (starttime from /proc/PID/stat, so a recycled pid does not keep a dead holder's lock alive). A waiter
 * polls; a lock whose holder is gone is taken over by renaming it aside first, so of two waiters that both
 * saw it stale exactly one removes it.
 */
import { readFileSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { PodnsError, fromNodeError } from '../errors.js';

const STEP = 'image.lock';

/** `pid starttime` of this process. */
export function lockOwner(pid = process.pid): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counted after the `(comm)` field, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid} ${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** True if the process that wrote `owner` (`pid starttime`) still runs; a zombie (exited, not yet reaped) does not. */
export function ownerAlive(owner: string): boolean {
  const pid = Number.parseInt(owner, 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  return lockOwner(pid) === owner.trim() && !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

export type Release = () => Promise<void>;

/** Takes the lock at `file`, waiting up to `timeoutMs` for a live holder. */
export async function acquireLock(file: string, what: string, timeoutMs = 120_000): Promise<Release> {
  const me = lockOwner() ?? `${process.pid} 0`;
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o644);
      try {
        await handle.writeFile(`${me}\n`);
      } finally {
        await handle.close();
      }
      return async () => {
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeError(STEP, err, `create lock "${file}"`);
    }
    const owner = await readFile(file, 'utf8').catch(() => undefined);
    // An empty file is a holder between open and write; only a dead holder's lock is taken over.
    if (owner !== undefined && owner.trim() !== '' && !ownerAlive(owner)) {
      const aside = `${file}.stale-${process.pid}`;
      try {
        await rename(file, aside);
        const moved = await readFile(aside, 'utf8').catch(() => '');
        if (moved === owner) {
          await rm(aside, { force: true });
          continue;
        }
        // Someone took it over between our read and the rename: put theirs back.
        await rename(aside, file).catch(() => rm(aside, { force: true }));
      } catch {
        // Gone meanwhile: retry the create.
      }
      continue;
    }
    if (Date.now() > deadline) throw new PodnsError(STEP, `timed out waiting for the lock on ${what} ("${file}", held by pid ${owner?.split(' ')[0] ?? '?'})`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

export async function withLock<T>(file: string, what: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(file, what);
  try {
    return await fn();
  } finally {
    await release();
  }
}
