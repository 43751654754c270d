/**
 * Is the root's supervisor alive? Cheap enough for every CLI command (one small file and one /proc read), so
 * that the commands that only read state (ps, logs, inspect ...) can bring a dead supervisor back — it adopts
 * the pods — before they show them.
 */
import { isAlive } from '../runtime/proc.js';
import { podsRunDir, supervisorPaths, type Roots } from '../state/paths.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** The supervisor recorded in `<run>/supervisor.pid` runs (a recycled pid does not count: its start time differs). */
export function supervisorAlive(roots: Roots): boolean {
  let owner: string;
  try {
    owner = fs.readFileSync(supervisorPaths(roots).pidFile, 'utf8');
  } catch {
    return false;
  }
  const [pid, startTime] = owner.trim().split(' ').map(Number);
  return isAlive({ pid: pid!, startTime: startTime! });
}

/** Starts the supervisor when it is dead and some pod is on disk (it adopts them); nothing otherwise. */
export async function reviveSupervisor(roots: Roots): Promise<void> {
  if (supervisorAlive(roots)) return;
  let pods: string[];
  try {
    pods = fs.readdirSync(podsRunDir(roots)).filter((p) => !p.startsWith('.'));
  } catch {
    return;
  }
  if (pods.length === 0) return;
  const { startSupervisor } = await import('./client.js');
  await startSupervisor(roots);
}
