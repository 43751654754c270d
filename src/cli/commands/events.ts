/** `podns events [POD] [-w]`: the pods' events in kubelet's vocabulary, oldest first; -w keeps watching. */
import type { Roots } from '../../state/paths.js';
import { readEvents, type PodEvent } from '../../state/events.js';
import { formatColumns } from '../columns.js';
import { findPod, listPods } from '../pod-lookup.js';
import { compareStrings } from '../../state/compare.js';

function eventFiles(roots: Roots, namespace: string, pod: string | undefined): string[] {
  return pod ? [findPod(roots, namespace, pod).paths.eventsFile] : listPods(roots).map((p) => p.paths.eventsFile);
}

function collect(files: string[]): PodEvent[] {
  return files.flatMap(readEvents).sort((a, b) => compareStrings(a.time, b.time));
}

const row = (e: PodEvent) => [e.time, e.type, e.reason, e.object, e.message];
const HEADER = ['TIME', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];

export async function showEvents(roots: Roots, namespace: string, pod: string | undefined, watch: boolean, out: (text: string) => void): Promise<void> {
  const seen = new Set<string>();
  const fresh = () => {
    const events = collect(eventFiles(roots, namespace, pod)).filter((e) => !seen.has(JSON.stringify(e)));
    for (const e of events) seen.add(JSON.stringify(e));
    return events;
  };
  const first = fresh();
  out(formatColumns([HEADER, ...first.map(row)]));
  if (!watch) return;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  while (!abort.signal.aborted) {
    await new Promise((r) => setTimeout(r, 200));
    // One line per event as it comes: columns cannot be aligned with rows not yet seen.
    for (const e of fresh()) out(`${row(e).join('  ')}\n`);
  }
}
