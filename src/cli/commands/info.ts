/** `podns info` (the supervisor: pid, pods, memory, event-loop delay), `podns serve --stop` and `--background`. */
import { UserError } from '../../errors.js';
import { supervisorPaths, type Roots } from '../../state/paths.js';
import { connect, requestOn, startSupervisor, SupervisorUnreachable } from '../../supervisor/client.js';
import type { SupervisorInfo } from '../../supervisor/protocol.js';
import { formatAge } from '../columns.js';

/** The running supervisor's answer to `info`; it is not started for this. */
async function askInfo(roots: Roots): Promise<SupervisorInfo | undefined> {
  let socket;
  try {
    socket = await connect(supervisorPaths(roots).socket);
  } catch (err) {
    if (err instanceof SupervisorUnreachable) return undefined;
    throw err;
  }
  const response = await requestOn(socket, { op: 'info' }, 10_000);
  if (!response.ok) throw new UserError('EINFO', `info: ${response.error}`);
  return response.info as SupervisorInfo;
}

export async function supervisorInfo(roots: Roots, json: boolean): Promise<string> {
  const info = await askInfo(roots);
  if (json) return JSON.stringify(info ?? { running: false }, null, 2) + '\n';
  if (!info) return `supervisor: not running for ${roots.run} (the next podns command that needs it starts it; or podns serve)\n`;
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
  const lines = [
    `supervisor: pid ${info.pid}, up ${formatAge(info.startedAt)}, node ${info.node}, root ${info.root}`,
    `pods: ${info.pods.length} supervised${info.unadopted.length ? `, ${info.unadopted.length} not adopted` : ''}`,
    ...info.unadopted.map((u) => `  not adopted: ${u.id}: ${u.reason}`),
    `memory: ${mb(info.memory.rss)} RSS, ${mb(info.memory.heapUsed)} heap used`,
    ...(info.cri ? [`CRI: ${info.cri.socket ?? 'not listening (see the supervisor log)'}, ${info.cri.sandboxes} sandbox(es) made by kubelet`] : []),
    `event-loop delay since start: p50 ${info.eventLoopDelay.p50.toFixed(1)} ms, p99 ${info.eventLoopDelay.p99.toFixed(1)} ms, max ${info.eventLoopDelay.max.toFixed(1)} ms`,
    ...(info.eventLoopDelayWindow
      ? [`event-loop delay, last ${info.eventLoopDelayWindow.seconds} s: p50 ${info.eventLoopDelayWindow.p50.toFixed(1)} ms, p99 ${info.eventLoopDelayWindow.p99.toFixed(1)} ms, max ${info.eventLoopDelayWindow.max.toFixed(1)} ms`]
      : []),
  ];
  return lines.join('\n') + '\n';
}

/** Asks the supervisor to exit (its pods run on) and waits until it has. */
export async function stopSupervisor(roots: Roots): Promise<string> {
  const info = await askInfo(roots);
  if (!info) return 'supervisor: not running';
  const socket = await connect(supervisorPaths(roots).socket);
  await requestOn(socket, { op: 'shutdown' }, 10_000);
  const deadline = Date.now() + 10_000;
  const { isAlive, processRef } = await import('../../runtime/proc.js');
  const ref = processRef(info.pid);
  while (ref && isAlive(ref)) {
    if (Date.now() > deadline) throw new UserError('ESTOP', `the supervisor (pid ${info.pid}) did not exit within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return `supervisor: pid ${info.pid} stopped; ${info.pods.length} pod(s) run on`;
}

/** Starts the supervisor detached unless one serves already; says which. */
export async function startSupervisorInBackground(roots: Roots): Promise<string> {
  const running = await askInfo(roots);
  if (running) return `supervisor: already running, pid ${running.pid}`;
  await startSupervisor(roots);
  const info = await askInfo(roots);
  return `supervisor: started, pid ${info?.pid ?? '?'}, serving ${supervisorPaths(roots).socket}`;
}
