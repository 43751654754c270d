/**
 * remotecommand over SPDY (kubelet's createHTTPStreamStreams): the client opens one stream per channel, each
 * named by its `streamType` header (error, stdin, stdout, stderr, resize); the session starts once every stream
 * the request asked for is there — 1 (error) + stdin + stdout + stderr + resize (tty, v3+) — or the connection
 * closes after the stream creation timeout (30 s). A stream of an unknown type is accepted and ignored.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../log.js';
import type { CommandStreams } from './command-session.js';
import { encodeStatus, type ProtocolTraits } from './remotecommand.js';
import { SpdyConnection, type SpdyStream } from './spdy/connection.js';

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const STREAM_TYPES = new Set(['error', 'stdin', 'stdout', 'stderr', 'resize']);

export interface SpdyTimeouts {
  idleTimeoutMs: number;
  streamCreationTimeoutMs: number;
}

/** Serves the SPDY connection on `socket` (already upgraded); resolves with the streams once all are there. */
export function acceptSpdyCommandStreams(socket: Duplex, traits: ProtocolTraits, options: StreamOptions, timeouts: SpdyTimeouts, log: Logger): Promise<CommandStreams | undefined> {
  const expected = 1 + Number(options.stdin) + Number(options.stdout) + Number(options.stderr) + Number(options.tty && traits.resize);
  const byType = new Map<string, SpdyStream>();
  let received = 0;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log.info('streaming: the client did not create its streams in time', { have: [...byType.keys()], expected });
      connection.close();
      resolve(undefined);
    }, timeouts.streamCreationTimeoutMs);
    timer.unref();
    const connection = new SpdyConnection(
      socket,
      (stream) => {
        const type = stream.header('streamtype') ?? '';
        if (!STREAM_TYPES.has(type)) {
          log.debug('streaming: stream of an unexpected type ignored', { type });
          stream.resume();
          return;
        }
        byType.set(type, stream);
        if (++received < expected) return;
        clearTimeout(timer);
        resolve(commandStreams(connection, byType, traits));
      },
      { idleTimeoutMs: timeouts.idleTimeoutMs, onError: (err) => log.info('streaming: SPDY connection failed', { error: err.message }) },
    );
    void connection.closed.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

function commandStreams(connection: SpdyConnection, byType: Map<string, SpdyStream>, traits: ProtocolTraits): CommandStreams {
  const error = byType.get('error');
  // The client writes nothing on the error stream; what it might is not kept.
  error?.resume();
  return {
    stdin: byType.get('stdin'),
    stdout: byType.get('stdout'),
    stderr: byType.get('stderr'),
    resize: byType.get('resize'),
    gone: connection.closed,
    async finish(status) {
      const bytes = encodeStatus(status, traits);
      if (error && !error.destroyed) {
        await new Promise<void>((resolve) => {
          error.once('close', resolve);
          error.once('finish', resolve);
          if (bytes) error.write(bytes);
          error.end();
        });
      }
      connection.close();
    },
  };
}
