/**
 * Kubernetes' remotecommand protocol (k8s.io/apimachinery/pkg/util/remotecommand, kubelet's
 * pkg/cri/streaming/remotecommand): the names of its versions, which one a request gets, the status written on the
 * error stream at the end, and the terminal size messages of the resize stream. Pure: no I/O here.
 *
 * Versions, over SPDY (negotiated by X-Stream-Protocol-Version, in the client's order of preference):
 *   channel.k8s.io      v1: error stream carries a plain message on failure
 *   v2.channel.k8s.io   v2: fixes v1's stream handling
 *   v3.channel.k8s.io   v3: adds the resize stream (tty)
 *   v4.channel.k8s.io   v4: the error stream carries a metav1.Status JSON with the exit code
 *   v5.channel.k8s.io   v5: v4 plus the CLOSE signal, which only WebSocket needs; over SPDY it is v4 (as kubelet
 *                       1.30+ accepts it, for the API server's WebSocket→SPDY translator)
 * and over WebSocket (Sec-WebSocket-Protocol; channel byte first in every message, base64 variants text-encoded):
 *   "" (none asked), channel.k8s.io, base64.channel.k8s.io, v4.channel.k8s.io, v4.base64.channel.k8s.io,
 *   v5.channel.k8s.io
 */

export const SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export type SpdyProtocol = (typeof SPDY_PROTOCOLS)[number];

export const WEBSOCKET_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
export type WebSocketProtocol = (typeof WEBSOCKET_PROTOCOLS)[number] | '';

/** The channel numbers, which are also SPDY's streamType names in this order. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** How a negotiated version behaves. */
export interface ProtocolTraits {
  /** The error stream carries metav1.Status JSON (v4, v5); else a message, and only on failure. */
  statusJson: boolean;
  /** A resize stream exists (v3+). */
  resize: boolean;
  /** WebSocket only: the client may close one channel (v5). */
  closeSignal: boolean;
  /** WebSocket only: messages are text, base64 after the channel digit. */
  base64: boolean;
}

export function spdyTraits(protocol: SpdyProtocol): ProtocolTraits {
  const version = protocol === 'channel.k8s.io' ? 1 : Number(protocol[1]);
  return { statusJson: version >= 4, resize: version >= 3, closeSignal: false, base64: false };
}

export function webSocketTraits(protocol: WebSocketProtocol): ProtocolTraits {
  return {
    statusJson: protocol.startsWith('v4.') || protocol.startsWith('v5.'),
    resize: true,
    closeSignal: protocol === 'v5.channel.k8s.io',
    base64: protocol.includes('base64'),
  };
}

/** A header's comma-separated values, over every line of it (httpstream's commaSeparatedHeaderValues). */
export function headerValues(lines: string[] | undefined): string[] {
  return (lines ?? []).flatMap((l) => l.split(',')).map((v) => v.trim()).filter(Boolean);
}

/**
 * httpstream.Handshake: the first of the client's protocols (in its order) that the server speaks; undefined
 * when none is common. (No protocol asked at all is the caller's refusal: X-Stream-Protocol-Version is required.)
 */
export function negotiate<P extends string>(client: string[], server: readonly P[]): P | undefined {
  return client.find((p): p is P => (server as readonly string[]).includes(p));
}

// ------------------------------------------------------------------------------------------------------------
// The status at the end (metav1.Status, as kubelet's ServeExec/ServeAttach write it)

/**
 * metav1.Status as Go's encoding/json writes it: fields in struct order (kind and apiVersion empty and left out,
 * `metadata` always there since omitempty does not drop structs), empty optional fields left out.
 */
export interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message?: string }[] };
  code?: number;
}

export const successStatus = (): Status => ({ metadata: {}, status: 'Success' });

/**
 * A command that exited non-zero (kubelet's ServeExec on a CRI runtime's exec.CodeExitError, whose message is
 * containerd's "error executing command [argv], exit code N"): reason NonZeroExitCode, the code in
 * details.causes[ExitCode] — what kubectl exec exits with.
 */
export function exitStatus(argv: string[], exitCode: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** apierrors.NewInternalError: what could not be done at all (the exec never started, the attach failed). */
export function internalErrorStatus(message: string): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/**
 * What goes on the error stream: v4+ the JSON; before, nothing on success and the message on failure
 * (kubelet's v1WriteStatusFunc).
 */
export function encodeStatus(status: Status, traits: Pick<ProtocolTraits, 'statusJson'>): Buffer | undefined {
  if (traits.statusJson) return Buffer.from(JSON.stringify(status), 'utf8');
  return status.status === 'Success' ? undefined : Buffer.from(status.message ?? '', 'utf8');
}

// ------------------------------------------------------------------------------------------------------------
// Resize

/** remotecommand.TerminalSize as JSON: {"Width": cols, "Height": rows}. */
export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * Decodes the resize stream: JSON objects one after another (Go's json.Encoder, a newline after each), in
 * whatever pieces they arrive. A value that is not a size object ends the stream for good, as kubelet's decoder
 * loop stops at the first error.
 */
export class ResizeDecoder {
  private text = '';
  private broken = false;

  constructor(private readonly onSize: (size: TerminalSize) => void) {}

  push(chunk: Buffer | string): void {
    if (this.broken) return;
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.text.length > 64 * 1024) return void (this.broken = true);
    for (;;) {
      const start = this.text.search(/\S/);
      if (start < 0) return void (this.text = '');
      const end = objectEnd(this.text, start);
      if (end === undefined) return;
      if (end < 0) return void (this.broken = true);
      const raw = this.text.slice(start, end);
      this.text = this.text.slice(end);
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return void (this.broken = true);
      }
      const size = value as { Width?: unknown; Height?: unknown };
      if (typeof size.Width !== 'number' || typeof size.Height !== 'number') return void (this.broken = true);
      this.onSize({ width: size.Width, height: size.Height });
    }
  }
}

/** The index after the JSON object starting at `start`; undefined while incomplete, -1 when it is not one. */
function objectEnd(text: string, start: number): number | undefined {
  if (text[start] !== '{') return -1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return undefined;
}
