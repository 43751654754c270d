/**
 * `podns volume ls | rm | prune`: the named volumes that persistentVolumeClaim volumes map to (as podman kube
 * play makes them), under <lib>/volumes/<namespace>/<claimName>. They outlive their pods by design; these verbs
 * are how they go again. A volume a pod still refers to (running or stopped, until `podns rm`) is not removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { namedVolumeDir, namedVolumesDir, type Roots } from '../../state/paths.js';
import { formatColumns, humanSize } from '../columns.js';
import { listPods } from '../pod-lookup.js';
import { diskUsage } from '../../sys/disk-usage.js';

export interface NamedVolume {
  namespace: string;
  name: string;
  dir: string;
}

export function listVolumes(roots: Roots): NamedVolume[] {
  const root = namedVolumesDir(roots);
  const out: NamedVolume[] = [];
  for (const namespace of readdir(root)) {
    for (const name of readdir(path.join(root, namespace))) out.push({ namespace, name, dir: path.join(root, namespace, name) });
  }
  return out;
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}


/** The pods (by name) whose spec refers to this volume's directory. */
function usersOf(roots: Roots, dir: string): string[] {
  return listPods(roots)
    .flatMap((p) => (p.spec ? [p.spec.pod] : []))
    .filter((pod) => pod.spec.volumes.some((v) => 'persistentVolumeClaim' in v && v.persistentVolumeClaim.path === dir))
    .map((pod) => (pod.metadata.namespace === 'default' ? pod.metadata.name : `${pod.metadata.namespace}/${pod.metadata.name}`));
}

export function volumeTable(roots: Roots): string {
  const rows = [['NAMESPACE', 'NAME', 'SIZE', 'USED BY', 'PATH']];
  for (const v of listVolumes(roots)) rows.push([v.namespace, v.name, humanSize(diskUsage(v.dir).bytes), usersOf(roots, v.dir).join(',') || '-', v.dir]);
  return formatColumns(rows);
}

export function removeVolumes(roots: Roots, namespace: string, names: string[], out: (line: string) => void): void {
  if (names.length === 0) throw new UserError('EUSAGE', 'volume rm: name at least one volume (podns volume ls lists them)');
  for (const name of names) {
    const dir = namedVolumeDir(roots, namespace, name);
    if (!fs.existsSync(dir)) throw new UserError('ENOVOLUME', `volume "${name}" not found${namespace === 'default' ? '' : ` in namespace "${namespace}"`}`);
    const users = usersOf(roots, dir);
    if (users.length) throw new UserError('EBUSY', `volume "${name}" is used by pod ${users.map((u) => `"${u}"`).join(', ')} (remove the pod first: podns rm)`);
    fs.rmSync(dir, { recursive: true, force: true });
    out(`volume/${name} removed`);
  }
}

/** Removes every volume no pod refers to. */
export function pruneVolumes(roots: Roots, out: (line: string) => void): void {
  for (const v of listVolumes(roots)) {
    if (usersOf(roots, v.dir).length) continue;
    fs.rmSync(v.dir, { recursive: true, force: true });
    out(`volume/${v.namespace === 'default' ? v.name : `${v.namespace}/${v.name}`} removed`);
  }
}
