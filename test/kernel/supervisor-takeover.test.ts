/**
 * The supervisor's death loses nothing: the pause holds every run's output pipes (its fd store), so a container
 * whose supervisor was SIGKILLed keeps writing without EPIPE; the next podns command starts a new supervisor that
 * adopts the pod — nothing of the output lost, exec, restarts (restartPolicy, counts), stop -c and rm through it,
 * pause's fd table steady across restarts, a container that exited while no supervisor ran reported as
 * ContainerStatusUnknown with its last output kept, a recycled pid never adopted, init containers resumed,
 * --infra=none refused. And the control socket during the start: status answers while a postStart hook holds
 * the start, and stop or rm -f then aborts it (run fails in one line, nothing left).
 * Also the pieces on their own: pause's fd store (hold, close on hang-up, park unread output until a nudge) and
 * the addon's watch of a process that is not our child (status kept after its parent reaped it; a wrong start
 * time refused).
 * Requires: root, the native build, dist/, the test images (see harness.ts); Linux 5.6+ (pidfd_getfd).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, killSupervisor, podName, projectRoot, sleep, supervisorPid, waitFor, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, isRunning, leaksAfterRemoval, podYaml, procStatus, sh, SLEEPER } from './support.js';
import { connect, requestOn } from '../../src/supervisor/client.js';
import type { SupervisorRequest, SupervisorResponse } from '../../src/supervisor/protocol.js';
import { becomeChildSubreaper, makePipe, makeSocketPair, sendFds, spawnProcess, takeFd, watchExit, watchForeignExit, type ExitStatus } from '../../src/sys/native.js';
import { processRef } from '../../src/runtime/proc.js';

process.env.PODNS_BACKOFF_SCALE = '0.01';

interface Ctr {
  name: string;
  status: string;
  restartCount: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  process?: { pid: number; startTime: number };
  lastState?: { terminated: { exitCode: number; reason?: string } };
}
interface Pod {
  phase: string;
  supervisor: { pid: number; startTime: number };
  supervisorAlive: boolean;
  pause: { pid: number };
  paths: { runDir: string };
  containers: Ctr[];
  initContainers?: Ctr[];
}

const pauseBin = path.join(projectRoot, 'build', 'Release', 'pause');

/** The pause's open fds, by number, as readlink shows them (pipe:[ino], socket:[ino], ...). */
function fdsOf(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return `${fd} ?`;
    }
  });
}

describe.skipIf(kernelSkip)('the pause as fd store, and watching a process that is not our child', () => {
  const started: number[] = [];
  afterAll(() => {
    for (const pid of started) if (isRunning(pid)) process.kill(pid, 'SIGKILL'); // pauses this test started
  });

  it('pause with PODNS_FD_STORE=1 holds what it is sent, closes a pipe whose writers are gone, parks one with unread output until a nudge, and drops a write end on request', async () => {
    const [receive, send] = makeSocketPair();
    const pid = spawnProcess({ execFile: pauseBin, argv: ['/pause'], env: ['PODNS_FD_STORE=1'], extraFds: [receive, send] }, 'pause');
    started.push(pid);
    fs.closeSync(receive);
    const pipes = () => fdsOf(pid).filter((l) => l.includes('pipe:'));
    await waitFor(() => fdsOf(pid).filter((l) => /^[34] socket:/.test(l)).length === 2, 3000, 'the store on fds 3 and 4');

    const [quietRead, quietWrite] = makePipe();
    const [loudRead, loudWrite] = makePipe();
    sendFds(send, [quietRead, loudRead], 'test');
    fs.closeSync(quietRead);
    fs.closeSync(loudRead);
    await waitFor(() => pipes().length === 2, 3000, 'two held pipes');

    // All writers gone, nothing unread: closed. Writers gone with output unread: parked, still held.
    fs.writeSync(loudWrite, 'last words\n');
    fs.closeSync(quietWrite);
    fs.closeSync(loudWrite);
    await waitFor(() => pipes().length === 1, 3000, 'the drained pipe closed');
    await sleep(100);
    expect(pipes()).toHaveLength(1);

    // A later reader takes a copy (as a new supervisor does), drains it, and nudges: the pause lets it go.
    const fd = Number(pipes()[0]!.split(' ')[0]);
    const copy = takeFd(processRef(pid)!, fd);
    const buf = Buffer.alloc(64);
    expect(buf.subarray(0, fs.readSync(copy, buf)).toString()).toBe('last words\n');
    fs.closeSync(copy);
    sendFds(send, [], 'nudge');
    await waitFor(() => pipes().length === 0, 3000, 'the parked pipe closed after the nudge');

    // A write end (a container's stdin) is held until it is dropped: then the reader sees EOF at once.
    const [inRead, inWrite] = makePipe();
    sendFds(send, [inWrite], 'test');
    await waitFor(() => pipes().length === 1, 3000, 'the held write end');
    sendFds(send, [inWrite], 'test', 'drop');
    fs.closeSync(inWrite);
    await waitFor(() => pipes().length === 0, 3000, 'the write end dropped');
    expect(fs.readSync(inRead, Buffer.alloc(8))).toBe(0);
    fs.closeSync(inRead);
    fs.closeSync(send);
    process.kill(pid, 'SIGTERM');
  });

  it('takeFd and watchForeignExit refuse a pid whose start time is not the recorded one (a recycled pid)', () => {
    const self = processRef(process.pid)!;
    expect(() => takeFd({ pid: self.pid, startTime: self.startTime + 1 }, 0)).toThrow(/ESRCH/);
    expect(() => watchForeignExit({ pid: self.pid, startTime: self.startTime + 1 }, () => {})).toThrow(/ESRCH/);
  });

  it("the exit status of a process that is not our child, even after its own parent reaped it (Linux 6.15+: PIDFD_INFO_EXIT)", async () => {
    // sh starts the grandchild and waits for it: sh reaps it the moment it exits, before we can look.
    const parent: ChildProcess = spawn('sh', ['-c', '(sleep 0.5; exit 7) & echo $!; wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const status = await new Promise<ExitStatus>((resolve) => watchForeignExit(processRef(pid)!, resolve));
    await new Promise((resolve) => parent.once('exit', resolve));
    const [major, minor] = os.release().split('.').map(Number) as [number, number];
    if (major > 6 || (major === 6 && minor >= 15)) expect(status).toEqual({ exitCode: 7, signal: null });
    // Older kernels: known while the zombie was there, else reported lost.
    else expect(status.exitCode === 7 || status.error === 'ENODATA').toBe(true);
  });
});

describe.skipIf(kernelSkip)('the control socket while the pod starts', () => {
  let podns: Podns;
  const used: string[] = [];
  const slowPod = (base: string) => {
    const name = podName(base);
    used.push(name);
    const containers = `  - name: main\n    image: ${BUSYBOX}\n    command: ${SLEEPER}\n    lifecycle:\n      postStart: {exec: {command: ["sleep", "60"]}}\n`;
    return { name, file: podns.writeManifest(name, podYaml(name, { containers })) };
  };
  /** One request on the root's supervisor socket. */
  const ask = async (request: SupervisorRequest): Promise<SupervisorResponse> => requestOn(await connect(path.join(podns.root, 'run', 'podns.sock')), request, 5000);
  /** Nothing of the pod: no state dirs, logs, pin, mounts or processes. */
  const expectNothingOf = async (name: string) => {
    for (const d of ['run', 'lib']) expect(fs.existsSync(path.join(podns.root, d, 'pods', name)), `${d} dir`).toBe(false);
    const logs = path.join(podns.root, 'log', 'pods');
    expect(fs.existsSync(logs) ? fs.readdirSync(logs).filter((d) => d.includes(name)) : []).toEqual([]);
    expect(await leaksAfterRemoval(podns.root, [name])).toEqual([]);
  };
  /** `podns run` in the background, and the moment its container runs (its postStart hook holds the start). */
  const startSlow = async (name: string, file: string) => {
    const run = podns.run(['run', file], { timeout: 90_000 });
    await waitFor(() => fs.existsSync(path.join(podns.root, 'run', 'pods', name, 'status.json')), 10_000, 'the pod to be handed to the supervisor');
    // The supervisor's own view (ps shows the container ContainerCreating until its postStart returns, as kubectl does).
    await waitFor(async () => {
      const r = await ask({ op: 'status', pod: name });
      const c = r.ok ? (r.state as Pod).containers[0] : undefined;
      return c?.status === 'running' && isRunning(c.process!.pid);
    }, 10_000, 'the container to run');
    // Wrapped: an async function returning the promise itself would wait for it.
    return { run };
  };

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterEach(async () => {
    for (const name of used.splice(0)) await podns.run(['rm', '-f', name]);
  });
  afterAll(async () => {
    await podns?.dispose();
  });

  it('status answers at once during a slow postStart; ps lists the pod Pending; rm -f aborts the start: run fails in one line, nothing is left', async () => {
    const { name, file } = slowPod('tko-slowrm');
    const { run } = await startSlow(name, file);
    const t0 = Date.now();
    const status = await ask({ op: 'status', pod: name });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(status).toMatchObject({ ok: true, state: { name, phase: 'Pending' } });
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${name}\\s+\\(pause\\)\\s+Pending`));
    const stopC = await podns.run(['stop', name, '-c', 'main']);
    expectCleanError({ stderr: String(stopC.stderr), exitCode: stopC.exitCode }, /it is still starting: stop the whole pod, or stop -c once it runs/);

    const t1 = Date.now();
    await podns.ok(['rm', '-f', name]);
    expect(Date.now() - t1, 'rm -f does not wait for the hook').toBeLessThan(10_000);
    const r = await run;
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, new RegExp(`pod "${name}": stopped while starting \\(by podns rm\\)`));
    expect(String(r.stdout)).toBe('');
    await expectNothingOf(name);
  });

  it('stop during the start aborts it the same way', async () => {
    const { name, file } = slowPod('tko-slowstop');
    const { run } = await startSlow(name, file);
    await podns.ok(['stop', name]);
    const r = await run;
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, new RegExp(`pod "${name}": stopped while starting \\(by podns stop\\)`));
    await expectNothingOf(name);
  });
});

describe.skipIf(kernelSkip)('supervisor takeover (the next command adopts the pods)', () => {
  let podns: Podns;
  const used: string[] = [];
  const pod = (base: string) => {
    const name = podName(base);
    used.push(name);
    return name;
  };
  const state = async (name: string) => (await inspect(podns, name)) as unknown as Pod;
  const ctr = async (name: string, c: string) => (await state(name)).containers.find((x) => x.name === c)!;
  const psLine = async (name: string, column: string) => (await podns.ok(['ps'])).split('\n').find((l) => l.split(/\s+/)[0] === name && l.split(/\s+/)[1] === column) ?? '';
  /** SIGKILLs the root's supervisor (this test's); returns the pod's state as it was. */
  const killTheSupervisor = async (name: string) => {
    const s = await state(name);
    await killSupervisor(podns.root);
    return s;
  };
  /** The counter values in a CRI log, in order. */
  const counted = async (name: string, c: string) => {
    const r = await podns.run(['logs', name, '-c', c]);
    return String(r.stdout).split('\n').filter(Boolean).map(Number);
  };

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterEach(async () => {
    for (const name of used.splice(0)) await podns.run(['rm', '-f', name]);
  });
  afterAll(async () => {
    await podns?.dispose();
  });

  it('a SIGKILLed supervisor: the container writes on without EPIPE; the next command starts a new supervisor that adopts the pod with every line of output kept; exec works; a second supervisor is refused', async () => {
    const name = pod('tko-counter');
    const containers = `  - name: counter\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.15; done"]\n`;
    await podns.ok(['run', podns.writeManifest(name, podYaml(name, { spec: '  terminationGracePeriodSeconds: 1\n', containers }))]);
    await waitFor(async () => (await counted(name, 'counter')).length >= 5, 5000, 'some output');
    const before = await killTheSupervisor(name);
    const counter = before.containers[0]!.process!.pid;
    // The gap: ~10 lines are written while no supervisor reads. With the pause holding the pipe, none gets EPIPE.
    await sleep(1500);
    expect(isRunning(counter), 'the container lives on without its supervisor').toBe(true);

    // ps brings a new supervisor up, which adopts the pod before ps reads it.
    const ps = await podns.run(['ps']);
    expect(String(ps.stdout)).toMatch(new RegExp(`${name}\\s+\\(pause\\)\\s+Running`));
    expect(String(ps.stderr)).toBe('');
    const after = await state(name);
    // It took the pipes back from a pause that holds no privilege (pidfd_getfd: the supervisor's CAP_SYS_PTRACE).
    expect(procStatus(after.pause.pid)).toMatchObject({ CapEff: '0000000000000000', NoNewPrivs: '1', Seccomp: '2' });
    expect(after.supervisorAlive).toBe(true);
    expect(after.supervisor.pid).not.toBe(before.supervisor.pid);
    expect(after.supervisor.pid).toBe(supervisorPid(podns.root));
    expect(after.pause.pid).toBe(before.pause.pid);
    expect(after.containers[0]!.process!.pid).toBe(counter);
    expect(await psLine(name, 'counter')).toMatch(new RegExp(`\\sRunning\\s+${counter}\\s`));

    // Every value, in order, none twice: what was written during the gap waited in the pipe.
    await sleep(600);
    const values = await counted(name, 'counter');
    expect(values.length).toBeGreaterThan(15);
    expect(values).toEqual(values.map((_, i) => i));
    expect(await podns.ok(['events', name])).toMatch(
      new RegExp(`TookOver\\s+pod/${name}\\s+Supervisor pid ${after.supervisor.pid} took the pod over from supervisor pid ${before.supervisor.pid}`),
    );
    expect((await sh(podns, name, 'counter', 'echo exec works')).out).toBe('exec works');

    // One supervisor per root: a second one is refused in one line.
    const again = await podns.run(['serve']);
    expectCleanError({ stderr: String(again.stderr), exitCode: again.exitCode }, new RegExp(`a supervisor already runs for .* \\(pid ${after.supervisor.pid}\\)`));
  });

  it("after the takeover the new supervisor sees the container's exit and restarts it (restartPolicy Always); the pause's fd table stays the same; stop -c and rm go through it and leave nothing", async () => {
    const name = pod('tko-restart');
    await podns.ok(['run', podns.writeManifest(name, podYaml(name, { spec: '  terminationGracePeriodSeconds: 1\n', containers: `  - name: main\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "echo run; exec sleep 3600"]\n` }))]);
    const before = await killTheSupervisor(name);
    await podns.ok(['ps']);
    const pausePid = before.pause.pid;
    // fds 0-2, the store's two ends, and the running container's stdout and stderr.
    const steady = fdsOf(pausePid);
    expect(steady.filter((l) => l.includes('pipe:'))).toHaveLength(2);
    expect(steady.filter((l) => /^[34] socket:/.test(l))).toHaveLength(2);

    let pid = (await ctr(name, 'main')).process!.pid;
    for (let restart = 1; restart <= 3; restart++) {
      process.kill(pid, 'SIGKILL'); // the container this test started
      const c = await waitFor(async () => {
        const x = await ctr(name, 'main');
        return x.restartCount === restart && x.status === 'running' && isRunning(x.process!.pid) ? x : undefined;
      }, 10_000, `restart ${restart}`);
      // The adopted run's exit was seen through its pidfd (not lost): SIGKILL, 137, reason Error.
      expect(c.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
      pid = c.process!.pid;
      await waitFor(() => fdsOf(pausePid).length === steady.length, 3000, "the pause's fd table back to its size");
      expect(fdsOf(pausePid).filter((l) => l.includes('pipe:'))).toHaveLength(2);
    }
    expect(await psLine(name, 'main')).toMatch(/\sRunning\s.*\s3$/);
    expect(String((await podns.run(['logs', name, '-c', 'main'])).stdout)).toBe('run');

    await podns.ok(['stop', name, '-c', 'main', '-t', '1']);
    const stopped = await ctr(name, 'main');
    expect(stopped.status).toBe('exited');
    expect(isRunning(pid)).toBe(false);
    await sleep(300);
    expect((await ctr(name, 'main')).restartCount).toBe(3);
    await podns.ok(['rm', name]);
    expect(isRunning(pausePid)).toBe(false);
    expect(fs.existsSync(path.join(podns.root, 'run', 'pods', name))).toBe(false);
    expect(await leaksAfterRemoval(podns.root, [name])).toEqual([]);
  });

  it('a recorded pid that names another process now is not adopted: that process is left alone, the container counts as exited, restartPolicy starts a new one', async () => {
    const name = pod('tko-reuse');
    await podns.ok(['run', podns.writeManifest(name, podYaml(name, { spec: '  terminationGracePeriodSeconds: 1\n' }))]);
    const before = await killTheSupervisor(name);
    const old = before.containers[0]!.process!;
    process.kill(old.pid, 'SIGKILL'); // the container this test started
    await waitFor(() => !isRunning(old.pid), 3000, 'the container to die');
    // Stand-in for pid reuse: the recorded pid now names an unrelated process (one of ours), with another start time.
    const stranger = spawn('sleep', ['300'], { stdio: 'ignore' });
    try {
      // The runtime's record of the container's run (containers/<name>.<attempt>.json).
      const recordFile = path.join(before.paths.runDir, 'containers', 'main.0.json');
      const recorded = JSON.parse(fs.readFileSync(recordFile, 'utf8'));
      recorded.process = { pid: stranger.pid, startTime: old.startTime };
      fs.writeFileSync(recordFile, JSON.stringify(recorded));

      await podns.ok(['ps']);
      const c = await waitFor(async () => {
        const x = await ctr(name, 'main');
        return x.restartCount === 1 && x.status === 'running' ? x : undefined;
      }, 10_000, 'a new run');
      expect(c.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
      expect(c.process!.pid).not.toBe(stranger.pid);
      expect(isRunning(stranger.pid!), 'the unrelated process with the recorded pid').toBe(true);
      await podns.ok(['rm', '-f', name]);
      expect(isRunning(stranger.pid!), 'rm -f left the unrelated process alone').toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('init containers go on after a takeover: one in its crash-loop back-off is restarted by the new supervisor, then the app containers start', async () => {
    const name = pod('tko-init');
    const manifest = `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  volumes: [{name: data, emptyDir: {}}]
  initContainers:
  - name: setup
    image: ${BUSYBOX}
    command: ["sh", "-c", "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; [ $n -ge 3 ]"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: ${BUSYBOX}
    command: ${SLEEPER}
`;
    // Two failures: the first is retried at once, the second waits out a real back-off (10 s) under the first
    // supervisor, which dies during it; the new supervisor's back-off is its own (kubelet's is in memory too): at once.
    process.env.PODNS_BACKOFF_SCALE = '1';
    try {
      await podns.ok(['run', podns.writeManifest(name, manifest)]);
    } finally {
      process.env.PODNS_BACKOFF_SCALE = '0.01';
    }
    expect(await psLine(name, '(pause)')).toMatch(/Init:CrashLoopBackOff/);
    await killTheSupervisor(name);
    const s = await waitFor(async () => {
      const x = await state(name);
      return x.phase === 'Running' ? x : undefined;
    }, 10_000, 'the pod to run');
    expect(s.initContainers![0]).toMatchObject({ status: 'exited', exitCode: 0, restartCount: 2 });
    expect(s.containers[0]!.status).toBe('running');
    expect(await psLine(name, 'app')).toMatch(/\sRunning\s/);
  });

  it('a pod without a pause (--infra=none) is not adopted: ps says SupervisorLost and why; rm -f still removes it', async () => {
    const name = pod('tko-noinfra');
    await podns.ok(['run', '--infra=none', podns.writeManifest(name, podYaml(name))]);
    await killTheSupervisor(name);
    const ps = await podns.run(['ps']);
    expect(String(ps.stdout)).toMatch(new RegExp(`${name}\\s+\\(no pause\\)\\s+SupervisorLost`));
    expect(String(ps.stderr)).toMatch(new RegExp(`hint: pod "${name}": it runs without a pause \\(--infra=none\\).*cannot be adopted; remove it with podns rm -f ${name}`));
    expect(await podns.ok(['info'])).toMatch(new RegExp(`not adopted: ${name}: it runs without a pause`));
    await podns.ok(['rm', '-f', name]);
    expect(await leaksAfterRemoval(podns.root, [name])).toEqual([]);
  });

  it("stdin and a terminal outlive the supervisor too: no EOF on the container's stdin, no hang-up of its terminal; after the takeover, attach -i reaches the same process, stdinOnce still ends in EOF", async () => {
    const name = pod('tko-stdio');
    const manifest = `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: OnFailure
  containers:
  - name: reader
    image: ${BUSYBOX}
    command: ["sh", "-c", "while read line; do echo \\"got $line\\"; done; echo eof"]
    stdin: true
  - name: once
    image: ${BUSYBOX}
    command: ["cat"]
    stdin: true
    stdinOnce: true
  - name: term
    image: ${BUSYBOX}
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
    tty: true
`;
    await podns.ok(['run', podns.writeManifest(name, manifest)]);
    const before = await killTheSupervisor(name);
    const pids = Object.fromEntries(before.containers.map((c) => [c.name, c.process!.pid]));
    // stdio of reader and once: 3 pipes each (stdin's write end among them); term: its terminal's master.
    const held = fdsOf(before.pause.pid);
    expect(held.filter((l) => l.includes('pipe:'))).toHaveLength(6);
    expect(held.filter((l) => l.includes('/dev/pts/ptmx'))).toHaveLength(1);
    await sleep(1000);
    for (const [c, pid] of Object.entries(pids)) expect(isRunning(pid), `${c} lives on without its supervisor`).toBe(true);

    await podns.ok(['ps']);
    for (const c of before.containers) expect((await ctr(name, c.name)).process!.pid).toBe(pids[c.name]);
    const r = await podns.run(['attach', '-i', name, '-c', 'reader'], { input: 'after\n', timeout: 1500 });
    expect(String(r.stdout)).toContain('got after');
    expect(String(r.stdout)).not.toContain('eof');
    const once = await podns.run(['attach', '-i', name, '-c', 'once'], { input: 'one\n' });
    expect(once.exitCode).toBe(0);
    expect(String(once.stdout)).toBe('one');
    await waitFor(async () => (await ctr(name, 'once')).status === 'exited', 5000, 'cat to see EOF and exit');
    expect(await ctr(name, 'once')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // The terminal's output went on into its log across the gap, numbered without a hole.
    await sleep(400);
    const ticks = String((await podns.run(['logs', name, '-c', 'term'])).stdout).split('\n').map((l) => Number(l.replace(/\r$/, '').split(' ')[1]));
    expect(ticks.length).toBeGreaterThan(8);
    expect(ticks).toEqual(ticks.map((_, i) => i));
  });

  it("a sidecar is adopted and restarted by the new supervisor like any other run; the pod's activeDeadlineSeconds still holds after the takeover", async () => {
    const name = pod('tko-sidecar');
    const manifest = `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  activeDeadlineSeconds: 6
  initContainers:
  - name: proxy
    image: ${BUSYBOX}
    command: ${SLEEPER}
    restartPolicy: Always
  containers:
  - name: app
    image: ${BUSYBOX}
    command: ${SLEEPER}
`;
    await podns.ok(['run', podns.writeManifest(name, manifest)]);
    const before = await killTheSupervisor(name);
    await podns.ok(['ps']);
    const proxy = before.initContainers![0]!;
    expect((await state(name)).initContainers![0]!.process!.pid).toBe(proxy.process!.pid);
    process.kill(proxy.process!.pid, 'SIGKILL'); // the sidecar this test started
    const again = await waitFor(async () => {
      const x = (await state(name)).initContainers![0]!;
      return x.restartCount === 1 && x.status === 'running' ? x : undefined;
    }, 5000, 'the sidecar restarted');
    expect(again.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    // Counted from the pod's creation, not from the takeover.
    const s = await waitFor(async () => {
      const x = (await inspect(podns, name)) as unknown as Pod & { reason?: string };
      return x.phase === 'Failed' ? x : undefined;
    }, 10_000, 'the deadline');
    expect(s.reason).toBe('DeadlineExceeded');
    // The new supervisor stops the pod as the first would have: the pause (not its child) goes too.
    await waitFor(() => !isRunning(before.pause.pid), 5000, 'the pause to be stopped');
  });

  // Last in the file: it makes this test process a child subreaper, for good (orphans of what it starts come to it).
  it('a container that exited while no supervisor ran, and was reaped as init would reap it: its last output is in the log, and after the takeover it is ContainerStatusUnknown (137), as kubelet reports a lost status', async () => {
    // PID 1 here never reaps its zombies, which would keep the exit status for the new supervisor to read. Play
    // the part of a reaping init: a supervisor started from now on has this process as its reaper, and so do the
    // pod's processes once the supervisor is gone; this process reaps them itself.
    if (supervisorPid(podns.root)) await killSupervisor(podns.root); // the earlier tests' supervisor: the next command starts one below us
    becomeChildSubreaper();
    const reap = (pid: number) => new Promise<ExitStatus>((resolve) => watchExit(pid, resolve));
    const name = pod('tko-gone');
    const script = 'echo started; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo last words; exit 3';
    const containers = `  - name: main\n    image: ${BUSYBOX}\n    command: ["sh", "-c", ${JSON.stringify(script)}]\n`;
    await podns.ok(['run', podns.writeManifest(name, podYaml(name, { spec: '  restartPolicy: Never\n', containers }))]);
    const before = await state(name);
    const pid = before.containers[0]!.process!.pid;
    const supervisorGone = reap(before.supervisor.pid); // the supervisor is ours now (its `podns run` has exited)
    process.kill(before.supervisor.pid, 'SIGKILL'); // the supervisor this test started
    await supervisorGone;
    const exited = reap(pid); // the container came to us with its supervisor's death
    // exec needs no supervisor (it joins the container's namespaces itself), so none is started here.
    await sh(podns, name, 'main', 'touch /tmp/go');
    // Its status went to its reaper (us), as it would go to init: the next supervisor cannot learn it.
    expect(await exited).toEqual({ exitCode: 3, signal: null });
    // Its last words wait in the pipe, held by the pause (parked: its writers are gone).
    expect(fdsOf(before.pause.pid).filter((l) => l.includes('pipe:')).length).toBeGreaterThan(0);

    await podns.ok(['ps']);
    const c = await waitFor(async () => {
      const x = await ctr(name, 'main');
      return x.status === 'exited' ? x : undefined;
    }, 5000, 'the exit to be recorded');
    expect(c).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
    expect(c.message).toMatch(/supervisor that started it died.*took the pod over after it had exited/);
    expect(await psLine(name, 'main')).toMatch(/ContainerStatusUnknown \(137\)/);
    expect((await state(name)).phase).toBe('Failed');
    expect(String((await podns.run(['logs', name])).stdout)).toBe('started\nlast words');
    expect(await podns.ok(['events', name])).toMatch(/TookOver.*exited meanwhile: main/);
    // Read to the end and nudged: the pause holds no pipe any more.
    await waitFor(() => fdsOf(before.pause.pid).every((l) => !l.includes('pipe:')), 3000, 'the parked pipe to be closed');
    const adopter = (await state(name)).supervisor.pid;
    const orphans = [reap(before.pause.pid)]; // it came to us too
    await podns.ok(['rm', name]);
    await Promise.all(orphans);
    expect(await leaksAfterRemoval(podns.root, [name])).toEqual([]);
    // The adopting supervisor was started by a command after we became a subreaper: it is ours to reap.
    const adopterGone = reap(adopter);
    await podns.ok(['serve', '--stop']);
    await adopterGone;
  });

  it('serve --background starts a detached supervisor once (a second call finds it), which --stop ends', async () => {
    expect(supervisorPid(podns.root)).toBeUndefined();
    const started = await podns.ok(['serve', '--background']);
    const pid = Number(/^supervisor: started, pid (\d+), serving .*podns\.sock$/.exec(started.trim())?.[1]);
    expect(pid).toBe(supervisorPid(podns.root));
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/^podns supervisor --root /);
    expect((await podns.ok(['serve', '--background'])).trim()).toBe(`supervisor: already running, pid ${pid}`);
    // Its starter has exited; as the subreaper we inherit it.
    const gone = new Promise<ExitStatus>((resolve) => watchExit(pid, resolve));
    expect(await podns.ok(['serve', '--stop'])).toMatch(`supervisor: pid ${pid} stopped`);
    expect(await gone).toMatchObject({ exitCode: 0 });
  });
});
