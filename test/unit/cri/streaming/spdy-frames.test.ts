import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeData,
  encodeGoAway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
  Flag,
  FrameParser,
  SpdyProtocolError,
  type Frame,
} from '../../../../src/cri/streaming/spdy/frames.js';

function parseAll(bytes: Buffer, chunk = bytes.length): Frame[] {
  const frames: Frame[] = [];
  const parser = new FrameParser((f) => frames.push(f));
  for (let at = 0; at < bytes.length; at += chunk) parser.push(bytes.subarray(at, at + chunk));
  return frames;
}

describe('SPDY/3.1 frames', () => {
  it('a data frame is its stream id, flags, 24-bit length, then the data (big-endian, top bit 0)', () => {
    const f = encodeData(5, Buffer.from('hi'), Flag.fin);
    expect([...f]).toEqual([0, 0, 0, 5, 1, 0, 0, 2, 0x68, 0x69]);
    expect(parseAll(f)).toEqual([{ type: 'data', streamId: 5, flags: Flag.fin, data: Buffer.from('hi') }]);
  });

  it('a control frame starts with 0x8003 and its type; SYN_STREAM keeps ids, priority, slot and the header block', () => {
    const f = encodeSynStream(7, Buffer.from([1, 2, 3]), { flags: Flag.fin, associatedTo: 3, priority: 5, slot: 0 });
    expect([...f.subarray(0, 4)]).toEqual([0x80, 0x03, 0x00, 0x01]);
    expect(f.readUInt32BE(4) & 0xffffff).toBe(10 + 3);
    expect(parseAll(f)).toEqual([{ type: 'synStream', streamId: 7, associatedTo: 3, priority: 5, slot: 0, flags: Flag.fin, headerBlock: Buffer.from([1, 2, 3]) }]);
  });

  it('every frame type survives encode → parse, cut into single bytes', () => {
    const bytes = Buffer.concat([
      encodeSynReply(1, Buffer.from('x')),
      encodeRstStream(3, 5),
      encodeSettings([{ flags: 1, id: 7, value: 65536 }]),
      encodePing(2),
      encodeGoAway(9, 0),
      encodeHeaders(1, Buffer.from('yz'), Flag.fin),
      encodeWindowUpdate(1, 1024),
      encodeData(1, Buffer.alloc(70_000, 7)),
    ]);
    const frames = parseAll(bytes, 1);
    expect(frames.map((f) => f.type)).toEqual(['synReply', 'rstStream', 'settings', 'ping', 'goAway', 'headers', 'windowUpdate', 'data']);
    expect(frames[1]).toEqual({ type: 'rstStream', streamId: 3, status: 5 });
    expect(frames[2]).toEqual({ type: 'settings', flags: 0, entries: [{ flags: 1, id: 7, value: 65536 }] });
    expect(frames[4]).toEqual({ type: 'goAway', lastGoodStreamId: 9, status: 0 });
    expect(frames[6]).toEqual({ type: 'windowUpdate', streamId: 1, delta: 1024 });
    expect((frames[7] as { data: Buffer }).data.length).toBe(70_000);
  });

  it('a frame split across chunks waits for its last byte; two frames in one chunk are both delivered', () => {
    const a = encodeData(1, Buffer.from('abc'));
    const b = encodePing(1);
    const frames: Frame[] = [];
    const parser = new FrameParser((f) => frames.push(f));
    parser.push(a.subarray(0, 9));
    expect(frames).toEqual([]);
    parser.push(Buffer.concat([a.subarray(9), b]));
    expect(frames.map((f) => f.type)).toEqual(['data', 'ping']);
  });

  it('refuses malformed frames: another version, a short RST_STREAM, a SETTINGS count that lies, an oversized frame', () => {
    const v2 = encodePing(1);
    v2.writeUInt16BE(0x8002, 0);
    expect(() => parseAll(v2)).toThrow(SpdyProtocolError);
    const rst = encodeRstStream(1, 5);
    const short = Buffer.concat([rst.subarray(0, 4), Buffer.from([0, 0, 0, 4]), rst.subarray(8, 12)]);
    expect(() => parseAll(short)).toThrow(/RST_STREAM frame of 4 bytes/);
    const settings = encodeSettings([{ flags: 0, id: 4, value: 1 }]);
    settings.writeUInt32BE(2, 8);
    expect(() => parseAll(settings)).toThrow(SpdyProtocolError);
    const parser = new FrameParser(() => {}, 1024);
    expect(() => parser.push(encodeData(1, Buffer.alloc(2048)))).toThrow(/larger than 1024/);
    expect(() => encodeData(0, Buffer.alloc(1))).toThrow(/stream id 0/);
  });

  it('an unknown control type is delivered as unknown (to be ignored, §2.2.1), not an error', () => {
    const f = encodePing(1);
    f.writeUInt16BE(10, 2);
    expect(decodeFrame(f.subarray(0, 8), f.subarray(8))).toMatchObject({ type: 'unknown', controlType: 10 });
  });
});
