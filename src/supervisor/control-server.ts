/**
 * The supervisor's control socket: reads one request line per connection (protocol.ts), hands it to the
 * Supervisor, writes the answer. Every request is answered on its own connection whatever happens to others;
 * an error is an answer (`{"ok":false,...}`), never a crash.
 */
import net from 'node:net';
import { PodnsError, UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { serveAttach } from './attach-server.js';
import type { SupervisorInfo, SupervisorRequest, SupervisorResponse } from './protocol.js';
import { startHeartbeat } from './start-report.js';
import type { Supervisor } from './supervisor.js';

/** A request line longer than this is not a request (a run's is a path, an attach's a few names). */
const MAX_REQUEST = 64 * 1024;

export class ControlServer {
  private readonly server: net.Server;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly log: Logger,
    private readonly info: () => SupervisorInfo,
    private readonly shutdown: () => void,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): void {
    this.server.close();
  }

  private accept(socket: net.Socket): void {
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('error', () => {});
    const onData = (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      const nl = buffer.indexOf(0x0a);
      if (nl < 0) {
        if (buffer.length > MAX_REQUEST) socket.destroy();
        return;
      }
      socket.off('data', onData);
      let request: SupervisorRequest;
      try {
        request = JSON.parse(buffer.subarray(0, nl).toString('utf8')) as SupervisorRequest;
      } catch {
        socket.end(JSON.stringify({ ok: false, error: 'not a JSON request line' } satisfies SupervisorResponse) + '\n');
        return;
      }
      const rest = buffer.subarray(nl + 1);
      if (request.op === 'attach') return this.attach(socket, request, rest);
      if (request.op === 'run') return void this.run(socket, request.runDir);
      void this.answer(socket, request);
    };
    socket.on('data', onData);
  }

  /** `run`: heartbeats while the pod starts (a start may take long), then the report line. */
  private async run(socket: net.Socket, runDir: string): Promise<void> {
    startHeartbeat(socket);
    // The client going away before the report (Ctrl-C, or it died) abandons the start.
    let reported = false;
    const cancelled = new Promise<void>((resolve) => socket.once('close', () => !reported && resolve()));
    let line: object;
    try {
      await this.supervisor.run(runDir, cancelled);
      line = { ok: true };
    } catch (err) {
      line = failure(err);
    }
    reported = true;
    if (!socket.destroyed) socket.end(JSON.stringify(line) + '\n');
  }

  private attach(socket: net.Socket, request: Extract<SupervisorRequest, { op: 'attach' }>, rest: Buffer): void {
    try {
      serveAttach(socket, (listener) => this.supervisor.attach(request.pod, request.container, listener, request.stdin), request, rest);
    } catch (err) {
      socket.end(JSON.stringify(failure(err)) + '\n');
    }
  }

  private async answer(socket: net.Socket, request: Exclude<SupervisorRequest, { op: 'run' | 'attach' }>): Promise<void> {
    let response: SupervisorResponse;
    let after: (() => void) | undefined;
    try {
      switch (request.op) {
        case 'status': {
          const state = this.supervisor.status(request.pod);
          response = state ? { ok: true, state } : { ok: false, error: `pod "${request.pod}" is not supervised`, code: 'ENOPOD' };
          break;
        }
        case 'stop':
          response = { ok: true, state: await this.supervisor.stop(request.pod, request.container, request.timeout) };
          break;
        case 'remove':
          await this.supervisor.remove(request.pod, request.force);
          response = { ok: true };
          break;
        case 'info':
          response = { ok: true, info: this.info() };
          break;
        case 'stream':
          response = { ok: true, url: await this.supervisor.stream(request) };
          break;
        case 'shutdown':
          response = { ok: true };
          after = this.shutdown;
          break;
        default:
          response = { ok: false, error: `unknown request ${JSON.stringify(request)}` };
      }
    } catch (err) {
      this.log.debug('request failed', { op: request.op, error: err instanceof Error ? err.message : String(err) });
      response = failure(err);
    }
    if (socket.destroyed) return after?.();
    socket.end(JSON.stringify(response) + '\n', () => after?.());
  }
}

function failure(err: unknown): SupervisorResponse {
  if (err instanceof UserError) return { ok: false, error: err.message, code: err.code, step: err.step };
  if (err instanceof PodnsError) return { ok: false, error: err.message, step: err.step };
  return { ok: false, error: err instanceof Error ? err.message : String(err) };
}
