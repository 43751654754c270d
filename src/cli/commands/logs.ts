/**
 * `podns logs [-f] [--tail N] [--timestamps] [-p] POD [-c CTR]`: the container's CRI log, as kubectl prints it;
 * --previous reads the run before the last restart (<container>/<restartCount-1>.log, as kubelet keeps it).
 */
import path from 'node:path';
import { UserError } from '../../errors.js';
import { readLogs } from '../../logs/cri-log-reader.js';
import type { Roots } from '../../state/paths.js';
import { runIsOver } from '../container-runs.js';
import { writeStderr, writeStdout } from '../output.js';
import { findContainer, findPod, requireState } from '../pod-lookup.js';

export interface LogsOptions {
  container?: string;
  follow?: boolean;
  tail?: number;
  timestamps?: boolean;
  previous?: boolean;
}

export async function showLogs(roots: Roots, namespace: string, name: string, options: LogsOptions): Promise<void> {
  const record = findPod(roots, namespace, name);
  const state = requireState(record);
  const container = findContainer(state, options.container);
  const containerName = container.name;
  let logPath = container.logPath;
  if (options.previous) {
    if (container.restartCount === 0) {
      throw new UserError('ENOLOG', `previous terminated container "${containerName}" in pod "${name}" not found`);
    }
    logPath = path.join(path.dirname(container.logPath), `${container.restartCount - 1}.log`);
  }
  // -f follows this run to its end, as kubectl does (`run --attach` follows restarts); a previous run is over.
  const isDone = options.previous ? () => true : runIsOver(record.paths.stateFile, containerName, container.restartCount);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  try {
    await readLogs(logPath, {
      tail: options.tail,
      follow: options.follow,
      timestamps: options.timestamps,
      signal: abort.signal,
      isDone,
      out: (chunk, stream) => (stream === 'stderr' ? writeStderr : writeStdout)(chunk),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError('ENOLOG', `pod "${name}": container "${containerName}" has no log yet`);
    }
    throw err;
  }
}
