/**
 * Pod events in kubelet's vocabulary (Pulled, Created, Started, Killing, Failed, OOMKilled, ...), one JSON line
 * each in the pod's run dir. Appends are single small writes with O_APPEND, so lines never interleave.
 */
import { appendJsonLines, readJsonLines } from './json-lines.js';

export interface PodEvent {
  time: string;
  type: 'Normal' | 'Warning';
  reason: string;
  /** `pod/NAME` or `pod/NAME/CONTAINER`. */
  object: string;
  message: string;
}

export function appendEvent(file: string, event: Omit<PodEvent, 'time'>): void {
  try {
    appendJsonLines(file, [{ time: new Date().toISOString(), ...event }]);
  } catch {
    // Events are for people; a pod whose directory went away has no one to tell.
  }
}

export function readEvents(file: string): PodEvent[] {
  return readJsonLines<PodEvent>(file);
}
