/**
 * The attach stream on the supervisor's control socket. After the JSON request line `{"op":"attach",...}` and
 * the supervisor's JSON answer line, both sides send frames:
 *
 *     <channel: 1 byte> <length: 4 bytes, big-endian> <payload>
 *
 * The channels are Kubernetes' remotecommand channels (k8s.io/apimachinery/pkg/util/remotecommand), so the
 * stream reads like what kubectl attach speaks to kubelet:
 *   0 stdin   client → supervisor; an empty payload says the client's stdin ended
 *   1 stdout  supervisor → client
 *   2 stderr  supervisor → client
 *   3 status  supervisor → client, last frame: JSON {"exitCode": n} or {"error": "..."}
 *   4 resize  client → supervisor: JSON {"Width": cols, "Height": rows}
 */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4 } as const;
export type ChannelNumber = (typeof Channel)[keyof typeof Channel];

/** A frame's payload may not exceed this (a resize or a chunk of output is far smaller). */
export const MAX_FRAME = 1 << 20;

export interface AttachRequest {
  op: 'attach';
  /** The pod's id. */
  pod: string;
  container: string;
  /** The client sends input (attach -i). */
  stdin: boolean;
}

/** The supervisor's answer line: what the container has, so the client knows whether to set up a terminal. */
export interface AttachAnswer {
  ok: true;
  container: string;
  tty: boolean;
  stdin: boolean;
}

export function encodeFrame(channel: ChannelNumber, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = channel;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** Cuts a byte stream into frames, whatever the chunking. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (channel: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 5) {
      const length = this.buffer.readUInt32BE(1);
      if (length > MAX_FRAME) throw new Error(`attach: frame of ${length} bytes on channel ${this.buffer[0]} is larger than ${MAX_FRAME}`);
      if (this.buffer.length < 5 + length) return;
      const channel = this.buffer[0]!;
      const payload = this.buffer.subarray(5, 5 + length);
      this.buffer = this.buffer.subarray(5 + length);
      this.onFrame(channel, payload);
    }
  }
}
