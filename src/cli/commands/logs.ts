/**
 * `podns logs [-f] [--tail N] [--timestamps] [-p] POD [-c CTR]`: the container's CRI log, as kubectl prints it;
 * --previous reads the run before the last restart (<container>/<restartCount-1>.log, as kubelet keeps it).
 */
import path from 'node:path';
import { UserError } from '../../errors.js';
import { readLogs, type LogStream } from '../../logs/cri-log-reader.js';
import type { Roots } from '../../state/paths.js';
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
  // Only -f asks whether the run is over (container-runs.ts loads only then).
  const isDone = options.previous || !options.follow ? () => true : (await import('../container-runs.js')).runIsOver(record.paths.runDir, containerName, container.restartCount);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const output = batchedOutput();
  try {
    await readLogs(logPath, {
      tail: options.tail,
      follow: options.follow,
      timestamps: options.timestamps,
      signal: abort.signal,
      isDone,
      out: output.write,
    });
    output.flush();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError('ENOLOG', `pod "${name}": container "${containerName}" has no log yet`);
    }
    throw err;
  }
}

/**
 * The reader hands over one record at a time; a write(2) for each costs more than reading the log (~2 ms for
 * 200 lines). Consecutive records of one stream go out together once the block being parsed is done (a
 * microtask: before the reader's next read), so the two streams keep their order and `-f` is not delayed.
 */
function batchedOutput(): { write: (text: string, stream: LogStream) => void; flush: () => void } {
  let pending: { stream: LogStream; text: string } | undefined;
  const flush = (): void => {
    if (!pending) return;
    const { stream, text } = pending;
    pending = undefined;
    (stream === 'stderr' ? writeStderr : writeStdout)(text);
  };
  const write = (text: string, stream: LogStream): void => {
    if (pending && pending.stream !== stream) flush();
    if (!pending) {
      pending = { stream, text: '' };
      queueMicrotask(flush);
    }
    pending.text += text;
  };
  return { write, flush };
}
