/**
 * SPDY/3 header compression (§2.6.10.1): each direction of a connection is ONE zlib stream, primed with the SPDY/3
 * dictionary, that runs across every header block sent that way; each block ends at a sync flush (Z_SYNC_FLUSH),
 * so the receiver can decode it at once. A block therefore depends on every block before it: blocks must be
 * compressed and decompressed in the order they go on the wire, which both classes here guarantee by queueing.
 * Node's zlib streams work off the event loop (asynchronously), so both return promises.
 */
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';

/** A decompressed header block larger than this is refused (a zlib bomb in a SYN_STREAM). */
export const MAX_HEADER_BLOCK = 256 * 1024;

abstract class ZlibQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private failed?: Error;
  private chunks: Buffer[] = [];
  private size = 0;
  private current?: { reject: (err: Error) => void };

  protected constructor(
    private readonly stream: zlib.Deflate | zlib.Inflate,
    private readonly limit: number,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size > this.limit) this.fail(new Error(`more than ${this.limit} bytes`));
    });
    stream.on('error', (err) => this.fail(err));
  }

  /** `input` through the stream up to a sync flush: everything it produced for it. */
  protected run(input: Buffer): Promise<Buffer> {
    const next = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failed) return reject(this.error());
          this.chunks = [];
          this.size = 0;
          this.current = { reject };
          this.stream.write(input);
          // The flush's callback runs after the stream has emitted all it produced for what was written before.
          this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.current = undefined;
            if (this.failed) return reject(this.error());
            resolve(Buffer.concat(this.chunks, this.size));
          });
        }),
    );
    this.tail = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.stream.destroy();
  }

  /** The stream is of no use after a failure: its state is lost, and so is every later block's. */
  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.chunks = [];
    this.current?.reject(this.error());
    this.current = undefined;
    this.stream.destroy();
  }

  private error(): SpdyProtocolError {
    return new SpdyProtocolError(`header block: ${this.failed!.message}`);
  }
}

/** Our side's stream: header blocks we send (SYN_REPLY). */
export class HeaderDeflater extends ZlibQueue {
  constructor() {
    // Best compression, as spdystream's framer (zlib.BestCompression).
    super(zlib.createDeflate({ level: 9, dictionary: SPDY3_DICTIONARY }), Number.MAX_SAFE_INTEGER);
  }

  compress(block: Buffer): Promise<Buffer> {
    return this.run(block);
  }
}

/** The peer's stream: header blocks we receive (SYN_STREAM, HEADERS). */
export class HeaderInflater extends ZlibQueue {
  constructor(limit = MAX_HEADER_BLOCK) {
    super(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }), limit);
  }

  decompress(compressed: Buffer): Promise<Buffer> {
    return this.run(compressed);
  }
}
