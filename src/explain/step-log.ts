/**
 * The pod's step log (`<run dir>/steps.jsonl`): every kernel step podns took for it, in order, as it happened,
 * with the command a person could type to do the same by hand. Written as the shim works; `podns run
 * --explain` and `podns explain POD` print it. Spawns are logged from the addon's own trace of the steps that
 * succeeded (see native/README.md), network and cgroup steps from the calls as they are made.
 */
import fs from 'node:fs';

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
    fs.appendFileSync(this.file, JSON.stringify(step) + '\n');
  }

  addAll(steps: Step[]): void {
    if (steps.length) fs.appendFileSync(this.file, steps.map((s) => JSON.stringify(s)).join('\n') + '\n');
  }
}

export function readSteps(file: string): Step[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Step);
}

export function formatSteps(steps: Step[]): string {
  return steps.map((s, i) => `${String(i + 1).padStart(3)}  [${s.actor}] ${s.what}\n       $ ${s.command}\n`).join('');
}
