/**
 * The HTTP/2 `:authority` of a CRI client, made acceptable to Node's HTTP/2 server.
 *
 * Go gRPC clients dialling a unix socket without grpc.WithAuthority send the socket path as `:authority`
 * (kubelet and crictl before k8s.io/cri-client, 1.31: kubernetes#123463). nghttp2, under Node's http2 and so
 * grpc-js, checks the authority's characters and resets such a stream with PROTOCOL_ERROR before gRPC sees it;
 * containerd's Go server takes any authority. The CRI serves one socket and never reads the authority, so
 * podns sets every request's `:authority` to `localhost` on its way in, which is what current clients send.
 *
 * Rewriting a header inside HPACK without a full decoder: the server's first SETTINGS is passed to the client
 * with SETTINGS_HEADER_TABLE_SIZE 0, so the client's encoder keeps no dynamic table (its header blocks refer only
 * to the static table, and nothing a block says depends on what an earlier one held); in each request's header
 * block the `:authority` literal (static name index 1) gets the plain value `localhost`. A client that sent a
 * block before it read those SETTINGS may have indexed entries then: they stay aligned with the server's table,
 * because nothing is evicted from a 4096-byte table by the few headers of a first request, and its next block
 * empties both tables (the size update RFC 7541 §4.2 requires). Everything else passes byte for byte.
 *
 * ClientStreamRewriter and ServerStreamRewriter are pure, incremental transforms of the two byte streams;
 * authorityRewritten puts them between a client's socket and grpc-js (endpoint.ts).
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;
const TYPE = { HEADERS: 0x1, SETTINGS: 0x4, CONTINUATION: 0x9 } as const;
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
/** The frame size every HTTP/2 peer accepts (SETTINGS_MAX_FRAME_SIZE's initial value). */
const MAX_FRAME = 16384;
/** HPACK static table index of `:authority`. */
const AUTHORITY = 1;
const LOCALHOST = Buffer.from('localhost', 'latin1');

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits a byte stream into whole frames, after an optional preface; keeps the rest for the next chunk. */
class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft: number;

  constructor(preface: boolean) {
    this.prefaceLeft = preface ? PREFACE.length : 0;
  }

  /** The preface bytes at the front of `chunk` (passed through as they are), then whole frames. */
  push(chunk: Buffer): { preface: Buffer; frames: Frame[]; notHttp2: boolean } {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let preface: Buffer = Buffer.alloc(0);
    if (this.prefaceLeft > 0) {
      const take = Math.min(this.prefaceLeft, data.length);
      preface = data.subarray(0, take);
      const offset = PREFACE.length - this.prefaceLeft;
      if (!preface.equals(PREFACE.subarray(offset, offset + take))) return { preface: data, frames: [], notHttp2: true };
      this.prefaceLeft -= take;
      data = data.subarray(take);
    }
    const frames: Frame[] = [];
    let i = 0;
    while (data.length - i >= FRAME_HEADER) {
      const length = data.readUIntBE(i, 3);
      if (data.length - i < FRAME_HEADER + length) break;
      frames.push({ type: data[i + 3]!, flags: data[i + 4]!, streamId: data.readUInt32BE(i + 5) & 0x7fffffff, payload: data.subarray(i + FRAME_HEADER, i + FRAME_HEADER + length) });
      i += FRAME_HEADER + length;
    }
    this.pending = Buffer.from(data.subarray(i));
    return { preface, frames, notHttp2: false };
  }
}

function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** The client's side: each request's header block with `:authority: localhost`. */
export class ClientStreamRewriter {
  private readonly reader = new FrameReader(true);
  private passThrough = false;
  /** A header block still waiting for its CONTINUATION frames. */
  private open?: { streamId: number; flags: number; priority: Buffer; fragments: Buffer[] };

  push(chunk: Buffer): Buffer {
    if (this.passThrough) return chunk;
    const { preface, frames, notHttp2 } = this.reader.push(chunk);
    if (notHttp2) {
      // Not an HTTP/2 client: left to the server to refuse, unchanged.
      this.passThrough = true;
      return preface;
    }
    const out: Buffer[] = [preface];
    for (const f of frames) out.push(...this.frame(f));
    return Buffer.concat(out);
  }

  private frame(f: Frame): Buffer[] {
    if (f.type === TYPE.HEADERS) {
      let body = f.payload;
      let pad = 0;
      if (f.flags & FLAG.PADDED) {
        pad = body[0] ?? 0;
        body = body.subarray(1);
      }
      const priority = f.flags & FLAG.PRIORITY ? body.subarray(0, 5) : Buffer.alloc(0);
      const fragment = body.subarray(priority.length, body.length - pad);
      this.open = { streamId: f.streamId, flags: f.flags & (FLAG.END_STREAM | FLAG.PRIORITY), priority, fragments: [fragment] };
    } else if (f.type === TYPE.CONTINUATION && this.open?.streamId === f.streamId) {
      this.open.fragments.push(f.payload);
    } else {
      return [encodeFrame(f.type, f.flags, f.streamId, f.payload)];
    }
    if (!(f.flags & FLAG.END_HEADERS)) return [];
    const { streamId, flags, priority, fragments } = this.open;
    this.open = undefined;
    return headerFrames(streamId, flags, priority, rewriteAuthority(Buffer.concat(fragments)));
  }
}

/** A header block as HEADERS (+ CONTINUATION) frames no larger than every peer accepts. */
function headerFrames(streamId: number, flags: number, priority: Buffer, block: Buffer): Buffer[] {
  const first = MAX_FRAME - priority.length;
  const frames: Buffer[] = [Buffer.concat([priority, block.subarray(0, first)])];
  for (let i = first; i < block.length; i += MAX_FRAME) frames.push(block.subarray(i, i + MAX_FRAME));
  return frames.map((payload, n) =>
    encodeFrame(n === 0 ? TYPE.HEADERS : TYPE.CONTINUATION, (n === 0 ? flags : 0) | (n === frames.length - 1 ? FLAG.END_HEADERS : 0), streamId, payload),
  );
}

/** The server's side: every SETTINGS it sends says SETTINGS_HEADER_TABLE_SIZE 0. */
export class ServerStreamRewriter {
  private readonly reader = new FrameReader(false);

  push(chunk: Buffer): Buffer {
    const { frames } = this.reader.push(chunk);
    return Buffer.concat(frames.map((f) => encodeFrame(f.type, f.flags, f.streamId, f.type === TYPE.SETTINGS && !(f.flags & FLAG.ACK) ? noHeaderTable(f.payload) : f.payload)));
  }
}

function noHeaderTable(payload: Buffer): Buffer {
  const entries: Buffer[] = [];
  for (let i = 0; i + 6 <= payload.length; i += 6) if (payload.readUInt16BE(i) !== SETTINGS_HEADER_TABLE_SIZE) entries.push(payload.subarray(i, i + 6));
  const size = Buffer.alloc(6);
  size.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 0);
  size.writeUInt32BE(0, 2);
  return Buffer.concat([...entries, size]);
}

/** An HPACK integer with an N-bit prefix at `at`: its value and where it ends (RFC 7541 §5.1). */
function readInt(block: Buffer, at: number, prefixBits: number): [number, number] {
  const max = (1 << prefixBits) - 1;
  let value = block[at]! & max;
  let i = at + 1;
  if (value < max) return [value, i];
  for (let shift = 0; ; shift += 7) {
    if (i >= block.length || shift > 28) throw new RangeError('HPACK integer');
    const b = block[i++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [value, i];
  }
}

/** Where an HPACK string literal at `at` ends (RFC 7541 §5.2). */
function stringEnd(block: Buffer, at: number): number {
  if (at >= block.length) throw new RangeError('HPACK string');
  const [length, start] = readInt(block, at, 7);
  if (start + length > block.length) throw new RangeError('HPACK string');
  return start + length;
}

/**
 * The header block with each `:authority` literal's value replaced by a plain `localhost`; anything it cannot
 * parse is returned unchanged (the server then judges it as sent).
 */
export function rewriteAuthority(block: Buffer): Buffer {
  const out: Buffer[] = [];
  try {
    let i = 0;
    while (i < block.length) {
      const b = block[i]!;
      if (b & 0x80 || (b & 0xe0) === 0x20) {
        // Indexed field (§6.1) or dynamic table size update (§6.3): copied.
        const [, end] = readInt(block, i, b & 0x80 ? 7 : 5);
        out.push(block.subarray(i, end));
        i = end;
        continue;
      }
      // A literal (§6.2): with incremental indexing (01), without indexing (0000) or never indexed (0001).
      const [index, afterIndex] = readInt(block, i, (b & 0xc0) === 0x40 ? 6 : 4);
      const afterName = index === 0 ? stringEnd(block, afterIndex) : afterIndex;
      const end = stringEnd(block, afterName);
      if (index === AUTHORITY) out.push(block.subarray(i, afterName), Buffer.from([LOCALHOST.length]), LOCALHOST);
      else out.push(block.subarray(i, end));
      i = end;
    }
  } catch {
    return block;
  }
  return Buffer.concat(out);
}

/**
 * The client's connection as grpc-js reads it: what the client sends through ClientStreamRewriter, what the
 * server sends through ServerStreamRewriter; either side's end or error ends both.
 */
export function authorityRewritten(socket: net.Socket): Duplex {
  const { Duplex } = process.getBuiltinModule('node:stream');
  const fromClient = new ClientStreamRewriter();
  const toClient = new ServerStreamRewriter();
  const connection: Duplex = new Duplex({
    read: () => {
      socket.resume();
    },
    write: (chunk: Buffer, _encoding, done) => {
      const out = toClient.push(chunk);
      if (out.length === 0 || socket.write(out)) done();
      else socket.once('drain', () => done());
    },
    final: (done) => {
      socket.end();
      done();
    },
    destroy: (err, done) => {
      socket.destroy();
      done(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    const out = fromClient.push(chunk);
    if (out.length && !connection.push(out)) socket.pause();
  });
  socket.on('end', () => connection.push(null));
  socket.on('error', (err) => connection.destroy(err));
  socket.on('close', () => connection.destroy());
  return connection;
}
