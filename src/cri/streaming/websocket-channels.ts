/**
 * Kubernetes' channel protocols over WebSocket (k8s.io/apimachinery/pkg/util/httpstream/wsstream): every message
 * starts with its channel number (one byte; with a base64.* protocol a digit, the rest base64, in text messages).
 * Each channel is read by the server, written by it, both, or ignored. v5 adds the CLOSE signal: a message
 * [255, n] from the client ends channel n's input (stdin's half-close). The WebSocket itself is the `ws` package's.
 *
 * Closing is the API server's (k8s.io/apiserver/pkg/util/proxy): after the last message a close frame, then the
 * client's own close is waited for (ws: 30 s at most), so nothing written is lost to a reset.
 */
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { WebSocket } from 'ws';

export type ChannelKind = 'ignore' | 'read' | 'write' | 'readwrite';

/** remotecommand.StreamClose: the v5 CLOSE signal's channel byte. */
const CLOSE_SIGNAL = 255;

export interface ChannelOptions {
  base64: boolean;
  /** v5: the client may close a channel with [255, n]. */
  closeSignal: boolean;
  /** No message either way for this long closes the connection (kubelet: 4 h). */
  idleTimeoutMs?: number;
}

export class ChannelConnection {
  private readonly readers: (PassThrough | undefined)[];
  private readonly writers: (Writable | undefined)[];
  private readonly idleTimer?: NodeJS.Timeout;
  private resolveClosed!: () => void;
  /** Settles when the WebSocket has closed. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    private readonly ws: WebSocket,
    kinds: ChannelKind[],
    private readonly options: ChannelOptions,
  ) {
    this.readers = kinds.map((k) => (k === 'read' || k === 'readwrite' ? new PassThrough({ highWaterMark: 64 * 1024 }) : undefined));
    this.writers = kinds.map((k, n) => (k === 'write' || k === 'readwrite' ? this.channelWriter(n) : undefined));
    if (options.idleTimeoutMs) {
      this.idleTimer = setTimeout(() => ws.terminate(), options.idleTimeoutMs);
      this.idleTimer.unref();
    }
    for (const reader of this.readers) {
      // A reader behind its buffer stops the WebSocket being read (TCP's backpressure), as a blocked Go pipe does.
      reader?.on('drain', () => this.resumeIfCaughtUp());
    }
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary));
    ws.on('close', () => {
      clearTimeout(this.idleTimer);
      for (const reader of this.readers) reader?.end();
      for (const writer of this.writers) writer?.destroy();
      this.resolveClosed();
    });
    ws.on('error', () => {});
  }

  /** What the client sends on channel `n` (absent unless it is read). */
  reader(n: number): Readable | undefined {
    return this.readers[n];
  }

  /** Channel `n` towards the client (absent unless it is written). */
  writer(n: number): Writable | undefined {
    return this.writers[n];
  }

  /** One message on channel `n` now, empty or not (the first empty message says the connection is up). */
  send(n: number, data: Buffer = Buffer.alloc(0), done?: (err?: Error) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return done?.(new Error('the WebSocket is closed'));
    this.idleTimer?.refresh();
    if (this.options.base64) this.ws.send(`${n}${data.toString('base64')}`, { binary: false }, done);
    else this.ws.send(Buffer.concat([Buffer.from([n]), data]), { binary: true }, done);
  }

  /** The end: a close frame (normal closure); the client answers with its own and the socket closes. */
  close(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
  }

  private channelWriter(n: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        // The callback runs once ws has handed the frame to the socket: backpressure for whoever writes here.
        this.send(n, chunk, (err) => callback(err ?? null));
      },
    });
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.idleTimer?.refresh();
    if (data.length === 0) return;
    if (this.options.closeSignal && data[0] === CLOSE_SIGNAL) {
      // wsstream: anything but [255, n] with a known n ends the connection's reading; here the message is dropped.
      if (data.length === 2) this.readers[data[1]!]?.end();
      return;
    }
    const base64 = this.options.base64 && !isBinary;
    const n = base64 ? data[0]! - 0x30 : data[0]!;
    const reader = this.readers[n];
    if (!reader || reader.writableEnded) return;
    const payload = base64 ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1);
    if (!reader.write(payload)) this.ws.pause();
  }

  private resumeIfCaughtUp(): void {
    if (this.readers.every((r) => !r || !r.writableNeedDrain)) this.ws.resume();
  }
}
