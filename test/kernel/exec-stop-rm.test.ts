/**
 * exec, logs, stop and rm against the real kernel: exit codes, stdin, the container's env and cwd, the grace
 * period then SIGKILL (137), no restart after a stop, stopping and removing a whole pod, logs (stdout/stderr,
 * --tail, -f ending with the container), and that `rm` waits until the pod's processes are gone.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, inspect, kernelSkip, podName, podnsBin, sleep, waitFor, type Podns, pinOf } from './harness.js';
import { BUSYBOX, expectCleanError, leaksAfterRemoval, podYaml, procStatus, sh, SLEEPER } from './support.js';

describe.skipIf(kernelSkip)('exec, logs, stop, rm', () => {
  let podns: Podns;
  const pod = podName('esr-pod');

  const container = async (name: string) => (await inspect(podns, pod)).containers.find((c) => c.name === name)!;

  beforeAll(async () => {
    podns = await createPodns();
    const containers = `  - name: worker
    image: ${BUSYBOX}
    command: ${SLEEPER}
    workingDir: /tmp
    env: [{name: GREETING, value: hello pod}]
  - name: talker
    image: ${BUSYBOX}
    command: ["sh", "-c", "echo out; echo err >&2; sleep 3600"]
  - name: stubborn
    image: ${BUSYBOX}
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
`;
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { spec: '  terminationGracePeriodSeconds: 1\n', containers }))]);
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('exec returns the command exit code: exit 3 -> 3, false -> 1, true -> 0', async () => {
    expect((await sh(podns, pod, 'worker', 'exit 3')).code).toBe(3);
    expect((await podns.run(['exec', pod, '-c', 'worker', '--', 'false'])).exitCode).toBe(1);
    expect((await podns.run(['exec', pod, '--', 'true'])).exitCode).toBe(0);
  });

  it('exec of a command not in the image fails with one clear stderr line and no stack trace', async () => {
    const r = await podns.run(['exec', pod, '-c', 'worker', '--', 'no-such-command']);
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, /no-such-command.*(no such file|ENOENT)/i);
    expect(String(r.stderr)).toContain('"worker"');
  });

  it('exec -i passes stdin to the command', async () => {
    const r = await podns.run(['exec', '-i', pod, '-c', 'worker', '--', 'cat'], { input: 'line one\nline two\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('line one\nline two');
    // Without -i the command gets no stdin (EOF at once).
    expect((await sh(podns, pod, 'worker', 'cat; echo eof')).out).toBe('eof');
  });

  it("exec gets the container's environment (image PATH, HOSTNAME, env) and working directory", async () => {
    const r = await sh(podns, pod, 'worker', 'echo "$PATH|$HOSTNAME|$GREETING"; pwd');
    expect(r.out).toBe(`/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|${pod}|hello pod\n/tmp`);
    expect((await sh(podns, pod, 'talker', 'pwd')).out).toBe('/');
  });

  it('exec into a container that does not exist fails clearly', async () => {
    const r = await podns.run(['exec', pod, '-c', 'nope', '--', 'true']);
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, /no container "nope".*worker, talker, stubborn/);
  });

  it('logs shows the stdout and stderr lines of a container, each on its stream', async () => {
    const r = (await waitFor(async () => {
      const x = await podns.run(['logs', pod, '-c', 'talker']);
      return String(x.stdout) && String(x.stderr) ? x : undefined;
    }, 3000, 'both log lines')) as NonNullable<Awaited<ReturnType<Podns['run']>>>;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('out');
    expect(r.stderr).toBe('err');
  });

  it('logs --tail 1 shows only the last line', async () => {
    const r = await podns.run(['logs', pod, '-c', 'talker', '--tail', '1']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('err');
  });

  it('logs -f keeps following and ends when the container is stopped', async () => {
    const follow = podns.run(['logs', '-f', pod, '-c', 'talker'], { timeout: 15_000 });
    // Watched from the start: had logs -f returned within these 300 ms, `ended` would be true by now.
    let ended = false;
    void follow.then(() => (ended = true));
    await sleep(300);
    expect(ended).toBe(false);
    await podns.ok(['stop', pod, '-c', 'talker', '-t', '0']);
    const r = await follow;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('out');
    expect(r.stderr).toBe('err');
    expect((await container('talker')).status).toBe('exited');
  });

  it('stop -c on a container ignoring SIGTERM SIGKILLs it after the grace period: exit code 137', async () => {
    const before = await container('stubborn');
    const pid = before.process!.pid;
    const t0 = Date.now();
    await podns.ok(['stop', pod, '-c', 'stubborn', '-t', '1']);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    expect(procStatus(pid)).toBeUndefined();
    const after = await container('stubborn');
    expect(after.status).toBe('exited');
    expect(after.exitCode).toBe(137);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+stubborn\\s+Exited \\(137\\)`));
  });

  it('a stopped container is not restarted, and the others keep running', async () => {
    await sleep(1500);
    const state = await inspect(podns, pod);
    const byName = Object.fromEntries(state.containers.map((c) => [c.name, c]));
    expect(byName.stubborn!.status).toBe('exited');
    expect(byName.stubborn!.processes).toEqual([]);
    expect(byName.talker!.status).toBe('exited');
    expect(byName.worker!.status).toBe('running');
    expect(procStatus(byName.worker!.process!.pid)).toBeDefined();
  });

  it('exec into a stopped container fails clearly', async () => {
    const r = await podns.run(['exec', pod, '-c', 'stubborn', '--', 'true']);
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, /container "stubborn" is not running/);
  });

  it('rm without -f on a running pod fails clearly and changes nothing', async () => {
    const before = await inspect(podns, pod);
    const r = await podns.run(['rm', pod]);
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, /is running.*rm -f/);
    const after = await inspect(podns, pod);
    expect(after.pause.pid).toBe(before.pause.pid);
    expect(procStatus(after.pause.pid)).toBeDefined();
    expect(after.containers.find((c) => c.name === 'worker')!.status).toBe('running');
    expect(fs.existsSync(pinOf(podns.root, pod))).toBe(true);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+\\(pause\\)\\s+Running`));
  });

  it('stop POD stops the whole pod: ps shows Stopped, processes and the netns pin are gone', async () => {
    const before = await inspect(podns, pod);
    const worker = before.containers.find((c) => c.name === 'worker')!.process!.pid;
    await podns.ok(['stop', pod]);
    const ps = await podns.ok(['ps']);
    expect(ps).toMatch(new RegExp(`${pod}\\s+\\(pause\\)\\s+Stopped`));
    expect(ps).toMatch(new RegExp(`${pod}\\s+worker\\s+Exited \\(\\d+\\)`));
    expect(procStatus(before.pause.pid)).toBeUndefined();
    expect(procStatus(worker)).toBeUndefined();
    expect(fs.existsSync(pinOf(podns.root, pod))).toBe(false);
    // A stopped pod can be stopped again (nothing to do).
    expect((await podns.run(['stop', pod])).exitCode).toBe(0);
  });

  // BUG (podns, minor): ps.ts psTable prints state.pause.pid whether or not the pause lives, while container
  // rows print '-' once they are gone; a stale pid may by now belong to an unrelated process.
  it('ps of a stopped pod shows no pid for the dead pause, as for its containers', async () => {
    const row = (await podns.ok(['ps'])).split('\n').find((l) => l.startsWith(pod) && l.includes('(pause)'))!;
    expect(row.trim().split(/\s+/).slice(0, 4)).toEqual([pod, '(pause)', 'Stopped', '-']);
  });

  it('rm (without -f) then removes the stopped pod and leaves nothing', async () => {
    await podns.ok(['rm', pod]);
    expect(await podns.ok(['ps'])).not.toContain(pod);
    expect(await leaksAfterRemoval(podns.root, [pod])).toEqual([]);
  });
});

describe.skipIf(kernelSkip)('rm -f and the pod\'s processes', () => {
  let podns: Podns;
  const pod = podName('esr-rmf');

  beforeAll(async () => {
    podns = await createPodns();
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  // `podns rm -f` must return only once nothing of the pod runs: the supervisor answers after the pause has
  // exited. The race this guards is narrow: several rounds, any one that sees the pause still running when rm
  // has exited proves it. The supervisor itself stays: it serves the root's other pods.
  it('rm -f returns only once the pod\'s pause has exited; the supervisor runs on', async () => {
    // A builtin-only shell loop watches both processes; when rm has exited (a zombie of this shell), is the
    // pause still running?
    const script = `"$0" --root "$1" rm -f "$2" & rm=$!
state() { s=gone; [ -e /proc/$1/status ] && while read -r k v rest; do [ "$k" = State: ] && { s=$v; break; }; done < /proc/$1/status; }
while :; do
  state $rm; [ "$s" = Z ] || [ "$s" = gone ] || continue
  state $3; [ "$s" = Z ] || [ "$s" = gone ] && echo gone || echo alive
  break
done
wait $rm || exit 99`;
    const seen: string[] = [];
    let supervisor = 0;
    for (let round = 0; round < 8 && !seen.includes('alive'); round++) {
      await podns.ok(['run', podns.writeManifest(pod, podYaml(pod))]);
      const state = (await inspect(podns, pod)) as unknown as { pause: { pid: number }; supervisor: { pid: number } };
      supervisor = state.supervisor.pid;
      expect(procStatus(state.pause.pid)).toBeDefined();
      const r = await execa('sh', ['-c', script, podnsBin, podns.root, pod, String(state.pause.pid)], { reject: false, stdin: 'ignore' });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      seen.push(String(r.stdout));
      await waitFor(() => !procStatus(state.pause.pid) || procStatus(state.pause.pid)!.State.startsWith('Z'), 3000, 'the pause to exit');
    }
    expect(seen.includes('alive') ? `pause still running when rm returned (rounds: ${seen.join(', ')})` : 'pause gone when rm returned').toBe(
      'pause gone when rm returned',
    );
    expect(procStatus(supervisor)?.State).toMatch(/^[RS]/);
    expect(findLeaks(podns.root, [pod]).filter((l) => !l.includes(' serve'))).toEqual([]);
  });
});
