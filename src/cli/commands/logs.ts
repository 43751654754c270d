/** `podns logs [-f] [--tail N] [--timestamps] POD [-c CTR]`: the container's CRI log, as kubectl prints it. */
import { UserError } from '../../errors.js';
import { readLogs } from '../../logs/cri-log-reader.js';
import { readPodState } from '../../state/pod-state.js';
import type { Roots } from '../../state/paths.js';
import { isAlive } from '../../runtime/proc.js';
import { findPod, requireState } from '../pod-lookup.js';
import { pickContainer } from './exec.js';

export interface LogsOptions {
  container?: string;
  follow?: boolean;
  tail?: number;
  timestamps?: boolean;
}

export async function showLogs(roots: Roots, namespace: string, name: string, options: LogsOptions): Promise<void> {
  const record = findPod(roots, namespace, name);
  const state = requireState(record);
  const containerName = pickContainer(state, options.container);
  const logPath = state.containers.find((c) => c.name === containerName)!.logPath;
  // Done when the shim has recorded the exit (it does so after the log is closed) or is gone altogether.
  const isDone = () => {
    const now = readPodState(record.paths.stateFile);
    const c = now?.containers.find((x) => x.name === containerName);
    return !now || c?.status !== 'running' || !now.shim || !isAlive(now.shim);
  };
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  try {
    await readLogs(logPath, {
      tail: options.tail,
      follow: options.follow,
      timestamps: options.timestamps,
      signal: abort.signal,
      isDone,
      out: (chunk, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(chunk),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError('ENOLOG', `pod "${name}": container "${containerName}" has no log yet`);
    }
    throw err;
  }
}
