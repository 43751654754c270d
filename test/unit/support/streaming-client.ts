/**
 * Clients of the streaming server for tests, written as client-go speaks: remotecommand over SPDY/3.1 (the
 * streams created in client-go's order — error, stdin, stdout, stderr, resize — each SYN_STREAM waiting for its
 * SYN_REPLY), port-forward over SPDY (an error and a data stream per request, with requestID), and remotecommand
 * over WebSocket (ws's client). The framing comes from src/cri/streaming/spdy: a bug the client and the server
 * share would not show here, which is why the kernel tests also drive the server with real kubectl binaries.
 *
 * `connect` makes the TCP connection (a kernel test dials into its network namespace); by default net.connect.
 */
import net from 'node:net';
import { encodeData, encodeGoAway, encodeRstStream, encodeSynStream, Flag, FrameParser, type Frame } from '../../../src/cri/streaming/spdy/frames.js';
import { decodeHeaderBlock, encodeHeaderBlock, type Headers } from '../../../src/cri/streaming/spdy/header-block.js';
import { HeaderDeflater, HeaderInflater } from '../../../src/cri/streaming/spdy/header-compression.js';

export type Connect = (url: URL) => Promise<net.Socket>;

const defaultConnect: Connect = (url) =>
  new Promise((resolve, reject) => {
    const s = net.connect(Number(url.port), url.hostname, () => resolve(s));
    s.once('error', reject);
  });

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One client stream: what arrived, and whether the server finished (FIN) or reset it. */
export class ClientStream {
  readonly chunks: Buffer[] = [];
  finished = false;
  reset?: number;
  replied = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly client: SpdyClient,
    readonly id: number,
  ) {}

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  write(data: Buffer | string, fin = false): void {
    this.client.sendData(this.id, Buffer.from(data), fin);
  }

  end(): void {
    this.client.sendData(this.id, Buffer.alloc(0), true);
  }

  /** Resolves when the server FINs or resets this stream. */
  ended(): Promise<void> {
    if (this.finished || this.reset !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once `predicate` holds for what arrived so far. */
  until(predicate: (text: string) => boolean): Promise<string> {
    if (predicate(this.text)) return Promise.resolve(this.text);
    return new Promise((resolve) => {
      const check = () => (predicate(this.text) ? resolve(this.text) : this.waiters.push(check));
      this.waiters.push(check);
    });
  }

  /** Resolves once the server replied to (or reset) the stream, or `gone()` says the connection is gone. */
  answered(gone: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.replied || this.reset !== undefined || gone() ? resolve() : this.waiters.push(check));
      check();
    });
  }

  /** @internal */
  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The client end of a SPDY/3.1 connection: opens odd-numbered streams, reads the server's frames. */
export class SpdyClient {
  private readonly deflater = new HeaderDeflater();
  private readonly inflater = new HeaderInflater();
  private readonly streams = new Map<number, ClientStream>();
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  readonly goAways: number[] = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    const parser = new FrameParser((frame) => this.receive(frame));
    // After the frames that came before the close have been handled.
    this.closed = new Promise((resolve) => socket.once('close', () => void this.inbound.then(() => resolve())));
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', () => {});
    this.closed.then(() => {
      for (const s of this.streams.values()) s.notify();
    });
  }

  /** SYN_STREAM with `headers`; resolves once the server's SYN_REPLY (or RST) came. */
  async open(headers: Record<string, string>, options: { fin?: boolean } = {}): Promise<ClientStream> {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new ClientStream(this, id);
    this.streams.set(id, stream);
    // Header blocks share one zlib stream: compressed and sent in order.
    const sent = (this.chain = this.chain.then(async () => {
      const block = await this.deflater.compress(encodeHeaderBlock(headers));
      this.socket.write(encodeSynStream(id, block, { flags: options.fin ? Flag.fin : 0 }));
    }));
    await sent;
    await stream.answered(() => this.socket.destroyed);
    return stream;
  }

  sendData(id: number, data: Buffer, fin: boolean): void {
    void this.chain.then(() => this.socket.write(encodeData(id, data, fin ? Flag.fin : 0)));
  }

  resetStream(id: number, status = 5): void {
    void this.chain.then(() => this.socket.write(encodeRstStream(id, status)));
  }

  goAway(): void {
    void this.chain.then(() => this.socket.write(encodeGoAway(0, 0)));
  }

  close(): void {
    this.socket.destroy();
    this.deflater.close();
    this.inflater.close();
  }

  private inbound: Promise<unknown> = Promise.resolve();

  private receive(frame: Frame): void {
    // Frames handled in order: a header block's inflation holds back what came after it.
    this.inbound = this.inbound.then(async () => {
      switch (frame.type) {
        case 'synReply': {
          const headers: Headers = decodeHeaderBlock(await this.inflater.decompress(frame.headerBlock));
          void headers;
          const s = this.streams.get(frame.streamId);
          if (s) {
            s.replied = true;
            if (frame.flags & Flag.fin) s.finished = true;
            s.notify();
          }
          return;
        }
        case 'synStream':
        case 'headers':
          await this.inflater.decompress(frame.headerBlock);
          return;
        case 'data': {
          const s = this.streams.get(frame.streamId);
          if (!s) return;
          if (frame.data.length) s.chunks.push(Buffer.from(frame.data));
          if (frame.flags & Flag.fin) s.finished = true;
          s.notify();
          return;
        }
        case 'rstStream': {
          const s = this.streams.get(frame.streamId);
          if (s) {
            s.reset = frame.status;
            s.notify();
          }
          return;
        }
        case 'goAway':
          this.goAways.push(frame.status);
          return;
        default:
          return;
      }
    });
  }
}

/**
 * An HTTP/1.1 upgrade request on a new connection: the answer's status line and headers; after a 101 the socket
 * carries the new protocol (the bytes after the headers are put back).
 */
export async function upgradeRequest(url: string, headers: Record<string, string | string[]>, connect: Connect = defaultConnect, method = 'POST'): Promise<{ answer: HttpAnswer; socket: net.Socket }> {
  const u = new URL(url);
  const socket = await connect(u);
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const answer = await new Promise<HttpAnswer>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [statusLine, ...headerLines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(statusLine!.split(' ')[1]);
      const h: Record<string, string> = {};
      for (const l of headerLines) {
        const i = l.indexOf(':');
        const name = l.slice(0, i).toLowerCase();
        h[name] = h[name] ? `${h[name]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
      }
      const rest = buffered.subarray(end + 4);
      if (status === 101) {
        socket.pause();
        if (rest.length) socket.unshift(rest);
        return resolve({ status, headers: h, body: '' });
      }
      // A refusal: the body, to the end of the connection.
      const body: Buffer[] = [rest];
      socket.on('data', (c: Buffer) => body.push(c));
      socket.once('close', () => resolve({ status, headers: h, body: Buffer.concat(body).toString('utf8') }));
      socket.resume();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return { answer, socket };
}

/** Upgrades to SPDY/3.1 offering `protocols` (X-Stream-Protocol-Version, client-go's order of preference). */
export async function spdyConnect(url: string, protocols: string[], connect?: Connect): Promise<{ answer: HttpAnswer; client?: SpdyClient }> {
  const { answer, socket } = await upgradeRequest(url, { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols }, connect);
  if (answer.status !== 101) return { answer };
  const client = new SpdyClient(socket);
  socket.resume();
  return { answer, client };
}

export interface ExecOutcome {
  protocol: string;
  stdout: string;
  stderr: string;
  /** What the error stream carried (v4: metav1.Status JSON). */
  error: string;
  /** The exit code as kubectl derives it from a v4 status: 0 for Success, the ExitCode cause otherwise. */
  exitCode?: number;
}

/** kubectl's reading of a v4 status (before v4 the error stream is a bare message: no code). */
export function exitCodeOf(errorStream: string): number | undefined {
  if (!errorStream.startsWith('{')) return undefined;
  const status = JSON.parse(errorStream) as { status: string; reason?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause ? Number(cause.message) : undefined;
}

/**
 * remotecommand over SPDY as client-go's v4 protocol runs it: streams error, stdin, stdout, stderr (no stderr
 * with a tty), resize (tty); `stdin` written then ended; `sizes` written on the resize stream first; then
 * everything read until the error stream ends.
 */
export async function spdyExec(
  url: string,
  options: { stdin?: string | ((s: ClientStream, out: ClientStream) => Promise<void>); tty?: boolean; stderr?: boolean; sizes?: { Width: number; Height: number }[]; protocols?: string[] },
  connect?: Connect,
): Promise<ExecOutcome> {
  const { answer, client } = await spdyConnect(url, options.protocols ?? ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'], connect);
  if (!client) throw new Error(`upgrade refused: ${answer.status} ${answer.body.trim()}`);
  try {
    const error = await client.open({ streamtype: 'error' });
    const stdin = options.stdin !== undefined ? await client.open({ streamtype: 'stdin' }) : undefined;
    const stdout = await client.open({ streamtype: 'stdout' });
    const stderr = !options.tty && options.stderr !== false ? await client.open({ streamtype: 'stderr' }) : undefined;
    const resize = options.tty ? await client.open({ streamtype: 'resize' }) : undefined;
    for (const size of options.sizes ?? []) resize!.write(JSON.stringify(size) + '\n');
    if (typeof options.stdin === 'string') {
      stdin!.write(options.stdin);
      stdin!.end();
    } else if (options.stdin) await options.stdin(stdin!, stdout);
    await Promise.race([error.ended(), client.closed]);
    await Promise.race([Promise.all([stdout.ended(), stderr?.ended()]), client.closed]);
    return { protocol: answer.headers['x-stream-protocol-version'] ?? '', stdout: stdout.text, stderr: stderr?.text ?? '', error: error.text, exitCode: exitCodeOf(error.text) };
  } finally {
    client.close();
  }
}

/** One forwarded connection over SPDY port-forward: `request` written, the reply read to its end. */
export async function spdyPortForward(client: SpdyClient, port: number, requestId: number, request: string): Promise<{ data: string; error: string; reset?: number }> {
  const error = await client.open({ streamtype: 'error', port: String(port), requestid: String(requestId) });
  const data = await client.open({ streamtype: 'data', port: String(port), requestid: String(requestId) });
  data.write(request);
  await Promise.race([data.ended(), client.closed]);
  await Promise.race([error.ended(), client.closed]);
  return { data: data.text, error: error.text, reset: data.reset };
}
