/** `podns explain POD` and `podns run --explain`: the pod's step log, as it happened. */
import { formatSteps, readSteps } from '../../explain/step-log.js';
import type { Roots } from '../../state/paths.js';
import { findPod } from '../pod-lookup.js';

export function explainPod(roots: Roots, namespace: string, name: string): string {
  const { paths } = findPod(roots, namespace, name);
  const steps = readSteps(paths.stepsFile);
  return `\n# pod/${name}: ${steps.length} kernel steps, in the order they happened\n${formatSteps(steps)}`;
}
