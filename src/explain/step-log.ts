/**
 * The pod's step log (`<run dir>/steps.jsonl`): every kernel step podns took for it, in order, as it happened,
 * with the command a person could type to do the same by hand. Written as the supervisor works; `podns run
 * --explain` and `podns explain POD` print it. Spawns are logged from the addon's own trace of the steps that
 * succeeded (see native/README.md), network and cgroup steps from the calls as they are made.
 */
import { appendJsonLines, readJsonLines } from '../state/json-lines.js';

export interface Step {
  /** pause, container/NAME, network, cgroup, exec/NAME */
  actor: string;
  /** What the kernel was asked to do. */
  what: string;
  /** The same by hand. */
  command: string;
}

export class StepLog {
  constructor(private readonly file: string) {}

  add(step: Step): void {
    appendJsonLines(this.file, [step]);
  }

  addAll(steps: Step[]): void {
    appendJsonLines(this.file, steps);
  }
}

export function readSteps(file: string): Step[] {
  return readJsonLines<Step>(file);
}

export function formatSteps(steps: Step[]): string {
  return steps.map((s, i) => `${String(i + 1).padStart(3)}  [${s.actor}] ${s.what}\n       $ ${s.command}\n`).join('');
}
