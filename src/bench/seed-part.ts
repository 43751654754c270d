/**
 * The seed part: the article's pod (examples/nginx-busybox.yaml, see manifest-variant.ts) through the podns
 * CLI, one pod at a time, against the kernel floor and `node -e 0` measured in the same iterations. Per
 * iteration, in this order (so machine noise hits podns and its anchors alike):
 *   floor, nsenter, node      the kernel floor (`unshare` of five namespaces), the netns wrapper alone,
 *                             `node -e 0` on the Node binary podns runs on
 *   (memory, no pod)          supervision with no pod of this iteration (supervision.ts)
 *   run → running             `podns run` until it returns (it returns once every container runs)
 *   run → nginx answers       from the start of that `podns run` to nginx's first answer (nginx-probe.ts)
 *   exec, ps, logs, images, inspect      each once, the pod running
 *   (memory, one pod)         supervision again: what one pod adds
 *   node, floor               second samples
 *   rm -f                     of the running pod
 *   stop                      of a second copy, started untimed for it, then removed untimed
 * Every command runs through nsenter into the bench's network namespace, the anchors included.
 */
import type { BenchPodns } from './bench-podns.js';
import type { NginxProbe } from './nginx-probe.js';
import type { SupervisionSample } from './supervision.js';

export const SEED_KEYS = ['floor', 'nsenter', 'node', 'runToRunning', 'runToHttp', 'exec', 'rmForce', 'ps', 'logs', 'images', 'inspect', 'stop'] as const;
export type SeedKey = (typeof SEED_KEYS)[number];

export interface SeedIteration {
  t: Partial<Record<SeedKey, number[]>>;
  httpAttempts: number;
  httpResolutionMs: number;
  idle: SupervisionSample;
  onePod: SupervisionSample;
}

export const FLOOR_ARGV = ['unshare', '--fork', '--pid', '--net', '--ipc', '--uts', '--mount', '--mount-proc', '/bin/true'];
const HTTP_TIMEOUT_MS = 15_000;

export interface SeedContext {
  podns: BenchPodns;
  probe: NginxProbe;
  sample: () => SupervisionSample;
}

export async function seedIteration(ctx: SeedContext, i: number): Promise<SeedIteration> {
  const { podns } = ctx;
  const t: Partial<Record<SeedKey, number[]>> = {};
  const add = (k: SeedKey, ms: number) => (t[k] ??= []).push(ms);
  const anchors = async () => {
    add('floor', (await podns.runOk(FLOOR_ARGV)).ms);
    add('nsenter', (await podns.runOk(['/bin/true'])).ms);
    add('node', (await podns.runOk([process.execPath, '-e', '0'])).ms);
  };

  await anchors();
  const idle = ctx.sample();

  const pod = `seed-${podns.suffix}-${i}`;
  const run = await podns.runPod(pod);
  add('runToRunning', run.ms);
  const answer = await ctx.probe.firstAnswer({ podId: pod, netnsPin: podns.netnsPin(pod), libRoot: podns.libRoot }, HTTP_TIMEOUT_MS);
  add('runToHttp', Number(answer.atNs - run.start) / 1e6);

  add('exec', (await podns.podnsOk(['exec', pod, '-c', 'busybox', '--', 'true'])).ms);
  add('ps', (await podns.podnsOk(['ps'])).ms);
  add('logs', (await podns.podnsOk(['logs', pod, '-c', 'nginx'])).ms);
  add('images', (await podns.podnsOk(['images'])).ms);
  add('inspect', (await podns.podnsOk(['inspect', pod])).ms);
  const onePod = ctx.sample();

  await anchors();
  add('rmForce', (await podns.removePods([pod])).ms);

  const stopped = `${pod}-stop`;
  await podns.runPod(stopped);
  add('stop', (await podns.podnsOk(['stop', stopped])).ms);
  await podns.removePods([stopped]);

  return { t, httpAttempts: answer.attempts, httpResolutionMs: answer.resolutionMs, idle, onePod };
}
