/**
 * SPDY/3.1 frames on the wire (draft-mbelshe-httpbis-spdy-00 §2.2, and SPDY/3.1's session WINDOW_UPDATE): their
 * encoding and a parser that cuts a byte stream into frames whatever its chunking. Header blocks stay compressed
 * here (header-compression.ts inflates them, in order, on the connection's zlib stream).
 *
 *   control frame  |1| version (15) | type (16) |  flags (8) | length (24) |  payload
 *   data frame     |0| stream id (31)           |  flags (8) | length (24) |  data
 *
 * All integers are big-endian; stream ids are 31 bits (the top bit is reserved and ignored on reading).
 */

export const SPDY_VERSION = 3;

export const ControlType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** FLAG_FIN (control and data frames), FLAG_UNIDIRECTIONAL (SYN_STREAM). */
export const Flag = { fin: 0x01, unidirectional: 0x02 } as const;

/** RST_STREAM status codes (§2.6.3). */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

/** GOAWAY status codes (§2.6.6). */
export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

/** The largest payload a frame's 24-bit length can say. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

const STREAM_ID_MASK = 0x7fffffff;

export interface SettingsEntry {
  flags: number;
  id: number;
  value: number;
}

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedTo: number; priority: number; slot: number; flags: number; headerBlock: Buffer }
  | { type: 'synReply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: SettingsEntry[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  /** A control frame of a type this implementation does not know (CREDENTIAL, or newer): §2.2.1 says ignore it. */
  | { type: 'unknown'; controlType: number; flags: number; payload: Buffer };

/** A frame that breaks the framing rules: the connection cannot go on (GOAWAY PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {}

// ------------------------------------------------------------------------------------------------------------
// Encoding

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`control frame of ${payload.length} bytes is too large`);
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(frame, 8);
  return frame;
}

function words(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

function streamIdOf(id: number): number {
  if (!Number.isInteger(id) || id <= 0 || id > STREAM_ID_MASK) throw new SpdyProtocolError(`stream id ${id} is not a 31-bit id above 0`);
  return id;
}

export function encodeData(streamId: number, data: Buffer, flags = 0): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`data frame of ${data.length} bytes is too large`);
  const frame = Buffer.allocUnsafe(8 + data.length);
  frame.writeUInt32BE(streamIdOf(streamId), 0);
  frame.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  data.copy(frame, 8);
  return frame;
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, options: { flags?: number; associatedTo?: number; priority?: number; slot?: number } = {}): Buffer {
  const fixed = Buffer.allocUnsafe(10);
  fixed.writeUInt32BE(streamIdOf(streamId), 0);
  fixed.writeUInt32BE((options.associatedTo ?? 0) & STREAM_ID_MASK, 4);
  fixed[8] = ((options.priority ?? 0) & 0x7) << 5;
  fixed[9] = options.slot ?? 0;
  return controlFrame(ControlType.synStream, options.flags ?? 0, Buffer.concat([fixed, headerBlock]));
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  return controlFrame(ControlType.synReply, flags, Buffer.concat([words(streamIdOf(streamId)), headerBlock]));
}

export function encodeHeaders(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  return controlFrame(ControlType.headers, flags, Buffer.concat([words(streamIdOf(streamId)), headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(ControlType.rstStream, 0, words(streamIdOf(streamId), status));
}

export function encodeSettings(entries: SettingsEntry[], flags = 0): Buffer {
  const payload = Buffer.allocUnsafe(4 + 8 * entries.length);
  payload.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    payload.writeUInt32BE((((e.flags & 0xff) << 24) | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
    payload.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
  });
  return controlFrame(ControlType.settings, flags, payload);
}

export function encodePing(id: number): Buffer {
  return controlFrame(ControlType.ping, 0, words(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(ControlType.goAway, 0, words(lastGoodStreamId & STREAM_ID_MASK, status));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return controlFrame(ControlType.windowUpdate, 0, words(streamId & STREAM_ID_MASK, delta & STREAM_ID_MASK));
}

// ------------------------------------------------------------------------------------------------------------
// Decoding

/** One frame from its 8-byte header and payload. Throws SpdyProtocolError for a malformed one. */
export function decodeFrame(header: Buffer, payload: Buffer): Frame {
  const first = header.readUInt32BE(0);
  const flags = header[4]!;
  if ((first & 0x80000000) === 0) return { type: 'data', streamId: first & STREAM_ID_MASK, flags, data: payload };
  const version = (first >>> 16) & 0x7fff;
  const type = first & 0xffff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`control frame of SPDY version ${version} (this is SPDY/3.1)`);
  const need = (n: number, what: string) => {
    if (payload.length < n) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is too short`);
  };
  const exactly = (n: number, what: string) => {
    if (payload.length !== n) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes (it has ${n})`);
  };
  const u32 = (at: number) => payload.readUInt32BE(at);
  switch (type) {
    case ControlType.synStream:
      need(10, 'SYN_STREAM');
      return {
        type: 'synStream',
        streamId: u32(0) & STREAM_ID_MASK,
        associatedTo: u32(4) & STREAM_ID_MASK,
        priority: payload[8]! >> 5,
        slot: payload[9]!,
        flags,
        headerBlock: payload.subarray(10),
      };
    case ControlType.synReply:
      need(4, 'SYN_REPLY');
      return { type: 'synReply', streamId: u32(0) & STREAM_ID_MASK, flags, headerBlock: payload.subarray(4) };
    case ControlType.headers:
      need(4, 'HEADERS');
      return { type: 'headers', streamId: u32(0) & STREAM_ID_MASK, flags, headerBlock: payload.subarray(4) };
    case ControlType.rstStream:
      exactly(8, 'RST_STREAM');
      return { type: 'rstStream', streamId: u32(0) & STREAM_ID_MASK, status: u32(4) };
    case ControlType.settings: {
      need(4, 'SETTINGS');
      const count = u32(0);
      exactly(4 + 8 * count, 'SETTINGS');
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < count; i++) {
        const flagsAndId = u32(4 + 8 * i);
        entries.push({ flags: flagsAndId >>> 24, id: flagsAndId & 0xffffff, value: u32(8 + 8 * i) });
      }
      return { type: 'settings', flags, entries };
    }
    case ControlType.ping:
      exactly(4, 'PING');
      return { type: 'ping', id: u32(0) };
    case ControlType.goAway:
      exactly(8, 'GOAWAY');
      return { type: 'goAway', lastGoodStreamId: u32(0) & STREAM_ID_MASK, status: u32(4) };
    case ControlType.windowUpdate:
      exactly(8, 'WINDOW_UPDATE');
      return { type: 'windowUpdate', streamId: u32(0) & STREAM_ID_MASK, delta: u32(4) & STREAM_ID_MASK };
    default:
      return { type: 'unknown', controlType: type, flags, payload };
  }
}

/**
 * Cuts a byte stream into frames. `maxPayload` bounds what it buffers for one frame (the protocol allows
 * 16 MiB); a larger frame is a SpdyProtocolError.
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly maxPayload = MAX_FRAME_PAYLOAD,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 8) {
      const head = this.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (length > this.maxPayload) throw new SpdyProtocolError(`frame of ${length} bytes is larger than ${this.maxPayload}`);
      if (this.buffered < 8 + length) return;
      const whole = this.take(8 + length);
      this.onFrame(decodeFrame(whole.subarray(0, 8), whole.subarray(8)));
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
