/**
 * The seccomp program of a confined container. The default profile is large and compiling it with libseccomp
 * takes a few milliseconds on every `podns run`, so the compiled RuntimeDefault program is kept on disk, keyed
 * by everything it depends on (the profile as shipped, the capabilities, the architecture, the kernel release);
 * the profile module is loaded only on a miss. `podns exec` reuses the program the supervisor saved for the pod.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Confinement } from './confinement.js';

let defaultProfileIdentity: string | undefined;

/** The shipped default profile's own bytes: a new podns with a changed profile never reads an old program. */
function runtimeDefaultIdentity(): string {
  if (defaultProfileIdentity === undefined) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const file = ['seccomp-default.js', 'seccomp-default.ts'].map((f) => path.join(here, f)).find((f) => fs.existsSync(f))!;
    defaultProfileIdentity = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return defaultProfileIdentity;
}

/** Compiled by libseccomp in this process, before any fork; undefined when the container is unconfined. */
export async function seccompFilterOf(conf: Confinement, libRoot: string): Promise<Buffer | undefined> {
  if (!conf.seccomp) return undefined;
  if (conf.seccomp.type !== 'RuntimeDefault') {
    const { seccompFilterFor } = await import('./seccomp-profile.js');
    return seccompFilterFor(conf.seccomp, new Set(conf.capabilities), libRoot);
  }
  const key = crypto
    .createHash('sha256')
    .update([runtimeDefaultIdentity(), [...conf.capabilities].sort().join(','), process.arch, os.release()].join('\n'))
    .digest('hex');
  const file = path.join(libRoot, 'cache', 'seccomp', `${key}.bpf`);
  try {
    return fs.readFileSync(file);
  } catch {
    // not compiled yet
  }
  const { seccompFilterFor } = await import('./seccomp-profile.js');
  const filter = seccompFilterFor(conf.seccomp, new Set(conf.capabilities), libRoot)!;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, filter, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return filter;
}
