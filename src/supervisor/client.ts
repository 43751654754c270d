/**
 * The CLI's side of the supervisor: reach it on `<run>/podns.sock`, starting it first when nobody answers there
 * (`podns serve --detached`, in a session of its own; it adopts every pod a dead supervisor left before it reports ready),
 * so that `sudo podns run pod.yaml` on a fresh machine needs no set-up step and a killed supervisor comes back
 * with the next command.
 */
import type net from 'node:net';
import { PodnsError } from '../errors.js';
import { supervisorPaths, type Roots } from '../state/paths.js';
import type { SupervisorRequest, SupervisorResponse } from './protocol.js';

/**
 * V8 flags of the supervisor: a young generation of 1 MB (16 MB by default). It allocates little per event and
 * lives long; the default semi-spaces grow with log traffic and stay, ~0.3 MB of a pod's supervision memory at
 * ten pods. Scavenges get more frequent (each well under a millisecond).
 */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=1'];

/** How long a supervisor being started may stay silent (no heartbeat, no report) before the CLI gives up. */
const START_SILENCE_MS = 30_000;

export class SupervisorUnreachable extends PodnsError {}

/** Connects to the socket; ENOENT/ECONNREFUSED (nobody serves it) reject with SupervisorUnreachable. */
export function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // Through getBuiltinModule: an ESM import of node:net builds its namespace too (~0.5 ms of every command).
    const socket = process.getBuiltinModule('node:net').createConnection(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(new SupervisorUnreachable('supervisor.connect', `no supervisor answers on ${socketPath} (${err.code ?? err.message})`));
    });
  });
}

/** A connection to the root's supervisor, started first when it does not run. */
export async function connectSupervisor(roots: Roots): Promise<net.Socket> {
  const { socket } = supervisorPaths(roots);
  try {
    return await connect(socket);
  } catch (err) {
    if (!(err instanceof SupervisorUnreachable)) throw err;
  }
  await startSupervisor(roots);
  return connect(socket);
}

/** Starts `podns serve --detached` for `roots` and waits until it serves (it adopts left pods first). */
export async function startSupervisor(roots: Roots): Promise<void> {
  const paths = supervisorPaths(roots);
  // Loaded only here (node:child_process, node:url): most commands find the supervisor running.
  const [{ mkdirSync }, { startDetached }, { projectPath }, { parseReportLine }] = await Promise.all([
    import('node:fs'),
    import('../sys/detached.js'),
    import('../sys/project-path.js'),
    import('./start-report.js'),
  ]);
  mkdirSync(roots.run, { recursive: true, mode: 0o700 });
  const argv = [process.execPath, ...SUPERVISOR_NODE_FLAGS, projectPath('dist/cli/main.js'), ...(roots.base ? ['--root', roots.base] : []), 'serve', '--detached'];
  const helper = startDetached(argv, paths.log);
  const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
    let silence = setTimeout(() => resolve({ ok: false, error: `it gave no sign of life for ${START_SILENCE_MS / 1000} s` }), START_SILENCE_MS);
    helper.onLine((line) => {
      const message = parseReportLine(line);
      if (!message) return;
      clearTimeout(silence);
      if ('ok' in message) resolve(message);
      else silence = setTimeout(() => resolve({ ok: false, error: `it gave no sign of life for ${START_SILENCE_MS / 1000} s` }), START_SILENCE_MS);
    });
    void helper.report.then(() => {
      clearTimeout(silence);
      resolve({ ok: false, error: `it exited without reporting (see ${paths.log})` });
    });
  });
  if (!outcome.ok) throw new PodnsError('supervisor.start', `could not start the supervisor for ${roots.run}: ${outcome.error}`);
}

/** One request, one answer line (the supervisor is started first when needed). */
export async function callSupervisor(roots: Roots, request: SupervisorRequest, timeoutMs = 0): Promise<SupervisorResponse> {
  const socket = await connectSupervisor(roots);
  return requestOn(socket, request, timeoutMs);
}

/** Sends `request` on a connected socket and reads the one answer line; `timeoutMs` 0 waits as long as it takes. */
export function requestOn(socket: net.Socket, request: SupervisorRequest, timeoutMs = 0): Promise<SupervisorResponse> {
  return new Promise((resolve, reject) => {
    let data = '';
    const timer = timeoutMs > 0 ? setTimeout(() => {
      socket.destroy();
      reject(new PodnsError('supervisor.call', `the supervisor did not answer "${request.op}" within ${timeoutMs / 1000} s`));
    }, timeoutMs) : undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new PodnsError('supervisor.call', `the connection to the supervisor failed: ${err.message}`));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as SupervisorResponse);
      } catch {
        reject(new PodnsError('supervisor.call', 'the supervisor closed the connection without an answer (did it die? see its supervisor.log)'));
      }
    });
    socket.write(JSON.stringify(request) + '\n');
  });
}
