/** ContainerProber against a fake target and a fake clock: kubelet's thresholds, startup gating, readiness, timeouts. */
import { describe, expect, it } from 'vitest';
import type { ContainerSpec, Probe } from '../../../src/manifest/types.js';
import { ContainerProber, netnsNetwork, type ProbeKind, type ProbeNetwork, type ProberClock } from '../../../src/kubelet/probes.js';
import type { HttpCheck, TcpCheck } from '../../../src/kubelet/probe-connect.js';
import { RecordingRunner } from '../../../src/sys/command.js';

/** Virtual time: timers run in order as advance() passes them, with promise callbacks flushed between. */
class FakeClock implements ProberClock {
  now = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await flush();
    for (;;) {
      const next = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
      await flush();
    }
    this.now = end;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

const probe = (handler: object, timing: Partial<Probe> = {}): Probe =>
  ({ initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, ...handler, ...timing }) as Probe;
const exec = (name: string, timing: Partial<Probe> = {}) => probe({ exec: { command: [name] } }, timing);
const container = (probes: Partial<ContainerSpec>): ContainerSpec => ({ name: 'c', image: 'busybox', env: [], ports: [], volumeMounts: [], ...probes });

/** A target whose exec answers per command from a queue of exit codes (the last one repeats); 'hang' never answers. */
function setUp(spec: ContainerSpec, answers: Record<string, (number | 'timeout' | 'hang' | Error)[]>, extra: { podIP?: string; netnsPath?: string; network?: ProbeNetwork } = {}) {
  const clock = new FakeClock();
  const calls: { at: number; argv: string[]; timeoutMs: number }[] = [];
  const results: [ProbeKind, boolean, string][] = [];
  const failures: [string, number | undefined][] = [];
  const readyChanges: boolean[] = [];
  const target = {
    podIP: extra.podIP,
    netnsPath: extra.netnsPath,
    exec(argv: string[], timeoutMs: number): Promise<number> {
      calls.push({ at: clock.now, argv, timeoutMs });
      const queue = answers[argv[0]!]!;
      const answer = queue.length > 1 ? queue.shift()! : queue[0]!;
      if (answer === 'hang') return new Promise(() => {});
      if (answer === 'timeout') {
        return new Promise((_, reject) => clock.setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs));
      }
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve(answer);
    },
  };
  const prober = new ContainerProber(spec, target, {
    onResult: (kind, ok, message) => results.push([kind, ok, message]),
    onLivenessFailure: (message, grace) => failures.push([message, grace]),
    onReadyChange: (ready) => readyChanges.push(ready),
  }, clock, { network: extra.network });
  return { clock, calls, results, failures, readyChanges, prober };
}

const times = (calls: { at: number; argv: string[] }[], name: string) => calls.filter((c) => c.argv[0] === name).map((c) => c.at / 1000);

describe('ContainerProber', () => {
  it('is started and ready at once without probes', async () => {
    const t = setUp(container({}), {});
    expect(t.prober.ready).toBe(false);
    t.prober.start();
    expect([t.prober.started, t.prober.ready, t.readyChanges]).toEqual([true, true, [true]]);
    await t.clock.advance(60_000);
    expect(t.clock.pending).toBe(0);
  });

  it('probes liveness after initialDelaySeconds, then every periodSeconds, passing timeoutSeconds', async () => {
    const t = setUp(container({ livenessProbe: exec('live', { initialDelaySeconds: 5, periodSeconds: 3, timeoutSeconds: 2 }) }), { live: [0] });
    t.prober.start();
    await t.clock.advance(4_999);
    expect(t.calls).toEqual([]);
    await t.clock.advance(10_001);
    expect(times(t.calls, 'live')).toEqual([5, 8, 11, 14]);
    expect(t.calls[0]!.timeoutMs).toBe(2000);
    expect(t.failures).toEqual([]);
    expect(t.prober.ready).toBe(true);
  });

  it('fails liveness after failureThreshold consecutive failures, once, and holds the probe', async () => {
    const t = setUp(container({ livenessProbe: exec('live', { terminationGracePeriodSeconds: 4 }) }), { live: [1, 1, 0, 1, 1, 1, 0] });
    t.prober.start();
    await t.clock.advance(40_000);
    // Two failures, then a success resets the count: the failure is the three in a row at 30, 40 and 50 s.
    expect(t.failures).toEqual([]);
    await t.clock.advance(20_000);
    expect(t.failures).toEqual([['Liveness probe failed: command ["live"] exited with code 1', 4]]);
    expect(times(t.calls, 'live')).toEqual([0, 10, 20, 30, 40, 50]);
    await t.clock.advance(60_000);
    expect(t.calls.length).toBe(6);
    expect(t.results.filter(([, ok]) => ok).length).toBe(1);
  });

  it('holds liveness and readiness back until the startup probe succeeds; readiness then runs at once', async () => {
    const t = setUp(container({
      startupProbe: exec('start', { periodSeconds: 2, failureThreshold: 10 }),
      livenessProbe: exec('live', { periodSeconds: 5 }),
      readinessProbe: exec('ready', { periodSeconds: 5 }),
    }), { start: [1, 1, 1, 0], live: [0], ready: [0] });
    t.prober.start();
    expect([t.prober.started, t.prober.ready]).toEqual([false, false]);
    await t.clock.advance(5_000);
    expect(times(t.calls, 'start')).toEqual([0, 2, 4]);
    expect(times(t.calls, 'live')).toEqual([]);
    expect(times(t.calls, 'ready')).toEqual([]);
    await t.clock.advance(1_000);
    expect(t.prober.started).toBe(true);
    expect(times(t.calls, 'ready')).toEqual([6]);
    expect(t.prober.ready).toBe(true);
    expect(t.readyChanges).toEqual([true]);
    await t.clock.advance(10_000);
    // The startup probe stops once it succeeded; the others keep their own ticks.
    expect(times(t.calls, 'start')).toEqual([0, 2, 4, 6]);
    expect(times(t.calls, 'live')).toEqual([10, 15]);
    expect(times(t.calls, 'ready')).toEqual([6, 10, 15]);
  });

  it('counts failureThreshold startup failures as a liveness failure; liveness never ran', async () => {
    const t = setUp(container({ startupProbe: exec('start', { periodSeconds: 1, failureThreshold: 3 }), livenessProbe: exec('live') }), { start: [7], live: [0] });
    t.prober.start();
    await t.clock.advance(30_000);
    expect(t.failures).toEqual([['Startup probe failed: command ["start"] exited with code 7', undefined]]);
    expect(times(t.calls, 'start')).toEqual([0, 1, 2]);
    expect(times(t.calls, 'live')).toEqual([]);
    expect([t.prober.started, t.prober.ready]).toEqual([false, false]);
  });

  it('flips readiness by successThreshold and failureThreshold consecutive results', async () => {
    const t = setUp(container({ readinessProbe: exec('ready', { periodSeconds: 1, successThreshold: 2, failureThreshold: 2 }) }),
      { ready: [0, 1, 0, 0, 1, 0, 1, 1, 0, 0] });
    t.prober.start();
    const seen: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      await t.clock.advance(i === 0 ? 0 : 1_000);
      seen.push(t.prober.ready);
    }
    // results: S F S S F S F F S S
    expect(seen).toEqual([false, false, false, true, true, true, true, false, false, true]);
    expect(t.readyChanges).toEqual([true, false, true]);
    expect(t.failures).toEqual([]);
  });

  it('counts timeouts as failures: a target that times out, and one that never answers', async () => {
    const t = setUp(container({ livenessProbe: exec('live', { timeoutSeconds: 2, failureThreshold: 2 }) }), { live: ['timeout'] });
    t.prober.start();
    await t.clock.advance(10_000);
    expect(t.results).toEqual([['liveness', false, 'command ["live"] timed out']]);
    await t.clock.advance(2_000);
    expect(t.failures).toEqual([['Liveness probe failed: command ["live"] timed out', undefined]]);

    const h = setUp(container({ readinessProbe: exec('ready', { timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 }) }), { ready: [0, 'hang', 0] });
    h.prober.start();
    await h.clock.advance(0);
    expect(h.prober.ready).toBe(true);
    await h.clock.advance(2_999);
    expect(h.results.length).toBe(1);
    await h.clock.advance(1);
    // The probe started at 1 s hangs: cut at timeoutSeconds plus the one-second backstop (3 s); the tick at 2 s
    // was dropped while it ran, the one at 3 s probes again.
    expect(h.results.map(([, ok, m]) => [ok, m])).toEqual([[true, ''], [false, 'timed out after 1s'], [true, '']]);
    expect(h.readyChanges).toEqual([true, false, true]);
    expect(times(h.calls, 'ready')).toEqual([0, 1, 3]);
  });

  it('throws away errors that are not timeouts, as kubelet does with "probe errored"', async () => {
    const t = setUp(container({ livenessProbe: exec('live', { failureThreshold: 2 }) }), { live: [1, new Error('container gone'), 0, 1, new Error('x'), 1] });
    t.prober.start();
    await t.clock.advance(50_000);
    expect(t.results.map(([, ok, m]) => `${ok}:${m}`)).toEqual([
      'false:command ["live"] exited with code 1', 'false:probe errored: container gone', 'true:', 'false:command ["live"] exited with code 1', 'false:probe errored: x', 'false:command ["live"] exited with code 1',
    ]);
    expect(t.failures.length).toBe(1);
  });

  it('sends httpGet and tcpSocket checks to the pod IP, or to the probe host', async () => {
    const checks: (HttpCheck | TcpCheck)[] = [];
    const network: ProbeNetwork = {
      http: async (c) => (checks.push(c), { ok: false, message: 'HTTP probe failed with statuscode: 503' }),
      tcp: async (c) => (checks.push(c), { ok: true, message: '' }),
    };
    const t = setUp(container({
      readinessProbe: probe({ httpGet: { path: '/ready', port: 8080, scheme: 'HTTP', httpHeaders: [{ name: 'X-A', value: 'b' }] } }, { timeoutSeconds: 3, failureThreshold: 1 }),
      livenessProbe: probe({ tcpSocket: { port: 9000, host: '10.89.0.9' } }),
    }), {}, { podIP: '10.89.0.7', network });
    t.prober.start();
    await t.clock.advance(0);
    expect(checks).toEqual([
      { host: '10.89.0.9', port: 9000, timeoutMs: 1000 },
      { host: '10.89.0.7', port: 8080, path: '/ready', headers: [{ name: 'X-A', value: 'b' }], timeoutMs: 3000 },
    ]);
    expect(t.results).toEqual([['liveness', true, ''], ['readiness', false, 'HTTP probe failed with statuscode: 503']]);
    expect(t.prober.ready).toBe(false);
  });

  it('stop() cancels every probe and discards a result in flight; start() begins afresh', async () => {
    let release: (code: number) => void = () => {};
    const t = setUp(container({ livenessProbe: exec('live', { failureThreshold: 1 }) }), { live: ['hang'] });
    const target = (t.prober as unknown as { target: { exec: (a: string[], ms: number) => Promise<number> } }).target;
    target.exec = (argv) => (t.calls.push({ at: t.clock.now, argv, timeoutMs: 0 }), new Promise((resolve) => (release = resolve)));
    t.prober.start();
    await t.clock.advance(0);
    t.prober.stop();
    release(1);
    await t.clock.advance(60_000);
    expect([t.results, t.failures, t.clock.pending]).toEqual([[], [], 0]);
    target.exec = async (argv) => (t.calls.push({ at: t.clock.now, argv, timeoutMs: 0 }), 1);
    t.prober.start();
    await t.clock.advance(0);
    expect(t.failures.length).toBe(1);
  });
});

describe('netnsNetwork', () => {
  it('runs the connector script inside the pod network namespace with nsenter', async () => {
    const runner = new RecordingRunner(() => ({ stdout: '{"ok":false,"message":"dial tcp 127.0.0.1:81: connect: connection refused (ECONNREFUSED)"}\n' }));
    const network = netnsNetwork('/run/netns/p', runner, '/podns/dist/kubelet/probe-connect.js', '/usr/bin/node');
    expect(await network.tcp({ host: '127.0.0.1', port: 81, timeoutMs: 1000 })).toEqual({ ok: false, message: 'dial tcp 127.0.0.1:81: connect: connection refused (ECONNREFUSED)' });
    await network.http({ host: '127.0.0.1', port: 8080, path: '/healthz', headers: [{ name: 'Host', value: 'web' }], timeoutMs: 2000 });
    expect(runner.calls).toEqual([
      ['nsenter', '--net=/run/netns/p', '/usr/bin/node', '/podns/dist/kubelet/probe-connect.js', 'tcp', '127.0.0.1', '81', '1000'],
      ['nsenter', '--net=/run/netns/p', '/usr/bin/node', '/podns/dist/kubelet/probe-connect.js', 'http', '127.0.0.1', '8080', '/healthz', '2000', 'Host: web'],
    ]);
  });
});
