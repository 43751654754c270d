/** The host's device nodes directly below /dev: what a privileged container gets, as with runc. */
import fs from 'node:fs';

export function hostDeviceNames(devRoot = '/dev'): string[] {
  const names: string[] = [];
  for (const entry of fs.readdirSync(devRoot, { withFileTypes: true })) {
    // The pod's own /dev has its pts, shm, mqueue and the standard links; the host's console is not ours.
    if (!(entry.isCharacterDevice() || entry.isBlockDevice()) || entry.name === 'console' || entry.name === 'ptmx') continue;
    names.push(entry.name);
  }
  return names.sort();
}
