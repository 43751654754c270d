/**
 * The streaming server of CRI's Exec, Attach and PortForward — kubelet's k8s.io/kubelet/pkg/cri/streaming, which
 * containerd and CRI-O embed. Those RPCs do not stream over gRPC: the runtime answers each with a URL on this HTTP
 * server, http://127.0.0.1:<port>/{exec,attach,portforward}/<token>, and the API server or kubelet connects
 * there. The token is single-use and expires (request-cache.ts); a used, expired or unknown one is a 404 and
 * nothing runs.
 *
 * On that URL the client upgrades the connection to
 *   SPDY/3.1     (Upgrade: SPDY/3.1; X-Stream-Protocol-Version negotiates remotecommand v1..v5 or
 *                portforward.k8s.io): spdy-command.ts, portforward.ts over spdy/connection.ts
 *   WebSocket    (Sec-WebSocket-Protocol: remotecommand's channel protocols, v5.channel.k8s.io included; for
 *                port-forward the SPDY tunnel SPDY/3.1+portforward.k8s.io or the v4 channel form):
 *                websocket-command.ts, portforward.ts, over the `ws` package (loaded on the first such request)
 * and the session runs as command-session.ts / portforward.ts say.
 *
 * It listens only once the first URL is asked for (a supervisor nobody asks to stream pays nothing), on
 * 127.0.0.1 and a port the kernel chooses unless configured. It knows nothing of gRPC: the CRI endpoint and the
 * supervisor's `stream` op both call getExec/getAttach/getPortForward.
 */
import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { UserError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { serveAttach, serveExec, type CommandStreams } from './command-session.js';
import { PORTFORWARD_PROTOCOL, PORTFORWARD_TUNNEL_PROTOCOL, PORTFORWARD_WEBSOCKET_PROTOCOLS, serveSpdyPortForward, serveWebSocketPortForward } from './portforward.js';
import { headerValues, negotiate, SPDY_PROTOCOLS, spdyTraits, WEBSOCKET_PROTOCOLS, type SpdyProtocol, type WebSocketProtocol } from './remotecommand.js';
import { RequestCache } from './request-cache.js';
import { acceptSpdyCommandStreams, type StreamOptions } from './spdy-command.js';
import type { StreamingRuntime } from './streaming-runtime.js';
import { webSocketCommandStreams } from './websocket-command.js';

/** CRI ExecRequest: the command and which streams the client wants. */
export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** CRI AttachRequest. */
export interface AttachRequest {
  containerId: string;
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** CRI PortForwardRequest: `ports` are the WebSocket channel form's (SPDY clients name theirs per stream). */
export interface PortForwardRequest {
  podSandboxId: string;
  ports?: number[];
}

export interface StreamingServerOptions {
  log: Logger;
  /** Where it listens: 127.0.0.1 unless configured. */
  address?: string;
  /** 0 (the default): a port the kernel chooses. */
  port?: number;
  /** How long a token waits for its client: 1 minute (kubelet's, containerd's). */
  tokenTtlMs?: number;
  /** Tokens waiting at most at once: 1000. */
  maxInFlight?: number;
  /** A connection with no traffic for this long is closed: 4 hours (kubelet's StreamIdleTimeout). */
  idleTimeoutMs?: number;
  /** How long a SPDY client has to open its streams: 30 s (remotecommand's DefaultStreamCreationTimeout). */
  streamCreationTimeoutMs?: number;
  /** The tokens' clock (ms), for tests. */
  now?: () => number;
}

type Cached = ({ kind: 'exec' } & ExecRequest) | ({ kind: 'attach' } & AttachRequest) | ({ kind: 'portforward' } & PortForwardRequest);
type Kind = Cached['kind'];

/** An upgrade request with the subprotocol chosen for it, which our 'headers' listener puts in the 101. */
type ChoosingRequest = http.IncomingMessage & { chosenProtocol?: string };

const ROUTE = /^\/(exec|attach|portforward)\/([^/?#]+)\/?(?:[?#].*)?$/;

export class StreamingServer {
  private readonly cache: RequestCache<Cached>;
  private readonly log: Logger;
  private readonly idleTimeoutMs: number;
  private readonly streamCreationTimeoutMs: number;
  private server?: http.Server;
  private listening?: Promise<string>;
  private webSockets?: Promise<{ server: WebSocketServer; createWebSocketStream: (ws: WebSocket) => Duplex }>;
  private readonly connections = new Set<net.Socket>();

  constructor(
    private readonly runtime: StreamingRuntime,
    private readonly options: StreamingServerOptions,
  ) {
    this.log = options.log;
    this.cache = new RequestCache({ ttlMs: options.tokenTtlMs, maxInFlight: options.maxInFlight, now: options.now });
    this.idleTimeoutMs = options.idleTimeoutMs ?? 4 * 3600_000;
    this.streamCreationTimeoutMs = options.streamCreationTimeoutMs ?? 30_000;
  }

  /** CRI Exec: the URL of a new exec session (kubelet's validation: one stream at least, no stderr with a tty). */
  async getExec(request: ExecRequest): Promise<string> {
    if (!request.containerId) throw invalid('missing required container_id');
    if (!request.cmd?.length) throw invalid('missing required cmd');
    validateStreams(request, 'one of stdin, stdout, or stderr must be set');
    return this.issue('exec', { kind: 'exec', ...request, cmd: [...request.cmd] });
  }

  /** CRI Attach: the URL of a new attach session. */
  async getAttach(request: AttachRequest): Promise<string> {
    if (!request.containerId) throw invalid('missing required container_id');
    validateStreams(request, 'one of stdin, stdout, and stderr must be set');
    return this.issue('attach', { kind: 'attach', ...request });
  }

  /** CRI PortForward: the URL of a new port-forward session. */
  async getPortForward(request: PortForwardRequest): Promise<string> {
    if (!request.podSandboxId) throw invalid('missing required pod_sandbox_id');
    for (const p of request.ports ?? []) if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalid(`invalid port ${p}`);
    return this.issue('portforward', { kind: 'portforward', ...request, ports: [...(request.ports ?? [])] });
  }

  /** The base URL, once it listens. */
  get url(): Promise<string> | undefined {
    return this.listening;
  }

  /** Stops listening and closes every session's connection. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const socket of this.connections) socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    (await this.webSockets)?.server.close();
  }

  private async issue(kind: Kind, request: Cached): Promise<string> {
    const base = await this.start();
    return `${base}/${kind}/${this.cache.insert(request)}`;
  }

  /** Listens on first use. */
  private start(): Promise<string> {
    this.listening ??= new Promise((resolve, reject) => {
      // Through getBuiltinModule: node:http's ESM facade loads undici (~20 ms), which this never needs.
      const http = process.getBuiltinModule('node:http') as typeof import('node:http');
      const server = http.createServer();
      server.on('request', (req, res) => this.plainRequest(req, res));
      server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.upgrade(req, socket, head));
      server.on('clientError', (_err, socket: Duplex) => socket.destroy());
      const address = this.options.address ?? '127.0.0.1';
      server.once('error', (err) => {
        this.listening = undefined;
        reject(new UserError('ESTREAMLISTEN', `streaming server: listen on ${address}:${this.options.port ?? 0}: ${err.message}`));
      });
      server.listen(this.options.port ?? 0, address, () => {
        const port = (server.address() as net.AddressInfo).port;
        const host = address.includes(':') ? `[${address}]` : address;
        this.server = server;
        this.log.info('streaming server listening', { address: `${host}:${port}` });
        resolve(`http://${host}:${port}`);
      });
    });
    return this.listening;
  }

  // ----------------------------------------------------------------------------------------------------------
  // Requests

  /** A request without an upgrade: the token is used up (as kubelet's handlers consume it first), then refused. */
  private plainRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = routeOf(req);
    if (!route) return reply(res, 404, '404 page not found');
    if (req.method !== 'GET' && req.method !== 'POST') return reply(res, 405, '405: Method Not Allowed');
    const request = this.cache.consume(route.token);
    if (!request || request.kind !== route.kind) return reply(res, 404, '404 page not found');
    reply(res, 400, 'unable to upgrade: missing upgrade headers in request');
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => {});
    const route = routeOf(req);
    if (!route) return refuse(socket, 404, '404 page not found');
    if (req.method !== 'GET' && req.method !== 'POST') return refuse(socket, 405, '405: Method Not Allowed');
    const request = this.cache.consume(route.token);
    if (!request || request.kind !== route.kind) {
      this.log.info('streaming: unknown, used or expired token', { kind: route.kind });
      return refuse(socket, 404, '404 page not found');
    }
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    socket.setNoDelay(true);
    const upgradeTo = (req.headers.upgrade ?? '').toLowerCase();
    const work = upgradeTo === 'websocket' ? this.webSocket(req, socket, head, request) : this.spdy(req, socket, head, request);
    work.catch((err: Error) => {
      this.log.error('streaming session failed', { kind: request.kind, error: err.message, stack: err.stack });
      socket.destroy();
    });
  }

  private async spdy(req: http.IncomingMessage, socket: net.Socket, head: Buffer, request: Cached): Promise<void> {
    const offered = headerValues(req.headersDistinct['x-stream-protocol-version']);
    if (offered.length === 0) return refuse(socket, 400, 'unable to upgrade: X-Stream-Protocol-Version is required');
    const supported: readonly string[] = request.kind === 'portforward' ? [PORTFORWARD_PROTOCOL] : SPDY_PROTOCOLS;
    const protocol = negotiate(offered, supported);
    if (!protocol) {
      return refuse(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`, {
        'X-Accepted-Stream-Protocol-Versions': [...supported],
      });
    }
    const connection = (req.headers.connection ?? '').toLowerCase();
    if (!connection.includes('upgrade') || !(req.headers.upgrade ?? '').toLowerCase().includes('spdy/3.1')) {
      return refuse(socket, 400, 'unable to upgrade: missing upgrade headers in request');
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\nDate: ${new Date().toUTCString()}\r\n\r\n`);
    if (head.length) socket.unshift(head);
    const timeouts = { idleTimeoutMs: this.idleTimeoutMs, streamCreationTimeoutMs: this.streamCreationTimeoutMs };
    if (request.kind === 'portforward') {
      serveSpdyPortForward(socket, this.runtime, request.podSandboxId, timeouts, this.log);
      return;
    }
    const streams = await acceptSpdyCommandStreams(socket, spdyTraits(protocol as SpdyProtocol), streamOptions(request), timeouts, this.log);
    if (streams) await this.runCommand(streams, request);
  }

  private async webSocket(req: http.IncomingMessage, socket: net.Socket, head: Buffer, request: Cached): Promise<void> {
    const offered = headerValues(req.headersDistinct['sec-websocket-protocol']);
    let protocol: string;
    if (request.kind === 'portforward') {
      protocol = offered.includes(PORTFORWARD_TUNNEL_PROTOCOL) ? PORTFORWARD_TUNNEL_PROTOCOL : (negotiate(offered, PORTFORWARD_WEBSOCKET_PROTOCOLS) ?? '');
    } else {
      protocol = negotiate(offered, WEBSOCKET_PROTOCOLS) ?? '';
    }
    // x/net/websocket's handshake: protocols were asked and none is spoken.
    if (offered.length && !protocol) {
      const supported = request.kind === 'portforward' ? [PORTFORWARD_TUNNEL_PROTOCOL, ...PORTFORWARD_WEBSOCKET_PROTOCOLS] : WEBSOCKET_PROTOCOLS;
      return refuse(socket, 403, `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);
    }
    // The channel form needs its ports up front: the request's (CRI), else the URL's (kubelet's NewV4Options).
    let ports: number[] = [];
    if (request.kind === 'portforward' && protocol !== PORTFORWARD_TUNNEL_PROTOCOL) {
      if (request.ports?.length) ports = request.ports;
      else {
        const fromQuery = portsOfQuery(req.url ?? '');
        if (fromQuery === undefined) return refuse(socket, 400, 'query parameter "port" is required');
        if (fromQuery instanceof Error) return refuse(socket, 400, fromQuery.message);
        ports = fromQuery;
      }
    }
    const { server, createWebSocketStream } = await this.loadWebSockets();
    // ws refuses (400) a Sec-WebSocket-Protocol that is not a list of RFC 7230 tokens, and client-go's tunnel
    // protocol "SPDY/3.1+portforward.k8s.io" has a '/': the header is taken away from ws, which then negotiates
    // nothing, and the choice made above is written into the 101 by the 'headers' listener (loadWebSockets).
    (req as ChoosingRequest).chosenProtocol = protocol;
    delete req.headers['sec-websocket-protocol'];
    const ws = await new Promise<WebSocket>((resolve) => server.handleUpgrade(req, socket, head, resolve));
    if (request.kind === 'portforward') {
      if (protocol === PORTFORWARD_TUNNEL_PROTOCOL) {
        const timeouts = { idleTimeoutMs: this.idleTimeoutMs, streamCreationTimeoutMs: this.streamCreationTimeoutMs };
        serveSpdyPortForward(createWebSocketStream(ws), this.runtime, request.podSandboxId, timeouts, this.log);
        return;
      }
      await serveWebSocketPortForward(ws, protocol.includes('base64'), ports, this.runtime, request.podSandboxId, this.idleTimeoutMs, this.log);
      return;
    }
    await this.runCommand(webSocketCommandStreams(ws, protocol as WebSocketProtocol, streamOptions(request), this.idleTimeoutMs), request);
  }

  private runCommand(streams: CommandStreams, request: Cached): Promise<void> {
    if (request.kind === 'exec') return serveExec(streams, this.runtime, { containerId: request.containerId, cmd: request.cmd, tty: request.tty === true }, this.log);
    if (request.kind === 'attach') return serveAttach(streams, this.runtime, request.containerId, this.log);
    throw new Error('port-forward is not a command');
  }

  /** The `ws` package, loaded with the first WebSocket request. */
  private loadWebSockets(): Promise<{ server: WebSocketServer; createWebSocketStream: (ws: WebSocket) => Duplex }> {
    this.webSockets ??= import('ws').then(({ WebSocketServer, createWebSocketStream }) => {
      const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
      // Our choice is made before the upgrade (see webSocket()); '' is none (no Sec-WebSocket-Protocol).
      server.on('headers', (headers: string[], req: ChoosingRequest) => {
        if (req.chosenProtocol) headers.push(`Sec-WebSocket-Protocol: ${req.chosenProtocol}`);
      });
      return { server, createWebSocketStream: (ws: WebSocket) => createWebSocketStream(ws) };
    });
    return this.webSockets;
  }
}

function invalid(message: string): UserError {
  return new UserError('EINVAL', message);
}

function validateStreams(request: { tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }, none: string): void {
  // Multiplexing two streams onto one terminal is not possible.
  if (request.tty && request.stderr) throw invalid('tty and stderr cannot both be true');
  if (!request.stdin && !request.stdout && !request.stderr) throw invalid(none);
}

function streamOptions(request: ExecRequest | AttachRequest): StreamOptions {
  return { stdin: request.stdin === true, stdout: request.stdout === true, stderr: request.stderr === true, tty: request.tty === true };
}

function routeOf(req: http.IncomingMessage): { kind: Kind; token: string } | undefined {
  const m = ROUTE.exec(req.url ?? '');
  return m ? { kind: m[1] as Kind, token: decodeURIComponent(m[2]!) } : undefined;
}

/** kubelet's NewV4Options: the `port` query parameter(s), each possibly a comma-separated list. */
function portsOfQuery(url: string): number[] | Error | undefined {
  const values = new URL(url, 'http://localhost').searchParams.getAll('port');
  if (values.length === 0) return undefined;
  const ports: number[] = [];
  for (const value of values) {
    if (!value) return new Error('query parameter "port" cannot be empty');
    for (const p of value.split(',')) {
      const port = Number(p);
      if (!/^\d+$/.test(p) || port < 1 || port > 65535) return new Error(`unable to parse "${value}" as a port`);
      ports.push(port);
    }
  }
  return ports;
}

function reply(res: http.ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${body}\n`);
}

/** An HTTP answer on an upgrade request's socket (no upgrade then), as Go's http.Error writes it. */
function refuse(socket: net.Socket, code: number, body: string, headers: Record<string, string[]> = {}): void {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' }[code] ?? 'Error';
  const text = `${body}\n`;
  const extra = Object.entries(headers).flatMap(([name, values]) => values.map((v) => `${name}: ${v}\r\n`));
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n${extra.join('')}Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
