/**
 * The shim for `podns run`, started before anything else is loaded: the shim's own start-up (Node plus its
 * modules) is the longest single wait of a run, so it runs while the CLI loads run's modules, parses the manifest
 * and resolves images. Its log starts beside the pod directories and is renamed into the pod's run dir once the
 * shim knows its pod (the open file stays the same across the rename). If the run ends without work for it (bad
 * manifest, usage error), its channel closes and it removes that log and exits.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { podsRunDir, type Roots } from '../state/paths.js';
import { startDetached, type DetachedHelper } from '../sys/detached.js';

export interface StartedShim {
  shim: DetachedHelper;
  log: string;
}

let early: StartedShim | undefined;

export function startShim(roots: Roots): StartedShim {
  const pods = podsRunDir(roots);
  fs.mkdirSync(pods, { recursive: true, mode: 0o700 });
  const log = path.join(pods, `.shim-${process.pid}-${randomUUID().slice(0, 8)}.log`);
  return { shim: startDetached([process.execPath, process.argv[1]!, 'shim', log], log), log };
}

/** Called first thing by the CLI for `podns run`. */
export function startEarlyShim(roots: Roots): void {
  early = startShim(roots);
}

/** The early shim, once (then the caller owns it), or a new one. */
export function takeShim(roots: Roots): StartedShim {
  const taken = early ?? startShim(roots);
  early = undefined;
  return taken;
}
