/**
 * `podns shim <start-log>`: the per-pod supervisor process (containerd-shim's role). Started detached by
 * `podns run`, in its own session, stdout/stderr on shim.log. It serves the control socket from the moment the
 * pod's state exists (a stop or removal during the start aborts it), reports the start's outcome on fd 3
 * (heartbeat lines while it starts, then one final JSON line; EOF without one means it died), then serves on
 * until the pod is stopped.
 *
 * `podns shim --adopt <run-dir>`: the same process for a pod whose shim died (`podns recover`): it takes the
 * pod over (PodSupervisor.prepareTakeover/completeTakeover) and reports on fd 3 the same way.
 */
import fs from 'node:fs';
import net from 'node:net';
import { createLogger, type Logger } from '../log.js';
import { PodnsError } from '../errors.js';
import { readJsonIfExists } from '../state/atomic-file.js';
import type { PodPaths } from '../state/paths.js';
import { readPodState, type PodSpecFile } from '../state/pod-state.js';
import { becomeChildSubreaper } from '../sys/native.js';
import type { ShimRequest, ShimResponse } from './control-protocol.js';
import { PodSupervisor } from './pod-supervisor.js';
import { acquireTakeoverLock, takeoverRefusal } from './takeover.js';
import type { AttachRequest } from './attach-protocol.js';
import { serveAttach } from './attach-server.js';
import { startHeartbeat } from './start-report.js';

/** fd 3: a socket to `podns run` (or `podns recover`), which reads back heartbeats and one report line. */
const CHANNEL_FD = 3;

type SpecFile = PodSpecFile & { paths: PodPaths };

function receiveWork(channel: net.Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      channel.off('data', onData);
      resolve(text.includes('\n') ? text.slice(0, text.indexOf('\n')) : undefined);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) done();
    };
    channel.on('data', onData);
    channel.once('end', done);
    channel.once('error', done);
  });
}

function report(channel: net.Socket, message: object): void {
  // The CLI may have gone away; the pod runs on regardless.
  channel.on('error', () => {});
  channel.end(JSON.stringify(message) + '\n');
}

/** A start or takeover that failed is over once it is reported (and every control reply is out): exit 1. */
async function reportFailureAndExit(channel: net.Socket, message: object, control?: ControlServer): Promise<never> {
  await new Promise<void>((resolve) => {
    channel.on('error', () => resolve());
    channel.end(JSON.stringify({ ok: false, ...message }) + '\n', () => resolve());
  });
  await control?.flushReplies();
  process.exit(1);
}

function errorMessage(err: unknown): { error: string; step?: string; stack?: string } {
  if (err instanceof PodnsError) return { error: err.message, step: err.step, stack: err.stack };
  return { error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined };
}

/** `args`: `[startLog]` (from `podns run`) or `['--adopt', runDir]` (from `podns recover`). */
export async function runShim(args: string[]): Promise<void> {
  if (args[0] === '--adopt') return adoptPod(args[1]!);
  return startPod(args[0]!);
}

async function startPod(startLog: string): Promise<void> {
  const channel = new net.Socket({ fd: CHANNEL_FD, readable: true, writable: true });
  const runDir = await receiveWork(channel);
  if (!runDir) {
    // `podns run` failed (bad manifest, name clash) or died before it had a pod for us: nothing to do.
    channel.destroy();
    fs.rmSync(startLog, { force: true });
    return;
  }
  // `podns run` waits for the report as long as this shows the shim alive (see start-report.ts).
  startHeartbeat(channel);
  const log = createLogger((line) => process.stderr.write(line), 'debug');
  const file = readJsonIfExists<SpecFile>(`${runDir}/spec.json`);
  if (!file) return reportFailureAndExit(channel, { error: `shim: no spec.json in ${runDir}` });
  fs.renameSync(startLog, file.paths.shimLog);
  process.title = `podns shim ${file.paths.id}`;
  // The pod's processes are our children (CLONE_PARENT); orphans of theirs come to us, not to init.
  becomeChildSubreaper();
  let supervisor: PodSupervisor;
  try {
    supervisor = new PodSupervisor(file.paths, file, log);
    // state.json exists before anyone can ask about the pod.
    supervisor.save();
  } catch (err) {
    log.error('bad pod spec', errorMessage(err));
    fs.rmSync(runDir, { recursive: true, force: true });
    return reportFailureAndExit(channel, errorMessage(err));
  }
  // Served from the start: status answers at once, and a stop or removal while the pod starts aborts it.
  const control = new ControlServer(supervisor, log, { starting: true });
  try {
    await control.listen(file.paths.socket);
  } catch (err) {
    log.error('control socket', errorMessage(err));
    await supervisor.abort().catch((e) => log.error('abort failed', errorMessage(e)));
    return reportFailureAndExit(channel, errorMessage(err));
  }
  try {
    await supervisor.start();
  } catch (err) {
    log.error('start failed', errorMessage(err));
    await supervisor.abort().catch((e) => log.error('abort failed', errorMessage(e)));
    control.startSettled();
    return reportFailureAndExit(channel, errorMessage(err), control);
  }
  control.startSettled();
  report(channel, { ok: true });
  log.info('pod running', { pod: supervisor.state.name });
  serveUntilStopped(supervisor, control, file);
}

async function adoptPod(runDir: string): Promise<void> {
  const channel = new net.Socket({ fd: CHANNEL_FD, readable: true, writable: true });
  const log = createLogger((line) => process.stderr.write(line), 'debug');
  // `podns recover` waits for the report as `podns run` does: as long as this shows the shim alive.
  startHeartbeat(channel);
  const file = readJsonIfExists<SpecFile>(`${runDir}/spec.json`);
  if (!file) return reportFailureAndExit(channel, { error: `no pod in ${runDir} (no spec.json)` });
  const name = file.pod.metadata.name;
  process.title = `podns shim ${file.paths.id}`;
  log.info('taking the pod over', { pod: name });
  let release: (() => Promise<void>) | undefined;
  let supervisor: PodSupervisor;
  let control: ControlServer;
  try {
    release = await acquireTakeoverLock(runDir, name);
    // Read under the lock: another recovery may have finished just before.
    const state = readPodState(file.paths.stateFile);
    if (!state) throw new PodnsError('shim.takeover', `it has no state.json (it never finished starting); remove it with podns rm -f ${name}`);
    const refusal = takeoverRefusal(state);
    if (refusal) throw new PodnsError('shim.takeover', refusal);
    // Restarted containers will be our children; orphans of theirs come to us.
    becomeChildSubreaper();
    supervisor = new PodSupervisor(file.paths, file, log, state);
    supervisor.prepareTakeover();
    control = new ControlServer(supervisor, log, { starting: false });
    // The dead shim's socket file is still there; nobody answers on it.
    fs.rmSync(file.paths.socket, { force: true });
    await control.listen(file.paths.socket);
  } catch (err) {
    log.error('takeover failed', errorMessage(err));
    await release?.();
    return reportFailureAndExit(channel, errorMessage(err));
  }
  supervisor.completeTakeover();
  await release();
  report(channel, { ok: true });
  serveUntilStopped(supervisor, control, file);
}

function serveUntilStopped(supervisor: PodSupervisor, control: ControlServer, file: SpecFile): void {
  const shutdown = () => control.shutdown();
  supervisor.onStopped = shutdown;
  // SIGTERM to the shim itself: stop the pod with its grace period (as a node shutdown would).
  process.on('SIGTERM', () => void supervisor.stopPod(file.pod.spec.terminationGracePeriodSeconds).then(shutdown));
}

/**
 * shim.sock: JSON lines, one request and one response per connection. While the pod starts, `stop` and
 * `remove` cancel the start and are answered once it is undone; the start's failure path then exits.
 */
class ControlServer {
  private readonly server: net.Server;
  /** A start is in progress (false from the outset for a takeover: it listens only once it can commit). */
  private starting: boolean;
  private settle!: () => void;
  private readonly settled = new Promise<void>((resolve) => (this.settle = resolve));
  private readonly replies = new Set<Promise<void>>();

  constructor(
    private readonly supervisor: PodSupervisor,
    private readonly log: Logger,
    options: { starting: boolean },
  ) {
    this.starting = options.starting;
    if (!this.starting) this.settle();
    this.server = net.createServer((socket) => this.serve(socket));
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => resolve());
    });
  }

  /** The start is over: it succeeded, or its failure was undone. */
  startSettled(): void {
    this.starting = false;
    this.settle();
  }

  async flushReplies(): Promise<void> {
    await Promise.all([...this.replies]);
  }

  shutdown(): void {
    this.log.info('shim exiting');
    this.server.close();
    // Nothing of the pod is left to watch; `podns rm`/`stop` wait for this exit.
    process.exit(0);
  }

  private serve(socket: net.Socket): void {
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('error', () => {});
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const nl = buffer.indexOf(0x0a);
      if (nl < 0) return;
      const line = buffer.subarray(0, nl).toString('utf8');
      const rest = buffer.subarray(nl + 1);
      socket.off('data', onData);
      // attach keeps the connection: frames follow the request line (attach-protocol.ts).
      const attach = parseAttach(line);
      if (attach) return serveAttach(socket, this.supervisor, attach, rest);
      const replied = this.handle(line).then(
        ({ response, after }) =>
          new Promise<void>((resolve) => {
            socket.end(JSON.stringify(response) + '\n', () => {
              resolve();
              if (after === 'exit') this.shutdown();
            });
          }),
      );
      this.replies.add(replied);
      void replied.finally(() => this.replies.delete(replied));
    };
    socket.on('data', onData);
  }

  private async handle(line: string): Promise<{ response: ShimResponse; after?: 'exit' }> {
    const supervisor = this.supervisor;
    try {
      const request = JSON.parse(line) as ShimRequest;
      switch (request.op) {
        case 'status':
          return { response: { ok: true, state: supervisor.state } };
        case 'stop':
        case 'remove': {
          if (this.starting) return await this.cancelStart(request);
          if (request.op === 'remove') {
            await supervisor.remove(request.force);
            return { response: { ok: true }, after: 'exit' };
          }
          const grace = request.timeout ?? supervisor.gracePeriod;
          if (request.container) {
            await supervisor.stopContainer(request.container, grace);
            return { response: { ok: true, state: supervisor.state } };
          }
          await supervisor.stopPod(grace);
          return { response: { ok: true, state: supervisor.state }, after: 'exit' };
        }
        default:
          return { response: { ok: false, error: `unknown request ${JSON.stringify(request)}` } };
      }
    } catch (err) {
      return { response: { ok: false, error: err instanceof Error ? err.message : String(err) } };
    }
  }

  /** A stop or removal while the pod starts: the start is given up and undone (nothing is left), then answered. */
  private async cancelStart(request: Extract<ShimRequest, { op: 'stop' | 'remove' }>): Promise<{ response: ShimResponse }> {
    if (request.op === 'stop' && request.container) {
      return { response: { ok: false, error: "it is still starting: stop the whole pod, or stop -c once it runs" } };
    }
    this.supervisor.cancelStart(request.op === 'remove' ? 'podns rm' : 'podns stop');
    await this.settled;
    return { response: { ok: true } };
  }
}

function parseAttach(line: string): AttachRequest | undefined {
  try {
    const request = JSON.parse(line) as ShimRequest | AttachRequest;
    return request.op === 'attach' ? request : undefined;
  } catch {
    return undefined;
  }
}
