/**
 * `podns run --attach`: streams the logs of every container of the pods just started, each line prefixed with
 * `[pod/container]`, until they all have exited; Ctrl-C stops the pods (their grace periods, then SIGKILL).
 * A container restarted meanwhile writes a new log file, which this stream does not follow (`podns logs -f`).
 */
import { readLogs } from '../../logs/cri-log-reader.js';
import { isAlive } from '../../runtime/proc.js';
import type { Roots } from '../../state/paths.js';
import { readPodState } from '../../state/pod-state.js';
import { findPod, requireState } from '../pod-lookup.js';
import { stopPod } from './stop.js';

export async function attachLogs(roots: Roots, namespace: string, names: string[], write: (text: string, stream: 'stdout' | 'stderr') => void): Promise<void> {
  const abort = new AbortController();
  let stopping: Promise<unknown> | undefined;
  const onInterrupt = () => {
    if (stopping) return;
    write('\n', 'stderr');
    stopping = Promise.allSettled(names.map((n) => stopPod(roots, namespace, n, undefined, undefined)));
  };
  process.on('SIGINT', onInterrupt);
  try {
    const follows = names.flatMap((name) => {
      const record = findPod(roots, namespace, name);
      return requireState(record).containers.map((c) => {
        // Lines of one container may come in several chunks: prefix only where a line starts.
        const atLineStart = { stdout: true, stderr: true };
        const prefix = `[${name}/${c.name}] `;
        const isDone = () => {
          const now = readPodState(record.paths.stateFile);
          const mine = now?.containers.find((x) => x.name === c.name);
          return !now || mine?.status !== 'running' || !now.shim || !isAlive(now.shim);
        };
        return readLogs(c.logPath, {
          follow: true,
          signal: abort.signal,
          isDone,
          out: (chunk, stream) => {
            // Split after each newline: every piece but possibly the first starts a line.
            const pieces = chunk.split(/(?<=\n)/).filter(Boolean);
            write(pieces.map((l, i) => (i > 0 || atLineStart[stream] ? prefix + l : l)).join(''), stream);
            atLineStart[stream] = chunk.endsWith('\n');
          },
        }).catch(() => undefined);
      });
    });
    await Promise.all(follows);
    if (stopping) await stopping;
  } finally {
    process.off('SIGINT', onInterrupt);
    abort.abort();
  }
}
