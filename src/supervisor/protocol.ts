/**
 * The supervisor's control socket (`<run root>/podns.sock`): one JSON request line per connection. Most
 * requests get one JSON response line and the connection closes; `run` gets heartbeat lines
 * (`{"alive":true}`, start-report.ts) while the pod starts and then its final report; `attach` turns the
 * connection into frames (attach-protocol.ts); `stream` answers with a URL on the streaming server (CRI's Exec,
 * Attach, PortForward). Pods are named by their id (`<name>`, or `<namespace>_<name>`).
 */
import type { PodState } from '../state/pod-state.js';
import type { AttachRequest } from './attach-protocol.js';

export type SupervisorRequest =
  /** Start the pod whose spec.json `podns run` wrote into `runDir` (the pod's run directory). */
  | { op: 'run'; runDir: string }
  | { op: 'status'; pod: string }
  /** Stop the pod (every container, then the sandbox), or one container of it; `timeout` overrides the grace period. */
  | { op: 'stop'; pod: string; container?: string; timeout?: number }
  /** Remove the pod: stop it first (SIGKILL with `force`), then delete everything of it. */
  | { op: 'remove'; pod: string; force: boolean }
  /** The supervisor itself: pid, pods, memory, event-loop delay. */
  | { op: 'info' }
  /** The supervisor exits; the pods run on (the next supervisor adopts them). */
  | { op: 'shutdown' }
  | AttachRequest
  | StreamRequest;

/**
 * A single-use URL (it expires after a minute) on the supervisor's streaming server, as CRI's Exec, Attach and
 * PortForward answer: the client then speaks Kubernetes' remotecommand or port-forward protocol there (SPDY/3.1 or
 * WebSocket). `container` defaults to the pod's first container, as kubectl's; `cmd` is exec's. Answered with
 * `{ok: true, url}`.
 */
export interface StreamRequest {
  op: 'stream';
  kind: 'exec' | 'attach' | 'portforward';
  pod: string;
  container?: string;
  cmd?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** port-forward over the WebSocket channel form: the ports it forwards. */
  ports?: number[];
}

export type SupervisorResponse<T = unknown> = { ok: true; state?: PodState; info?: T; url?: string } | { ok: false; error: string; code?: string; step?: string };

/** What `podns info` shows of the supervisor. */
export interface SupervisorInfo {
  pid: number;
  startedAt: string;
  root: string;
  node: string;
  /** The pods it supervises, by id, with their phase. */
  pods: { id: string; phase: string }[];
  /** Pods found on disk that it could not adopt, with why. */
  unadopted: { id: string; reason: string }[];
  memory: { rss: number; heapUsed: number };
  /** perf_hooks.monitorEventLoopDelay since the supervisor started, in ms. */
  eventLoopDelay: { p50: number; p99: number; max: number; samples: number };
  /** The same over the last full window (10 s), once one has passed. */
  eventLoopDelayWindow?: { p50: number; p99: number; max: number; samples: number; seconds: number };
  /** The CRI endpoint: its socket (null when it could not listen), and the sandboxes kubelet has made. */
  cri?: { socket: string | null; sandboxes: number };
}
