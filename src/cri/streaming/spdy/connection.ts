/**
 * The server side of a SPDY/3.1 connection, as Kubernetes' streaming speaks it (moby/spdystream under
 * k8s.io/apimachinery/pkg/util/httpstream/spdy): the client opens streams (odd ids, increasing) with SYN_STREAM,
 * the server accepts each with an empty SYN_REPLY or refuses it with RST_STREAM; each side half-closes its
 * direction with FIN; RST_STREAM ends a stream at once, GOAWAY the connection. The server never opens a stream.
 *
 * Behaviour kept from spdystream, which every client we meet (kubectl, the API server, kubelet) runs:
 * - Flow control: none. spdystream keeps no windows, never sends WINDOW_UPDATE and ignores the ones it gets (and
 *   SETTINGS), so a SPDY/3.1 window enforced here would stall every transfer at 64 KiB. Backpressure is TCP's:
 *   while a stream holds more unread data than its buffer, the whole connection stops being read, as spdystream's
 *   frame workers block on a stream nobody reads.
 * - Frames for a stream that is gone are dropped; PING from the client (odd id) is echoed; a stream the server
 *   already finished (FIN sent) is not reset again when the connection closes.
 * - close() is kubelet's conn.Close(): every stream reset (CANCEL), GOAWAY with the last good stream id, and the
 *   transport closed. Here our side of the transport ends (FIN) and the peer gets closeTimeoutMs to close its own,
 *   so that no reset of ours destroys output still on its way to the client.
 * - Idle: no frame either way for idleTimeoutMs (kubelet's StreamIdleTimeout, 4 h) resets everything.
 *
 * The transport is any Duplex: a TCP socket after an HTTP upgrade, or the byte stream tunnelled in a WebSocket
 * (portforward's SPDY/3.1+portforward.k8s.io).
 */
import { Duplex } from 'node:stream';
import {
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  Flag,
  FrameParser,
  GoAwayStatus,
  RstStatus,
  SpdyProtocolError,
  type Frame,
} from './frames.js';
import { decodeHeaderBlock, encodeHeaderBlock, type Headers } from './header-block.js';
import { HeaderDeflater, HeaderInflater } from './header-compression.js';

export interface SpdyConnectionOptions {
  /** No frame either way for this long resets every stream and closes (kubelet's StreamIdleTimeout: 4 h). */
  idleTimeoutMs?: number;
  /** After close() or the peer's GOAWAY: how long the peer has to close the transport before it is destroyed. */
  closeTimeoutMs?: number;
  /** Why the connection broke (a protocol error), for the log. */
  onError?: (err: Error) => void;
}

/** What one data frame carries at most from us: Go's io.Copy writes 32 KiB at a time, spdystream a frame each. */
const MAX_DATA_FRAME = 32 * 1024;
/** What a stream buffers for its reader before the connection stops being read (per stream). */
const STREAM_BUFFER = 64 * 1024;

export class SpdyConnection {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly parser: FrameParser;
  private readonly deflater = new HeaderDeflater();
  private readonly inflater = new HeaderInflater();
  /** The lowest id the client's next stream may have (client streams are odd and increase). */
  private nextRemoteId = 1;
  /** GOAWAY went either way: no new stream is accepted. */
  private goneAway = false;
  private ended = false;
  private destroyed = false;
  /** Frames in wire order; a SYN_REPLY is a promise until its header block is compressed. */
  private readonly outbound: (Buffer | Promise<Buffer>)[] = [];
  private waitingForHead = false;
  /** Received frames wait here while an earlier one's header block is being decompressed. */
  private readonly inbox: Frame[] = [];
  private inflating = false;
  /** Streams whose reader is behind: the transport is paused while any is. */
  private readonly behind = new Set<SpdyStream>();
  private readonly idleTimer?: NodeJS.Timeout;
  private closeTimer?: NodeJS.Timeout;
  private readonly closeTimeoutMs: number;
  private resolveClosed!: () => void;
  /** Settles when the transport has closed (for whatever reason). */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    private readonly transport: Duplex,
    private readonly onStream: (stream: SpdyStream) => void,
    private readonly options: SpdyConnectionOptions = {},
  ) {
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.parser = new FrameParser((frame) => this.receive(frame));
    if (options.idleTimeoutMs) {
      this.idleTimer = setTimeout(() => this.fail(undefined, 'idle'), options.idleTimeoutMs);
      this.idleTimer.unref();
    }
    transport.on('data', (chunk: Buffer) => {
      this.idleTimer?.refresh();
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    transport.on('end', () => this.teardown());
    transport.on('close', () => this.teardown());
    transport.on('error', () => this.teardown());
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * kubelet's conn.Close(): resets every stream we have not finished, says GOAWAY (the last stream accepted),
   * and ends our side of the transport once everything queued is written; the peer closes its own.
   */
  close(): void {
    if (this.ended || this.destroyed) return;
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.goAway(GoAwayStatus.ok);
    this.ended = true;
    this.flushOutbound();
  }

  // ----------------------------------------------------------------------------------------------------------
  // For SpdyStream

  /** @internal */
  sendData(stream: SpdyStream, data: Buffer, done: (err?: Error | null) => void): void {
    if (this.destroyed || this.ended) return done(new Error('the connection is closed'));
    for (let at = 0; at < data.length; at += MAX_DATA_FRAME) this.send(encodeData(stream.id, data.subarray(at, at + MAX_DATA_FRAME)));
    if (this.transport.writableNeedDrain) this.transport.once('drain', () => done());
    else done();
  }

  /** @internal FIN on our direction. */
  sendFin(stream: SpdyStream): void {
    if (!this.destroyed && !this.ended) this.send(encodeData(stream.id, Buffer.alloc(0), Flag.fin));
  }

  /** @internal */
  sendReset(stream: SpdyStream, status: number): void {
    if (!this.destroyed && !this.ended) this.send(encodeRstStream(stream.id, status));
  }

  /** @internal */
  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.readerCaughtUp(stream);
    // After a GOAWAY the connection lives only for the streams still open.
    if (this.goneAway && this.streams.size === 0 && !this.ended) {
      this.ended = true;
      this.flushOutbound();
    }
  }

  /** @internal The stream's reader has more than it buffers: stop reading the transport. */
  readerBehind(stream: SpdyStream): void {
    this.behind.add(stream);
    this.transport.pause();
  }

  /** @internal */
  readerCaughtUp(stream: SpdyStream): void {
    if (this.behind.delete(stream) && this.behind.size === 0 && !this.destroyed) this.transport.resume();
  }

  // ----------------------------------------------------------------------------------------------------------
  // Receiving

  private receive(frame: Frame): void {
    if (this.inflating) {
      this.inbox.push(frame);
      return;
    }
    this.handle(frame);
  }

  /** Frames are handled in order; one with a header block holds the rest until it is decompressed. */
  private handle(frame: Frame): void {
    if (this.destroyed) return;
    switch (frame.type) {
      case 'synStream':
      case 'synReply':
      case 'headers':
        this.inflating = true;
        this.inflater.decompress(frame.headerBlock).then(
          (block) => {
            this.inflating = false;
            try {
              this.handleHeaders(frame, decodeHeaderBlock(block));
            } catch (err) {
              return this.fail(err as Error);
            }
            while (!this.inflating && this.inbox.length && !this.destroyed) this.handle(this.inbox.shift()!);
          },
          (err: Error) => this.fail(err),
        );
        return;
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return; // gone (reset, or never accepted): dropped, as spdystream drops it
        if (frame.data.length) stream.receive(frame.data);
        if (frame.flags & Flag.fin) stream.receiveFin();
        return;
      }
      case 'rstStream':
        this.streams.get(frame.streamId)?.resetByPeer(frame.status);
        return;
      case 'ping':
        // Ours would be even (server); an odd id is the client's, answered with the same frame.
        if (frame.id % 2 === 1) this.send(encodePing(frame.id));
        return;
      case 'goAway':
        this.goneAway = true;
        if (this.streams.size === 0) this.close();
        return;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        // No flow control (see the header); unknown control frames are ignored (§2.2.1).
        return;
    }
  }

  private handleHeaders(frame: Extract<Frame, { type: 'synStream' | 'synReply' | 'headers' }>, headers: Headers): void {
    if (frame.type === 'synReply') return; // we open no stream; the block only kept the zlib streams in step
    if (frame.type === 'headers') {
      if (frame.flags & Flag.fin) this.streams.get(frame.streamId)?.receiveFin();
      return;
    }
    const id = frame.streamId;
    if (id % 2 === 0 || id < this.nextRemoteId) {
      this.send(encodeRstStream(id || 1, RstStatus.protocolError));
      return;
    }
    this.nextRemoteId = id + 2;
    if (this.goneAway || this.ended) {
      this.send(encodeRstStream(id, RstStatus.refusedStream));
      return;
    }
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    if (frame.flags & (Flag.fin | Flag.unidirectional)) stream.receiveFin();
    try {
      this.onStream(stream);
    } catch (err) {
      this.options.onError?.(err as Error);
      stream.destroy();
    }
    if (stream.destroyed) return; // refused by the handler (RST sent)
    const reply = this.deflater.compress(encodeHeaderBlock({})).then((block) => encodeSynReply(id, block));
    this.send(reply);
    stream.replied();
  }

  // ----------------------------------------------------------------------------------------------------------
  // Sending

  private send(frame: Buffer | Promise<Buffer>): void {
    if (this.destroyed) return;
    this.idleTimer?.refresh();
    this.outbound.push(frame);
    this.flushOutbound();
  }

  /** Writes the frames in order, up to one still being compressed; ends the transport after close(). */
  private flushOutbound(): void {
    while (this.outbound.length && !this.destroyed) {
      const head = this.outbound[0]!;
      if (head instanceof Promise) {
        if (this.waitingForHead) return;
        this.waitingForHead = true;
        head.then(
          (frame) => {
            this.waitingForHead = false;
            this.outbound[0] = frame;
            this.flushOutbound();
          },
          (err: Error) => this.fail(err),
        );
        return;
      }
      this.outbound.shift();
      this.transport.write(head);
    }
    if (this.ended && !this.destroyed && this.outbound.length === 0 && !this.closeTimer) {
      this.transport.end();
      this.closeTimer = setTimeout(() => this.teardown(), this.closeTimeoutMs);
      this.closeTimer.unref();
    }
  }

  private goAway(status: number): void {
    this.goneAway = true;
    this.send(encodeGoAway(this.nextRemoteId > 2 ? this.nextRemoteId - 2 : 0, status));
  }

  /** A protocol error, or the idle timeout: everything is reset and the connection goes. */
  private fail(err: Error | undefined, why?: 'idle'): void {
    if (this.destroyed) return;
    if (err) this.options.onError?.(err);
    for (const stream of [...this.streams.values()]) stream.destroy();
    if (!this.ended) {
      this.goAway(err instanceof SpdyProtocolError ? GoAwayStatus.protocolError : why === 'idle' ? GoAwayStatus.ok : GoAwayStatus.internalError);
      this.ended = true;
      this.flushOutbound();
    }
    this.teardown();
  }

  /** The transport is gone (or must go): every stream ends with an error, nothing more is sent. */
  private teardown(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.closeTimer);
    this.deflater.close();
    this.inflater.close();
    for (const stream of [...this.streams.values()]) stream.destroy(new Error('the connection closed'));
    this.streams.clear();
    // What is queued (the GOAWAY of fail()) is written before the socket goes.
    if (!this.transport.destroyed) this.transport.end(() => this.transport.destroy());
    setImmediate(() => this.transport.destroy());
    this.resolveClosed();
  }
}

/**
 * One SPDY stream as a Node Duplex: what the client sends is read from it (its FIN is the end), what is written
 * goes out as DATA frames, end() sends our FIN, destroy() resets it (RST_STREAM CANCEL) unless we had finished.
 * `headers` are the client's SYN_STREAM headers (names in lower case).
 */
export class SpdyStream extends Duplex {
  private localFinished = false;
  private remoteFinished = false;
  private resetSeen = false;
  private isReplied = false;
  private readonly waitingForReply: (() => void)[] = [];

  constructor(
    private readonly connection: SpdyConnection,
    readonly id: number,
    readonly headers: Headers,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: STREAM_BUFFER });
    // A reset or a lost connection is how a stream ends, not a fault of whoever holds it: without this, a
    // stream nobody listens on for 'error' would take the supervisor down when the client goes.
    this.on('error', () => {});
  }

  /** A header's first value. */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** @internal */
  replied(): void {
    this.isReplied = true;
    for (const run of this.waitingForReply.splice(0)) run();
  }

  /** @internal */
  receive(data: Buffer): void {
    if (this.remoteFinished || this.destroyed) return;
    if (!this.push(data)) this.connection.readerBehind(this);
  }

  /** @internal */
  receiveFin(): void {
    if (this.remoteFinished) return;
    this.remoteFinished = true;
    this.push(null);
    this.closeIfDone();
  }

  /** @internal */
  resetByPeer(status: number): void {
    this.resetSeen = true;
    this.destroy(new Error(`stream ${this.id} reset by the client (status ${status})`));
  }

  override _read(): void {
    this.connection.readerCaughtUp(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    // The handler may write before the SYN_REPLY is queued (from within onStream): DATA never precedes it.
    if (!this.isReplied) return void this.waitingForReply.push(() => this._write(chunk, _encoding, done));
    this.connection.sendData(this, chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    const fin = () => {
      this.localFinished = true;
      this.connection.sendFin(this);
      this.closeIfDone();
      done();
    };
    if (!this.isReplied) this.waitingForReply.push(fin);
    else fin();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // spdystream's resetStream: no RST for a stream whose sending side we already finished, nor after the peer's.
    if (!this.localFinished && !this.resetSeen) this.connection.sendReset(this, RstStatus.cancel);
    this.localFinished = true;
    this.connection.forget(this);
    done(err);
  }

  /** Both directions finished: the stream is over (spdystream removes it then). */
  private closeIfDone(): void {
    if (this.localFinished && this.remoteFinished) this.connection.forget(this);
  }
}
