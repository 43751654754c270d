/**
 * Pod events in kubelet's vocabulary (Pulled, Created, Started, Killing, Failed, OOMKilled, ...), one JSON line
 * each in the pod's run dir. Appends are single small writes with O_APPEND, so lines never interleave.
 */
import fs from 'node:fs';

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
    fs.appendFileSync(file, JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
  } catch {
    // Events are for people; a pod whose directory went away has no one to tell.
  }
}

export function readEvents(file: string): PodEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as PodEvent];
      } catch {
        return [];
      }
    });
}
