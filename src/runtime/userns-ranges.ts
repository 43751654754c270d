/**
 * The host ID ranges of pods in user namespaces (hostUsers: false), as kubelet's userns manager hands them out:
 * 65536 IDs per pod, a range starting at a multiple of 65536, never the first block [0, 65536) (host root and
 * the host's users: mapping it would circumvent the point), within a configured window.
 *
 * The window is `<etc>/userns.json` (`/etc/podns`, or DIR/etc under --root):
 *
 *   { "firstID": 65536, "length": 4294836224 }
 *
 * kubelet takes it from the `kubelet` user's /etc/subuid entry, by default 65536 up to 2^32; podns's default is
 * the same window less its last block, whose end (2^32) no uid_map line can reach: the kernel refuses a range
 * that wraps, and uid 4294967295 is (uid_t)-1.
 *
 * Allocation is one lease file per range, `<leases>/<base>`, created with O_EXCL: the creation is the
 * allocation, so two concurrent starts (in one supervisor or in two roots) never get the same range, with no
 * lock to hold or leave behind. The lease directory is one for the whole host (like /run/netns), because the
 * point of disjoint ranges is that no two pods on the node share an ID, whatever podns root runs them. A lease
 * names its owner (the run root and the pod id), is recorded in the pod's sandbox.json and released on removal.
 */
import path from 'node:path';
import { PodnsError, UserError } from '../errors.js';
import type { UserNamespaceMap } from '../kernel/types.js';
import type { UserNamespaceRanges } from '../state/pod-state.js';
// Not `import fs from 'node:fs'` (its ESM facade loads fs/promises and streams): `podns run` loads this module.
const fs = process.getBuiltinModule('node:fs');

/** IDs per pod: kubelet's userNsLength. */
export const USERNS_SIZE = 65536;
/** The host-wide lease directory (tmpfs: the leases go with the processes at reboot). */
export const USERNS_LEASE_DIR = '/run/podns-userns';

export type { UserNamespaceRanges };

export const DEFAULT_USERNS_RANGES: UserNamespaceRanges = { firstID: USERNS_SIZE, length: 2 ** 32 - 2 * USERNS_SIZE };

/** Checks a window by kubelet's rules (MakeUserNsManager); returns a one-line reason, or undefined when valid. */
export function invalidRanges(r: UserNamespaceRanges): string | undefined {
  if (!Number.isSafeInteger(r.firstID) || !Number.isSafeInteger(r.length)) return 'firstID and length must be integers';
  if (r.firstID % USERNS_SIZE !== 0) return `firstID ${r.firstID} is not a multiple of ${USERNS_SIZE}`;
  if (r.firstID < USERNS_SIZE) return `firstID ${r.firstID} must be at least ${USERNS_SIZE}: the first block holds host root and the host's users`;
  if (r.length % USERNS_SIZE !== 0 || r.length <= 0) return `length ${r.length} is not a positive multiple of ${USERNS_SIZE}`;
  if (r.firstID + r.length > 2 ** 32 - USERNS_SIZE) return `firstID + length (${r.firstID + r.length}) goes beyond ${2 ** 32 - USERNS_SIZE}, the end of the last range a uid_map can hold`;
  return undefined;
}

/** `<etc>/userns.json`, or the default window when there is none. */
export function loadUserNamespaceRanges(etcDir: string): UserNamespaceRanges {
  const file = path.join(etcDir, 'userns.json');
  let fromFile: Partial<UserNamespaceRanges> = {};
  try {
    fromFile = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<UserNamespaceRanges>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_USERNS_RANGES;
    throw new UserError('ECONFIG', `${file}: ${err instanceof SyntaxError ? `invalid JSON: ${err.message}` : String(err)}`);
  }
  const ranges = { ...DEFAULT_USERNS_RANGES, ...fromFile };
  const invalid = invalidRanges(ranges);
  if (invalid) throw new UserError('ECONFIG', `${file}: ${invalid}`);
  return ranges;
}

/** Who holds a lease: the run root of the podns that made the pod, and the pod's (sandbox's) id. */
export interface LeaseOwner {
  runRoot: string;
  podId: string;
}

function ownerLine(owner: LeaseOwner): string {
  return `${owner.runRoot} ${owner.podId}\n`;
}

/**
 * Takes the lowest free range of the window: one O_EXCL create per candidate, so a range another start took a
 * moment ago is skipped, never shared. Throws one line when every range is taken.
 */
export function allocateRange(leaseDir: string, ranges: UserNamespaceRanges, owner: LeaseOwner): UserNamespaceMap {
  fs.mkdirSync(leaseDir, { recursive: true, mode: 0o700 });
  const taken = new Set(fs.readdirSync(leaseDir).map(Number).filter(Number.isSafeInteger));
  const end = ranges.firstID + ranges.length;
  for (let base = ranges.firstID; base < end; base += USERNS_SIZE) {
    if (taken.has(base)) continue;
    let fd: number;
    try {
      fd = fs.openSync(path.join(leaseDir, String(base)), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new PodnsError('userns.allocate', `user namespace: lease ${path.join(leaseDir, String(base))}: ${(err as Error).message}`);
    }
    try {
      fs.writeSync(fd, ownerLine(owner));
    } finally {
      fs.closeSync(fd);
    }
    return { uidBase: base, gidBase: base, size: USERNS_SIZE };
  }
  throw new PodnsError(
    'userns.allocate',
    `no free user namespace range: all ${ranges.length / USERNS_SIZE} ranges of ${USERNS_SIZE} IDs in [${ranges.firstID}, ${end}) are taken (leases in ${leaseDir}; the window is set in userns.json)`,
  );
}

/** Gives a range back; only the owner's own lease is removed (idempotent: a missing lease is fine). */
export function releaseRange(leaseDir: string, map: Pick<UserNamespaceMap, 'uidBase'>, owner: LeaseOwner): void {
  const file = path.join(leaseDir, String(map.uidBase));
  let holder: string;
  try {
    holder = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (holder !== ownerLine(owner)) return;
  fs.rmSync(file, { force: true });
}

/**
 * `podns gc`: the leases of pods of `runRoot` that no longer exist (a supervisor that died between taking a
 * range and recording it in sandbox.json leaves one nobody releases). `podExists` is asked after the leases
 * are read, so a pod that takes a range meanwhile (its run directory is made before its lease) keeps it.
 * Other roots' leases are theirs to judge. Returns the bases released.
 */
export function releaseOrphanRanges(leaseDir: string, runRoot: string, podExists: (podId: string) => boolean): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(leaseDir);
  } catch {
    return [];
  }
  const released: number[] = [];
  for (const name of names) {
    const base = Number(name);
    if (!Number.isSafeInteger(base)) continue;
    let holder: string;
    try {
      holder = fs.readFileSync(path.join(leaseDir, name), 'utf8');
    } catch {
      continue;
    }
    const at = holder.lastIndexOf(' ');
    const owner = { runRoot: holder.slice(0, at), podId: holder.slice(at + 1).trimEnd() };
    if (at < 0 || owner.runRoot !== runRoot || podExists(owner.podId)) continue;
    releaseRange(leaseDir, { uidBase: base }, owner);
    released.push(base);
  }
  return released;
}
