/**
 * kubelet's prober for one container (pkg/kubelet/prober: worker.go, prober.go), in the supervisor.
 *
 * Semantics, as kubelet's:
 * - A startup probe, if any, runs first; liveness and readiness probes do not run until it succeeds. Its
 *   failureThreshold consecutive failures are a liveness failure.
 * - Each probe runs every periodSeconds (a tick is skipped while the previous probe still runs), the first one
 *   initialDelaySeconds after start() (the container's start). kubelet ticks from the worker's creation and skips
 *   ticks inside the delay, so its first probe lands on the first tick at or after the delay; podns probes at
 *   the delay itself, as the field's documentation says. Once the startup probe succeeds, a readiness probe
 *   whose delay has passed runs at once (kubelet's manual trigger).
 * - Results count consecutively: failureThreshold failures in a row are Failure, successThreshold successes in
 *   a row are Success; until then the previous verdict stands (readiness starts as not ready).
 * - exec: exit 0 is success; a timeout is a failure ("command timed out"); any other error (the exec could not
 *   be made) is thrown away, as kubelet's "probe errored" is. httpGet: 200-399 (probe-connect.ts). tcpSocket:
 *   a connection opens. Every probe is also bounded here, at timeoutSeconds plus a second, in case a target
 *   never answers.
 * - A liveness (or startup) Failure calls onLivenessFailure once and holds that probe: the supervisor kills the
 *   container (with the probe's terminationGracePeriodSeconds when set, the pod's otherwise) and, when it
 *   restarts it, calls start() again (or makes a new prober), which resets everything.
 *
 * The target, wired by the supervisor:
 * - `exec(argv, timeoutMs)`: run argv in all of the container's namespaces and cgroups, with its env, user,
 *   cwd and seccomp filter — what `podns exec` does (src/cli/commands/exec.ts: planExecSpawn, spawnProcess,
 *   watchExit), stdio on /dev/null — and resolve with the exit code (128+signal when killed). At timeoutMs,
 *   SIGKILL the process and reject with an error whose `code` is 'ETIMEDOUT'. Reject with anything else when
 *   the exec cannot be made (container gone). `execInContainer(state, argv, timeoutMs)` in container-exec.ts.
 * - `podIP`: the pod's address in bridge or CNI mode: httpGet and tcpSocket connect to it from the supervisor.
 * - `netnsPath`: /run/netns/<pod> for a pod without an IP (network mode none): the check runs inside it, as
 *   `nsenter --net=<netnsPath> <node> <dist>/kubelet/probe-connect.js ...`, against 127.0.0.1 unless the probe
 *   names a host. With neither (hostNetwork), the supervisor connects to 127.0.0.1 itself.
 */
import type { ContainerSpec, Probe } from '../manifest/types.js';
import { SpawnRunner, type CommandRunner } from '../sys/command.js';
import { projectPath } from '../sys/project-path.js';
import { checkGrpc, checkHttp, checkTcp, connectorArgs, type CheckOutcome, type GrpcCheck, type HttpCheck, type TcpCheck } from './probe-connect.js';

export interface ProbeTarget {
  /** Runs argv in the container's namespaces (like `podns exec`), resolves with its exit code; rejects on timeout. */
  exec(argv: string[], timeoutMs: number): Promise<number>;
  /** The pod's IP when it has one (bridge/CNI mode); httpGet/tcpSocket go to it, or to `host` when set. */
  podIP?: string;
  /** The pinned network namespace path (/run/netns/<pod>) for pods without an IP (network mode none): connect from inside it. */
  netnsPath?: string;
}

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProberEvents {
  /** Every probe's result, for the event log ("Liveness probe failed: ..."); thresholds are applied elsewhere. */
  onResult(kind: ProbeKind, ok: boolean, message: string): void;
  /** The liveness or startup probe reached failureThreshold: kill the container; gracePeriodSeconds is the probe's own, when set. */
  onLivenessFailure(message: string, gracePeriodSeconds?: number): void;
  onReadyChange(ready: boolean): void;
}

export interface ProberClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Where httpGet, tcpSocket and grpc checks run from. */
export interface ProbeNetwork {
  http(check: HttpCheck): Promise<CheckOutcome>;
  tcp(check: TcpCheck): Promise<CheckOutcome>;
  grpc(check: GrpcCheck): Promise<CheckOutcome>;
}

/** Checks from the supervisor's own network namespace. */
export const DIRECT_NETWORK: ProbeNetwork = { http: checkHttp, tcp: checkTcp, grpc: checkGrpc };

/** Checks from inside a pinned network namespace, through `nsenter --net` and the probe-connect.js script. */
export function netnsNetwork(netnsPath: string, runner: CommandRunner, script = projectPath('dist/kubelet/probe-connect.js'), node = process.execPath): ProbeNetwork {
  const run = async (args: string[]): Promise<CheckOutcome> => {
    const { stdout } = await runner.run(['nsenter', `--net=${netnsPath}`, node, script, ...args], { step: 'probe.connect' });
    return JSON.parse(stdout) as CheckOutcome;
  };
  return {
    http: (check) => run(connectorArgs('http', check)),
    tcp: (check) => run(connectorArgs('tcp', check)),
    grpc: (check) => run(connectorArgs('grpc', check)),
  };
}

/** The backstop beyond timeoutSeconds, for a target that never answers. */
const GUARD_SLACK_MS = 1000;

type Outcome = { result: 'success' | 'failure' | 'error'; message: string };

const LABEL: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };

/** One probe's schedule and consecutive-result count (kubelet's worker). */
class ProbeWorker {
  private timer: unknown;
  private generation = 0;
  private running = false;
  private lastOk: boolean | undefined;
  private resultRun = 0;
  /** initialDelaySeconds has passed since start. */
  delayPassed = false;

  constructor(
    readonly kind: ProbeKind,
    readonly probe: Probe,
    private readonly clock: ProberClock,
    private readonly mayProbe: () => boolean,
    private readonly execute: (probe: Probe) => Promise<Outcome>,
    private readonly onOutcome: (outcome: Outcome) => void,
    private readonly onVerdict: (ok: boolean, message: string) => void,
  ) {}

  start(): void {
    this.stop();
    this.lastOk = undefined;
    this.resultRun = 0;
    this.delayPassed = false;
    this.arm(this.probe.initialDelaySeconds * 1000, () => {
      this.delayPassed = true;
      this.tick();
    });
  }

  stop(): void {
    this.generation++;
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Probes now, between ticks, if the delay has passed and no probe is running. */
  trigger(): void {
    if (this.delayPassed && !this.running && this.mayProbe()) void this.runOnce();
  }

  private arm(ms: number, fn: () => void): void {
    const generation = this.generation;
    this.timer = this.clock.setTimeout(() => {
      if (generation === this.generation) fn();
    }, ms);
  }

  private tick(): void {
    this.arm(this.probe.periodSeconds * 1000, () => this.tick());
    // Like a Go ticker: a tick that comes while the last probe still runs is dropped.
    if (!this.running && this.mayProbe()) void this.runOnce();
  }

  private async runOnce(): Promise<void> {
    const generation = this.generation;
    this.running = true;
    const outcome = await this.execute(this.probe);
    if (generation !== this.generation) return;
    this.running = false;
    this.onOutcome(outcome);
    if (outcome.result === 'error') return;
    const ok = outcome.result === 'success';
    if (this.lastOk === ok) this.resultRun++;
    else {
      this.lastOk = ok;
      this.resultRun = 1;
    }
    if (ok ? this.resultRun < this.probe.successThreshold : this.resultRun < this.probe.failureThreshold) return;
    this.onVerdict(ok, outcome.message);
  }
}

export class ContainerProber {
  private readonly workers: Partial<Record<ProbeKind, ProbeWorker>> = {};
  private readonly network: ProbeNetwork;
  private readonly defaultHost: string;
  private isStarted = false;
  private readinessOk = false;
  private reportedReady = false;
  private active = false;

  constructor(
    container: ContainerSpec,
    private readonly target: ProbeTarget,
    private readonly events: ProberEvents,
    private readonly clock: ProberClock = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    options: { network?: ProbeNetwork; runner?: CommandRunner } = {},
  ) {
    this.network = options.network ?? (target.podIP || !target.netnsPath ? DIRECT_NETWORK : netnsNetwork(target.netnsPath, options.runner ?? new SpawnRunner()));
    this.defaultHost = target.podIP || '127.0.0.1';
    const probes: [ProbeKind, Probe | undefined][] = [['startup', container.startupProbe], ['liveness', container.livenessProbe], ['readiness', container.readinessProbe]];
    for (const [kind, probe] of probes) {
      if (!probe) continue;
      this.workers[kind] = new ProbeWorker(
        kind,
        probe,
        clock,
        () => kind === 'startup' ? !this.isStarted : this.isStarted,
        (p) => this.execute(p),
        (o) => this.events.onResult(kind, o.result === 'success', o.result === 'error' ? `probe errored: ${o.message}` : o.message),
        (ok, message) => this.onVerdict(kind, ok, message),
      );
    }
  }

  /** The container's readiness: started, and the readiness probe's verdict (true without one). */
  get ready(): boolean {
    return this.isStarted && (this.workers.readiness ? this.readinessOk : true);
  }

  /** The startup probe has succeeded (true without one, once started). */
  get started(): boolean {
    return this.isStarted;
  }

  /** Call when the container (re)starts: every count is reset and every probe scheduled afresh. */
  start(): void {
    this.stop();
    this.active = true;
    this.isStarted = !this.workers.startup;
    this.readinessOk = false;
    for (const worker of Object.values(this.workers)) worker.start();
    this.updateReady();
  }

  /** Stops every probe; a result still in flight is thrown away. ready and started keep their last values. */
  stop(): void {
    this.active = false;
    for (const worker of Object.values(this.workers)) worker.stop();
  }

  private onVerdict(kind: ProbeKind, ok: boolean, message: string): void {
    if (!this.active) return;
    const worker = this.workers[kind]!;
    if (kind === 'readiness') {
      this.readinessOk = ok;
    } else if (!ok) {
      // kubelet puts the worker on hold until the container is restarted.
      worker.stop();
      this.events.onLivenessFailure(`${LABEL[kind]} probe failed: ${message}`, worker.probe.terminationGracePeriodSeconds);
      return;
    } else if (kind === 'startup') {
      this.isStarted = true;
      worker.stop();
      this.workers.readiness?.trigger();
    }
    this.updateReady();
  }

  private updateReady(): void {
    const ready = this.ready;
    if (ready === this.reportedReady) return;
    this.reportedReady = ready;
    this.events.onReadyChange(ready);
  }

  private async execute(probe: Probe): Promise<Outcome> {
    const timeoutMs = probe.timeoutSeconds * 1000;
    let guard: unknown;
    const timedOut = new Promise<Outcome>((resolve) => {
      guard = this.clock.setTimeout(() => resolve({ result: 'failure', message: `timed out after ${probe.timeoutSeconds}s` }), timeoutMs + GUARD_SLACK_MS);
    });
    try {
      return await Promise.race([this.attempt(probe, timeoutMs), timedOut]);
    } finally {
      this.clock.clearTimeout(guard);
    }
  }

  private async attempt(probe: Probe, timeoutMs: number): Promise<Outcome> {
    try {
      if ('exec' in probe) {
        const code = await this.target.exec(probe.exec.command, timeoutMs);
        return code === 0 ? { result: 'success', message: '' } : { result: 'failure', message: `command ${JSON.stringify(probe.exec.command)} exited with code ${code}` };
      }
      const outcome =
        'httpGet' in probe
          ? await this.network.http({ host: probe.httpGet.host ?? this.defaultHost, port: probe.httpGet.port, path: probe.httpGet.path, headers: probe.httpGet.httpHeaders, timeoutMs })
          : 'grpc' in probe
            ? // kubelet's gRPC probe has no host field: always the pod's address.
              await this.network.grpc({ host: this.defaultHost, port: probe.grpc.port, service: probe.grpc.service ?? '', timeoutMs })
            : await this.network.tcp({ host: probe.tcpSocket.host ?? this.defaultHost, port: probe.tcpSocket.port, timeoutMs });
      return { result: outcome.ok ? 'success' : 'failure', message: outcome.message };
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'ETIMEDOUT') return { result: 'failure', message: 'exec' in probe ? `command ${JSON.stringify(probe.exec.command)} timed out` : e.message };
      return { result: 'error', message: e.message ?? String(err) };
    }
  }
}
