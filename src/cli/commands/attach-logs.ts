/**
 * `podns run --attach`: streams the logs of every container of the pods just started, each line prefixed with
 * `[pod/container]`, across restarts (each run's log in turn), until every container is done for good (exited
 * and not to be restarted) or its pod is gone; Ctrl-C stops the pods (their grace periods, then SIGKILL).
 */
import type { Roots } from '../../state/paths.js';
import { followContainerRuns } from '../container-runs.js';
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
        return followContainerRuns(record.paths.runDir, c.name, {
          signal: abort.signal,
          out: (chunk, stream) => {
            // Split after each newline: every piece but possibly the first starts a line.
            const pieces = chunk.split(/(?<=\n)/).filter(Boolean);
            write(pieces.map((l, i) => (i > 0 || atLineStart[stream] ? prefix + l : l)).join(''), stream);
            atLineStart[stream] = chunk.endsWith('\n');
          },
        }).catch((err: Error) => write(`podns: ${prefix.trim()} logs: ${err.message}\n`, 'stderr'));
      });
    });
    await Promise.all(follows);
    if (stopping) await stopping;
  } finally {
    process.off('SIGINT', onInterrupt);
    abort.abort();
  }
}
