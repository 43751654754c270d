/**
 * The network half of httpGet, tcpSocket and grpc probes, as kubelet does them (pkg/probe/http, pkg/probe/tcp,
 * pkg/probe/grpc): one GET with kubelet's headers, 200-399 is success, redirects followed on the same host only;
 * a TCP connect; a grpc.health.v1 Check over cleartext HTTP/2, SERVING is success. The
 * supervisor calls checkHttp/checkTcp in-process when the pod has an IP. A pod without one (network mode none) is only
 * reachable from inside its network namespace, which Node cannot enter (setns in a threaded process), so the supervisor
 * runs this file as a script there:
 *
 *   nsenter --net=/run/netns/<pod> <node> <dist>/kubelet/probe-connect.js http HOST PORT PATH TIMEOUT_MS ['Name: value' ...]
 *   nsenter --net=/run/netns/<pod> <node> <dist>/kubelet/probe-connect.js tcp HOST PORT TIMEOUT_MS
 *   nsenter --net=/run/netns/<pod> <node> <dist>/kubelet/probe-connect.js grpc HOST PORT TIMEOUT_MS SERVICE
 *
 * The script prints one JSON line, `{"ok":true|false,"message":"..."}`, and exits 0 whenever it reached a
 * verdict (2 on bad arguments). Only node: built-ins are imported, so it starts as fast as Node can.
 */
import type http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface CheckOutcome {
  ok: boolean;
  message: string;
}

export interface HttpCheck {
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
  timeoutMs: number;
}

export interface GrpcCheck {
  host: string;
  port: number;
  /** The service name of the health check request; "" asks about the server as a whole. */
  service: string;
  timeoutMs: number;
}

export interface TcpCheck {
  host: string;
  port: number;
  timeoutMs: number;
}

/**
 * node:http and node:http2, loaded on first use through process.getBuiltinModule: their ESM facades read every
 * export, and a lazy getter among them loads undici (~20 ms). The supervisor imports this module at start-up, and most
 * pods never run an HTTP or gRPC probe.
 */
const http = () => process.getBuiltinModule('node:http');
const h2 = () => process.getBuiltinModule('node:http2');

/** kubelet sends kube-probe/<its major.minor>; podns follows the 1.34 API. */
const USER_AGENT = 'kube-probe/1.34';
/** kubelet's maxRespBodyLength: the body is read up to 10 KiB. */
const MAX_BODY = 10 * 1024;
/** Go's http.Client stops after 10 redirects. */
const MAX_REDIRECTS = 10;

function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One GET probe: 200-399 is success, a redirect to another host ends the probe as a success, as kubelet does. */
export async function checkHttp(check: HttpCheck): Promise<CheckOutcome> {
  const deadline = Date.now() + check.timeoutMs;
  let url = new URL(`http://${hostPort(check.host, check.port)}${check.path.startsWith('/') ? '' : '/'}${check.path}`);
  const original = url.hostname;
  for (let redirects = 0; ; redirects++) {
    const response = await getOnce(url, check.headers, deadline - Date.now(), check.timeoutMs);
    if ('error' in response) return { ok: false, message: `Get "${url.href}": ${response.error}` };
    const { status, location, body } = response;
    if (status >= 300 && status < 400 && location !== undefined) {
      const next = new URL(location, url);
      // kubelet's redirect check: another host ends the probe there, as a success with a warning.
      if (next.hostname !== original) return { ok: true, message: `Probe terminated redirects, Response body: ${body}` };
      if (next.protocol !== 'http:') return { ok: false, message: `Get "${next.href}": podns probes do not follow redirects to ${next.protocol.replace(':', '')}` };
      if (redirects + 1 >= MAX_REDIRECTS) return { ok: false, message: `Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects` };
      url = next;
      continue;
    }
    if (status >= 200 && status < 400) return { ok: true, message: body };
    return { ok: false, message: `HTTP probe failed with statuscode: ${status}` };
  }
}

type Response = { status: number; location?: string; body: string } | { error: string };

/** One GET within what is left of the probe's time (`remainingMs` of `timeoutMs`, which the message names). */
function getOnce(url: URL, extra: HttpCheck['headers'], remainingMs: number, timeoutMs: number): Promise<Response> {
  // kubelet: the probe's headers first; User-Agent and Accept only when they set none; Host from a Host header.
  const headers: Record<string, string> = {};
  for (const h of extra) headers[h.name] = headers[h.name] === undefined ? h.value : `${headers[h.name]}, ${h.value}`;
  const has = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  if (!has('user-agent')) headers['User-Agent'] = USER_AGENT;
  if (!has('accept')) headers.Accept = '*/*';
  return new Promise((resolve) => {
    const timedOut = { error: `timed out after ${timeoutMs} ms (Client.Timeout exceeded)` };
    if (remainingMs <= 0) return resolve(timedOut);
    let settled = false;
    const finish = (r: Response) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    // agent: false is a fresh connection with Connection: close, as kubelet's DisableKeepAlives.
    const req = http().get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => finish({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY) });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY) done();
      });
      res.on('end', done);
      res.on('error', (err) => finish({ error: err.message }));
    });
    req.on('error', (err) => finish({ error: describeSocketError(err) }));
    const timer = setTimeout(() => finish(timedOut), remainingMs);
  });
}

/** One TCP connect: success as soon as the connection opens; it is closed at once. */
export function checkTcp(check: TcpCheck): Promise<CheckOutcome> {
  const target = hostPort(check.host, check.port);
  return new Promise((resolve) => {
    const socket = net.connect({ host: check.host, port: check.port });
    const finish = (outcome: CheckOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.once('connect', () => finish({ ok: true, message: '' }));
    socket.once('error', (err) => finish({ ok: false, message: `dial tcp ${target}: connect: ${describeSocketError(err)}` }));
    const timer = setTimeout(() => finish({ ok: false, message: `dial tcp ${target}: i/o timeout` }), check.timeoutMs);
  });
}

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
/** gRPC status codes, by number (for kubelet's "rpc error: code = ..." text). */
const GRPC_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** HealthCheckRequest{service}: protobuf field 1 (string) when not empty, in gRPC's 5-byte message frame. */
export function healthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body = name.length ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(body.length, 1);
  return Buffer.concat([frame, body]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.from(bytes);
}

/** HealthCheckResponse.status from a gRPC message frame; undefined when the message is not one. */
export function servingStatus(message: Buffer): number | undefined {
  if (message.length < 5 || message[0] !== 0) return undefined;
  const body = message.subarray(5, 5 + message.readUInt32BE(1));
  let status = 0; // proto3: an absent field is its zero value, UNKNOWN
  for (let i = 0; i < body.length; ) {
    const tag = body[i++]!;
    let value = 0;
    let shift = 0;
    if ((tag & 7) !== 0) return undefined; // only varint fields are expected here
    for (;;) {
      const b = body[i++];
      if (b === undefined) return undefined;
      value |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (tag >> 3 === 1) status = value;
  }
  return status;
}

/**
 * kubelet's gRPC probe (pkg/probe/grpc): grpc.health.v1.Health/Check over cleartext HTTP/2 to host:port,
 * success only for SERVING; its messages for the other outcomes.
 */
export function checkGrpc(check: GrpcCheck): Promise<CheckOutcome> {
  const target = hostPort(check.host, check.port);
  const within = `${check.timeoutMs / 1000}s`;
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const client = h2().connect(`http://${target}`);
    const finish = (outcome: CheckOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          message: connected ? `timeout: health rpc did not complete within ${within}` : `timeout: failed to connect service "${target}" within ${within}: context deadline exceeded`,
        }),
      check.timeoutMs,
    );
    const failed = (err: Error & { code?: string; cause?: unknown }) => {
      // A refused connection cancels the pending stream first: the socket's error is its cause.
      const cause = (err.cause instanceof Error ? err.cause : err) as Error & { code?: string };
      if (!connected) finish({ ok: false, message: `timeout: failed to connect service "${target}" within ${within}: ${describeSocketError(cause)}` });
      else finish({ ok: false, message: `error: health rpc probe failed: ${describeSocketError(cause)}` });
    };
    client.on('error', failed);
    client.on('connect', () => (connected = true));
    const req = client.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': USER_AGENT,
      'grpc-timeout': `${Math.max(1, check.timeoutMs)}m`,
    });
    const chunks: Buffer[] = [];
    let grpcStatus: { code: number; message: string } | undefined;
    const statusOf = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = { code: Number(headers['grpc-status']), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
    };
    req.on('response', (headers) => {
      const status = headers[':status'];
      if (status !== 200) finish({ ok: false, message: `error: health rpc probe failed: rpc error: code = Unknown desc = unexpected HTTP status code received from server: ${status}` });
      statusOf(headers); // a trailers-only answer carries grpc-status here
    });
    req.on('trailers', statusOf);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', failed);
    req.on('end', () => {
      if (grpcStatus && grpcStatus.code !== 0) {
        const code = GRPC_CODES[grpcStatus.code] ?? `Code(${grpcStatus.code})`;
        const rpc = `rpc error: code = ${code} desc = ${grpcStatus.message}`;
        if (code === 'Unimplemented') return finish({ ok: false, message: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${rpc}` });
        if (code === 'DeadlineExceeded') return finish({ ok: false, message: `timeout: health rpc did not complete within ${within}` });
        return finish({ ok: false, message: `error: health rpc probe failed: ${rpc}` });
      }
      const status = servingStatus(Buffer.concat(chunks));
      if (status === undefined) return finish({ ok: false, message: 'error: health rpc probe failed: the answer is not a HealthCheckResponse' });
      if (status !== 1) return finish({ ok: false, message: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")` });
      finish({ ok: true, message: '' });
    });
    req.end(healthCheckRequest(check.service));
  });
}

/** `connection refused (ECONNREFUSED)`: Go's words with the errno beside them. */
function describeSocketError(err: Error & { code?: string }): string {
  const words: Record<string, string> = { ECONNREFUSED: 'connection refused', EHOSTUNREACH: 'no route to host', ENETUNREACH: 'network is unreachable', ECONNRESET: 'connection reset by peer' };
  return err.code && words[err.code] ? `${words[err.code]} (${err.code})` : err.message;
}

/** The script's argv (after the script path) for a check; the inverse of parseArgs. */
export function connectorArgs(kind: 'http', check: HttpCheck): string[];
export function connectorArgs(kind: 'tcp', check: TcpCheck): string[];
export function connectorArgs(kind: 'grpc', check: GrpcCheck): string[];
export function connectorArgs(kind: 'http' | 'tcp' | 'grpc', check: HttpCheck | TcpCheck | GrpcCheck): string[] {
  if (kind === 'tcp') return ['tcp', check.host, String(check.port), String(check.timeoutMs)];
  if (kind === 'grpc') return ['grpc', check.host, String(check.port), String(check.timeoutMs), (check as GrpcCheck).service];
  const h = check as HttpCheck;
  return ['http', h.host, String(h.port), h.path, String(h.timeoutMs), ...h.headers.map((x) => `${x.name}: ${x.value}`)];
}

function parseArgs(args: string[]): { kind: 'http'; check: HttpCheck } | { kind: 'tcp'; check: TcpCheck } | { kind: 'grpc'; check: GrpcCheck } | undefined {
  const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  const [kind, host, portText] = args;
  const port = int(portText);
  if (!host || port === undefined) return undefined;
  if (kind === 'tcp' && args.length === 4) {
    const timeoutMs = int(args[3]);
    return timeoutMs === undefined ? undefined : { kind, check: { host, port, timeoutMs } };
  }
  if (kind === 'grpc' && args.length === 5) {
    const timeoutMs = int(args[3]);
    return timeoutMs === undefined ? undefined : { kind, check: { host, port, timeoutMs, service: args[4]! } };
  }
  if (kind === 'http' && args.length >= 5) {
    const timeoutMs = int(args[4]);
    const headers = args.slice(5).map((h) => ({ name: h.slice(0, h.indexOf(':')), value: h.slice(h.indexOf(':') + 1).trim() }));
    if (timeoutMs === undefined || headers.some((h) => !h.name)) return undefined;
    return { kind, check: { host, port, path: args[3]!, headers, timeoutMs } };
  }
  return undefined;
}

async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (!parsed) {
    process.stderr.write('usage: probe-connect.js http HOST PORT PATH TIMEOUT_MS [\'Name: value\' ...] | tcp HOST PORT TIMEOUT_MS | grpc HOST PORT TIMEOUT_MS SERVICE\n');
    return 2;
  }
  const outcome = parsed.kind === 'http' ? await checkHttp(parsed.check) : parsed.kind === 'grpc' ? await checkGrpc(parsed.check) : await checkTcp(parsed.check);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
