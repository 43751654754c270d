/**
 * `podns shim <run-dir>`: the per-pod supervisor process (containerd-shim's role). Started detached by
 * `podns run`, in its own session, stdout/stderr on shim.log. It reports the start's outcome on fd 3 (heartbeat
 * lines while it starts, then one final JSON line; EOF without one means it died), then serves the control
 * socket until the pod is stopped.
 */
import fs from 'node:fs';
import net from 'node:net';
import { createLogger } from '../log.js';
import { PodnsError } from '../errors.js';
import { readJsonIfExists } from '../state/atomic-file.js';
import type { PodPaths } from '../state/paths.js';
import type { PodSpecFile } from '../state/pod-state.js';
import { becomeChildSubreaper } from '../sys/native.js';
import type { ShimRequest, ShimResponse } from './control-protocol.js';
import { PodSupervisor } from './pod-supervisor.js';
import type { AttachRequest } from './attach-protocol.js';
import { serveAttach } from './attach-server.js';
import { startHeartbeat } from './start-report.js';

/** fd 3: a socket to `podns run`, which sends the pod's run dir and reads back heartbeats and one report line. */
const CHANNEL_FD = 3;

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

/** A start that failed is over once it is reported: nothing of the pod is left for this process to do. */
function reportFailure(channel: net.Socket, message: object): void {
  channel.on('error', () => process.exit(1));
  channel.end(JSON.stringify({ ok: false, ...message }) + '\n', () => process.exit(1));
}

function errorMessage(err: unknown): { error: string; step?: string; stack?: string } {
  if (err instanceof PodnsError) return { error: err.message, step: err.step, stack: err.stack };
  return { error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined };
}

export async function runShim(startLog: string): Promise<void> {
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
  const file = readJsonIfExists<PodSpecFile & { paths: PodPaths }>(`${runDir}/spec.json`);
  if (!file) {
    reportFailure(channel, { error: `shim: no spec.json in ${runDir}` });
    process.exitCode = 1;
    return;
  }
  fs.renameSync(startLog, file.paths.shimLog);
  process.title = `podns shim ${file.paths.id}`;
  // The pod's processes are our children (CLONE_PARENT); orphans of theirs come to us, not to init.
  becomeChildSubreaper();
  let supervisor: PodSupervisor;
  try {
    supervisor = new PodSupervisor(file.paths, file, log);
  } catch (err) {
    log.error('bad pod spec', errorMessage(err));
    fs.rmSync(runDir, { recursive: true, force: true });
    reportFailure(channel, errorMessage(err));
    process.exitCode = 1;
    return;
  }
  try {
    await supervisor.start();
  } catch (err) {
    log.error('start failed', errorMessage(err));
    await supervisor.abort().catch((e) => log.error('abort failed', errorMessage(e)));
    reportFailure(channel, errorMessage(err));
    process.exitCode = 1;
    return;
  }

  const server = net.createServer((socket) => serve(socket, supervisor, shutdown));
  function shutdown(): void {
    log.info('shim exiting');
    server.close();
    // Nothing of the pod is left to watch; `podns rm`/`stop` wait for this exit.
    process.exit(0);
  }
  supervisor.onStopped = shutdown;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file.paths.socket, () => resolve());
  });
  report(channel, { ok: true });
  log.info('pod running', { pod: supervisor.state.name });
  // SIGTERM to the shim itself: stop the pod with its grace period (as a node shutdown would).
  process.on('SIGTERM', () => void supervisor.stopPod(file.pod.spec.terminationGracePeriodSeconds).then(shutdown));
}

function serve(socket: net.Socket, supervisor: PodSupervisor, shutdown: () => void): void {
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
    if (attach) return serveAttach(socket, supervisor, attach, rest);
    void handle(line, supervisor).then(({ response, after }) => {
      socket.end(JSON.stringify(response) + '\n', () => {
        if (after === 'exit') shutdown();
      });
    });
  };
  socket.on('data', onData);
}

function parseAttach(line: string): AttachRequest | undefined {
  try {
    const request = JSON.parse(line) as ShimRequest | AttachRequest;
    return request.op === 'attach' ? request : undefined;
  } catch {
    return undefined;
  }
}

async function handle(line: string, supervisor: PodSupervisor): Promise<{ response: ShimResponse; after?: 'exit' }> {
  try {
    const request = JSON.parse(line) as ShimRequest;
    switch (request.op) {
      case 'status':
        return { response: { ok: true, state: supervisor.state } };
      case 'stop': {
        const grace = request.timeout;
        if (request.container) {
          await supervisor.stopContainer(request.container, grace ?? supervisor.gracePeriod);
          return { response: { ok: true, state: supervisor.state } };
        }
        await supervisor.stopPod(grace ?? supervisor.gracePeriod);
        return { response: { ok: true, state: supervisor.state }, after: 'exit' };
      }
      case 'remove':
        await supervisor.remove(request.force);
        return { response: { ok: true }, after: 'exit' };
      default:
        return { response: { ok: false, error: `unknown request ${JSON.stringify(request)}` } };
    }
  } catch (err) {
    return { response: { ok: false, error: err instanceof Error ? err.message : String(err) } };
  }
}
