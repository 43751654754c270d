/**
 * `podns recover [POD...] [--all]`: a new shim (`podns shim --adopt <run-dir>`, detached like the one `podns run`
 * starts) takes over each pod whose shim died; it answers on the same fd-3 channel, waited for as `podns run`
 * waits (heartbeats, then one report). Explicit on purpose: no other verb starts a shim behind the user's back.
 */
import { PodnsError, UserError } from '../../errors.js';
import type { Roots } from '../../state/paths.js';
import { takeoverRefusal } from '../../shim/takeover.js';
import { startDetached } from '../../sys/detached.js';
import { findPod, listPods, requireState, type PodRecord } from '../pod-lookup.js';
import { awaitStartReport, shimSilenceLimitMs } from '../start-wait.js';
import { podStatus } from './ps.js';

export async function recoverPods(roots: Roots, namespace: string, names: string[], all: boolean, say: (line: string) => void): Promise<void> {
  if (all === names.length > 0) throw new UserError('EUSAGE', 'recover: name the pods, or give --all (not both)');
  const records = all ? listPods(roots).filter((r) => r.state && podStatus(r.state) === 'ShimDead') : names.map((n) => findPod(roots, namespace, n));
  if (all && records.length === 0) say('no pod has a dead shim');
  for (const record of records) {
    const pid = await recoverPod(record);
    say(`pod/${record.spec.pod.metadata.name} recovered (shim pid ${pid})`);
  }
}

async function recoverPod(record: PodRecord): Promise<number> {
  const state = requireState(record);
  const refusal = takeoverRefusal(state);
  if (refusal) throw new UserError('ERECOVER', `pod "${state.name}": ${refusal}`);
  const { paths } = record;
  const shim = startDetached([process.execPath, process.argv[1]!, 'shim', '--adopt', paths.runDir], paths.shimLog);
  const outcome = await awaitStartReport(shim, shimSilenceLimitMs());
  if (outcome.kind === 'report' && outcome.report.ok) return shim.pid;
  // A stuck shim is given up on; a failed takeover exits right after its report. Either way the pod is as it was.
  if (outcome.kind !== 'report') {
    try {
      process.kill(shim.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([shim.exited, new Promise((r) => (waited = setTimeout(r, 5000)))]);
  clearTimeout(waited);
  const report = outcome.kind === 'report' ? outcome.report : undefined;
  throw new PodnsError(report?.step ?? 'shim.takeover', `pod "${state.name}": ${report?.error ?? `the new shim exited without reporting (see ${paths.shimLog})`}`);
}
