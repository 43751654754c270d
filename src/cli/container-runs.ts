/**
 * A container's runs as the pod's state file shows them, for the verbs that follow logs: each run writes its
 * own CRI log, `<container>/<restartCount>.log` (kubelet's naming), and the supervisor records a run's end only
 * after its log is closed, so "the run is over" read from the state means "its log is complete".
 */
import path from 'node:path';
import { FOLLOW_POLL_MS, readLogs, type ReadLogsOptions } from '../logs/cri-log-reader.js';
import { isAlive } from '../runtime/proc.js';
import { readPodStatus } from '../kubelet/pod-view.js';
import type { ContainerStatusRecord, PodStatusRecord } from '../state/pod-state.js';

interface Now {
  pod?: PodStatusRecord;
  container?: ContainerStatusRecord;
  supervised: boolean;
}

function readNow(runDir: string, name: string): Now {
  const pod = readPodStatus(runDir);
  const container = pod && [...(pod.initContainers ?? []), ...pod.containers].find((c) => c.name === name);
  return { pod, container, supervised: !!pod?.supervisor && isAlive(pod.supervisor) };
}

/**
 * `isDone` for following run `run` (its restartCount) of container `name`: over once the supervisor recorded its
 * exit, started a newer run, or is gone (pod removed, supervisor dead).
 */
export function runIsOver(runDir: string, name: string, run: number): () => boolean {
  return () => {
    const { container: c, supervised } = readNow(runDir, name);
    return !c || !supervised || c.restartCount > run || c.status !== 'running';
  };
}

/**
 * Follows container `name` across restarts: every run's log from its first line, in order, from the current
 * run on, until the container has exited and will not be started again (no restartPending: restartPolicy, a
 * stop, the pod stopped), or the supervisor is gone. A container that has not started yet (its pod is initializing)
 * is waited for. Runs are taken by number, so a quick restart between two polls is not skipped; a log kubelet's
 * rule already removed (only the current and the previous run are kept) is passed over.
 */
export async function followContainerRuns(runDir: string, name: string, opts: Pick<ReadLogsOptions, 'out' | 'signal' | 'timestamps'>): Promise<void> {
  const first = readNow(runDir, name).container;
  if (!first) return;
  const dir = path.dirname(first.logPath);
  let run = first.restartCount;
  while (!opts.signal?.aborted) {
    const { container: c, supervised } = readNow(runDir, name);
    if (!c) return;
    const started = c.restartCount > run || (c.restartCount === run && c.status !== 'created');
    if (started) {
      await readLogs(path.join(dir, `${run}.log`), { ...opts, follow: true, isDone: runIsOver(runDir, name, run) }).catch((err: NodeJS.ErrnoException) => {
        // Removed (fallen two runs behind), or a start that failed before its log was made.
        if (err.code !== 'ENOENT') throw err;
      });
      run += 1;
      continue;
    }
    if (!supervised || (c.status === 'exited' && !c.restartPending)) return;
    await pause(FOLLOW_POLL_MS, opts.signal);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}
