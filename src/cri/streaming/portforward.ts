/**
 * Port forwarding (kubelet's pkg/cri/streaming/portforward), to localhost:port of a pod sandbox:
 *
 * SPDY (portforward.k8s.io; also what the WebSocket tunnel SPDY/3.1+portforward.k8s.io carries): one connection
 * serves any number of forwarded connections. Each is a pair of client streams with the same `requestID` header
 * (older clients without one are paired by stream id, as kubelet does): `streamType: error` and
 * `streamType: data`, both with a `port` header. Once both are there (within the stream creation timeout) the
 * data stream is joined to a new TCP connection to the port — each direction's end is passed on as a half-close
 * — and both streams are closed when it is over. A failure to connect is a message on the error stream, as
 * kubelet's "error forwarding port P to pod ID, uid : why"; a reset or EPIPE from the port resets the streams.
 *
 * WebSocket, the older channel form (v4.channel.k8s.io, v4.base64.channel.k8s.io, or none): the ports are the
 * request's; channel 2i is port i's data (both ways), 2i+1 its errors; each channel's first message is the port
 * (16 bits, little-endian); one TCP connection per port, and the WebSocket closes when all are over.
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import type { SpdyStream } from './spdy/connection.js';
import { SpdyConnection } from './spdy/connection.js';
import type { StreamingRuntime } from './streaming-runtime.js';
import { ChannelConnection, type ChannelKind } from './websocket-channels.js';

export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';
/** client-go's WebsocketsSPDYTunnelingPrefix + the SPDY protocol: SPDY frames in binary WebSocket messages. */
export const PORTFORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORTFORWARD_PROTOCOL}`;
export const PORTFORWARD_WEBSOCKET_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'] as const;

export interface PortForwardTimeouts {
  idleTimeoutMs: number;
  streamCreationTimeoutMs: number;
}

interface StreamPair {
  requestId: string;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Serves port forwarding on an upgraded SPDY transport (a TCP socket, or the WebSocket tunnel's byte stream). */
export function serveSpdyPortForward(transport: Duplex, runtime: StreamingRuntime, sandboxId: string, timeouts: PortForwardTimeouts, log: Logger): SpdyConnection {
  const pairs = new Map<string, StreamPair>();
  const connection = new SpdyConnection(
    transport,
    (stream) => {
      // kubelet's httpStreamReceived: a stream without a valid port or type is refused.
      const port = Number(stream.header('port'));
      const type = stream.header('streamtype');
      if (!Number.isInteger(port) || port < 1 || port > 65535 || (type !== 'error' && type !== 'data')) {
        log.info('portforward: stream refused', { port: stream.header('port'), streamType: type });
        stream.destroy();
        return;
      }
      // Without a requestID (old clients) the pair is the error stream and the next one, as kubelet guesses it.
      const requestId = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
      let pair = pairs.get(requestId);
      if (!pair) {
        const created: StreamPair = {
          requestId,
          timer: setTimeout(() => {
            pairs.delete(requestId);
            printError(created, `(conn=${sandboxId}, request=${requestId}) timed out waiting for streams`);
            created.error?.end();
            created.data?.destroy();
          }, timeouts.streamCreationTimeoutMs),
        };
        created.timer.unref();
        pair = created;
        pairs.set(requestId, pair);
      }
      stream.on('error', () => {});
      if (pair[type]) {
        printError(pair, `error processing stream for request ${requestId}: ${type} stream already assigned`);
        stream.destroy();
        return;
      }
      pair[type] = stream;
      if (type === 'error') stream.resume(); // the client sends nothing on it; it only reads
      if (pair.data && pair.error) {
        clearTimeout(pair.timer);
        pairs.delete(requestId);
        void forwardPair(pair.data, pair.error, port, runtime, sandboxId, log);
      }
    },
    { idleTimeoutMs: timeouts.idleTimeoutMs, onError: (err) => log.info('portforward: SPDY connection failed', { error: err.message }) },
  );
  void connection.closed.then(() => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
  });
  return connection;
}

function printError(pair: StreamPair, message: string): void {
  if (pair.error && !pair.error.destroyed && !pair.error.writableEnded) pair.error.write(message);
}

async function forwardPair(data: SpdyStream, error: SpdyStream, port: number, runtime: StreamingRuntime, sandboxId: string, log: Logger): Promise<void> {
  let target: Duplex;
  try {
    target = await runtime.portForward(sandboxId, port);
  } catch (err) {
    const message = `error forwarding port ${port} to pod ${sandboxId}, uid : ${(err as Error).message}`;
    log.info('portforward failed', { pod: sandboxId, port, error: (err as Error).message });
    if (!error.destroyed) error.end(message);
    if (!data.destroyed) data.end();
    data.resume();
    return;
  }
  // Once the port has closed its side nothing more can go wrong: the error stream ends at once, which is what
  // kubectl waits for before it closes its own side (and FINs the data stream).
  const outcome = await join(data, target, { graceMs: END_GRACE_MS, onTargetEnd: () => error.end() });
  if (outcome === 'reset') {
    // kubelet: ECONNRESET or EPIPE from the port resets both streams.
    data.destroy();
    error.destroy();
    return;
  }
  if (!data.destroyed) data.end();
  if (!error.destroyed) error.end();
}

/** After the port closed its side, how long the client has to close its own (containerd's 1 s). */
const END_GRACE_MS = 1000;

/**
 * Copies both ways with backpressure. The client's end is passed on to the port as a half-close (shutdown), the
 * port's to the client (FIN); after the port's, the client has `graceMs` to end too. Resolves when both are done
 * ('done'), the port reset the connection ('reset'), or either side went away.
 */
export function join(stream: Duplex, target: Duplex, options: { graceMs: number; onTargetEnd?: () => void }): Promise<'done' | 'reset'> {
  return new Promise((resolve) => {
    let clientEnded = false;
    let targetEnded = false;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const settle = (how: 'done' | 'reset') => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      if (!target.destroyed) target.destroy();
      resolve(how);
    };
    stream.pipe(target);
    target.pipe(stream, { end: false });
    stream.once('end', () => {
      clientEnded = true;
      if (targetEnded) settle('done');
    });
    target.once('end', () => {
      targetEnded = true;
      stream.end();
      options.onTargetEnd?.();
      if (clientEnded) return settle('done');
      grace = setTimeout(() => settle('done'), options.graceMs);
    });
    target.on('error', (err: NodeJS.ErrnoException) => settle(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'done'));
    target.once('close', () => {
      if (!targetEnded) settle('done');
    });
    stream.on('error', () => settle('done'));
    stream.once('close', () => settle('done'));
  });
}

/** The older WebSocket channel form: one TCP connection per port of the request. */
export async function serveWebSocketPortForward(ws: WebSocket, base64: boolean, ports: number[], runtime: StreamingRuntime, sandboxId: string, idleTimeoutMs: number, log: Logger): Promise<void> {
  const kinds: ChannelKind[] = ports.flatMap((): ChannelKind[] => ['readwrite', 'write']);
  const channels = new ChannelConnection(ws, kinds, { base64, closeSignal: false, idleTimeoutMs });
  await Promise.all(
    ports.map(async (port, i) => {
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port);
      channels.send(2 * i, portBytes);
      channels.send(2 * i + 1, portBytes);
      const data = duplexOf(channels, 2 * i);
      const errors = channels.writer(2 * i + 1)!;
      try {
        const target = await runtime.portForward(sandboxId, port);
        // No half-close on a channel: the port's end is the end.
        await join(data, target, { graceMs: 0 });
      } catch (err) {
        log.info('portforward failed', { pod: sandboxId, port, error: (err as Error).message });
        errors.write(`error forwarding port ${port} to pod ${sandboxId}, uid : ${(err as Error).message}`);
        channels.reader(2 * i)?.resume();
      }
    }),
  );
  channels.close();
}

/** A read-write channel as one Duplex (its reader and writer). */
function duplexOf(channels: ChannelConnection, n: number): Duplex {
  const reader = channels.reader(n)!;
  const writer = channels.writer(n)!;
  // Duplex.from pairs them: reads come from the reader, writes go to the writer; end() ends nothing on the
  // WebSocket (a channel has no half-close before v5, and port-forward has no v5).
  return Duplex.from({ readable: reader, writable: writer });
}
