/**
 * `podns serve`: the supervisor process of a podns root, in the foreground (what a systemd unit runs), or —
 * `--detached`, as the CLI starts it on demand — detached, reporting on fd 3 when it serves.
 *
 * Start-up: take `<run>/supervisor.pid` (O_EXCL, `pid starttime`: one supervisor per root; a dead holder's file
 * is taken over), become the child subreaper (containers are its children through CLONE_PARENT; their orphans
 * come here, not to init), adopt every pod a dead supervisor left, then listen on `<run>/podns.sock`. Stopping
 * it (SIGTERM, SIGINT, `podns serve --stop`) never stops a pod: the next supervisor adopts them.
 */
import fs from 'node:fs';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;
import { acquireLock, type Release } from '../image/lock.js';
import { createLogger, type Logger } from '../log.js';
import { listenCri, type CriEndpoint } from '../cri/endpoint.js';
import { supervisorPaths, podsRunDir, type Roots } from '../state/paths.js';
import { nativeKernel } from '../sys/native.js';
import { PodnsError } from '../errors.js';
import { ControlServer } from './control-server.js';
import type { SupervisorInfo } from './protocol.js';
import { startHeartbeat } from './start-report.js';
import { Supervisor } from './supervisor.js';

/**
 * The event-loop delay sampler's period. The histogram records each period's whole length, so a sample's delay
 * is what exceeds it (lateness); 20 ms keeps an idle supervisor's wake-ups at 50 a second.
 */
const LOOP_SAMPLE_MS = 20;

/** The window `podns info` reports the event-loop delay over besides the supervisor's whole life. */
const LOOP_WINDOW_MS = 10_000;

function lateness(ns: number): number {
  return Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
}

function summarize(h: IntervalHistogram): SupervisorInfo['eventLoopDelay'] {
  return { p50: lateness(h.percentile(50)), p99: lateness(h.percentile(99)), max: lateness(h.max), samples: h.count };
}

/** fd 3 of a supervisor the CLI started: heartbeats while it adopts pods, then one report line. */
const REPORT_FD = 3;

export async function serve(roots: Roots, options: { detached: boolean }): Promise<void> {
  const report = options.detached ? openReport() : undefined;
  // PODNS_LOG_LEVEL=debug adds each step's timing to the log.
  const level = process.env.PODNS_LOG_LEVEL === 'debug' ? 'debug' : 'info';
  const log = createLogger((line) => process.stderr.write(line), level);
  const paths = supervisorPaths(roots);
  fs.mkdirSync(podsRunDir(roots), { recursive: true, mode: 0o700 });
  fs.chmodSync(roots.run, 0o700);

  let release: Release;
  try {
    release = await acquireLock(paths.pidFile, 'the supervisor', 0);
  } catch {
    // Another supervisor holds the root. Started on demand, two CLIs may race: the loser reports ready once the
    // winner serves. In the foreground it is a mistake worth one line.
    if (!report) throw new PodnsError('supervisor.lock', `a supervisor already runs for ${roots.run} (pid ${pidOf(paths.pidFile)})`);
    const serving = await waitUntilServing(paths.socket, 30_000);
    return finishReport(report, serving ? { ok: true } : { ok: false, error: `another supervisor (pid ${pidOf(paths.pidFile)}) holds ${paths.pidFile} but does not serve ${paths.socket}` });
  }

  // What `ps` shows of it (the title replaces the command line): which root it serves.
  process.title = roots.base ? `podns supervisor --root ${roots.base}` : 'podns supervisor';
  nativeKernel.becomeChildSubreaper();
  keepRunningOnErrors(log);
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  // The last full window too: the lifetime histogram holds every pod start's work, a window says how it is now.
  const windowDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  windowDelay.enable();
  let lastWindow: SupervisorInfo['eventLoopDelay'] | undefined;
  setInterval(() => {
    lastWindow = summarize(windowDelay);
    windowDelay.reset();
  }, LOOP_WINDOW_MS).unref();
  const startedAt = new Date().toISOString();
  log.info('supervisor starting', { pid: process.pid, root: roots.run, node: process.version });

  const supervisor = new Supervisor(roots, nativeKernel, log);
  supervisor.adoptAll();
  await supervisor.adoptCriSandboxes();
  const info = (): SupervisorInfo => ({
    pid: process.pid,
    startedAt,
    root: roots.base ?? roots.run,
    node: process.version,
    pods: supervisor.list().map((s) => ({ id: s.id, phase: s.phase })),
    unadopted: supervisor.unadopted,
    memory: { rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed },
    eventLoopDelay: summarize(loopDelay),
    ...(lastWindow ? { eventLoopDelayWindow: { ...lastWindow, seconds: LOOP_WINDOW_MS / 1000 } } : {}),
    cri: { socket: cri?.socketPath ?? null, sandboxes: supervisor.criSandboxCount() },
  });

  let cri: CriEndpoint | undefined;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info('supervisor exiting; the pods run on', { why, pods: supervisor.list().length });
    control.close();
    cri?.close();
    fs.rmSync(paths.socket, { force: true });
    void supervisor
      .closeStreaming()
      .catch(() => undefined)
      .then(release)
      .finally(() => process.exit(0));
  };
  const control = new ControlServer(supervisor, log, info, () => stop('podns serve --stop'));
  // A dead supervisor's socket is still there; nobody answers on it.
  fs.rmSync(paths.socket, { force: true });
  try {
    await control.listen(paths.socket);
  } catch (err) {
    await release();
    throw new PodnsError('supervisor.listen', `listen on ${paths.socket}: ${(err as Error).message}`);
  }
  fs.chmodSync(paths.socket, 0o600);
  // The CRI endpoint: a socket at once, gRPC on its first connection. Without it podns's own commands still work.
  try {
    cri = await listenCri(paths.criSocket, log, () => supervisor.criServices());
  } catch (err) {
    log.error('the CRI endpoint could not listen; kubelet and crictl cannot reach this supervisor', { socket: paths.criSocket, error: (err as Error).message });
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {});
  log.info('supervisor serving', { socket: paths.socket, pods: supervisor.list().length, unadopted: supervisor.unadopted.length });
  if (report) finishReport(report, { ok: true });
}

function openReport(): net.Socket {
  const channel = new net.Socket({ fd: REPORT_FD, readable: false, writable: true });
  channel.on('error', () => {});
  startHeartbeat(channel);
  return channel;
}

function finishReport(channel: net.Socket, line: object): void {
  channel.end(JSON.stringify(line) + '\n');
}

function pidOf(pidFile: string): string {
  try {
    return fs.readFileSync(pidFile, 'utf8').split(' ')[0]!.trim() || '?';
  } catch {
    return '?';
  }
}

/** Polls the socket until it accepts a connection. */
async function waitUntilServing(socketPath: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createConnection(socketPath);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * One pod's bug must not take the others' supervision down: an exception nobody caught is logged with its stack
 * and the supervisor goes on (every pod's state is on disk; what the failing handler was doing is that pod's
 * loss alone).
 */
function keepRunningOnErrors(log: Logger): void {
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err.message, stack: err.stack }));
  process.on('unhandledRejection', (reason) =>
    log.error('unhandled rejection', { error: reason instanceof Error ? reason.message : String(reason), stack: reason instanceof Error ? reason.stack : undefined }),
  );
}
