/**
 * Faults against the real kernel: every bad input gives one clear stderr line (no stack), exit code 1, and
 * leaves nothing behind; a failed start undoes what had started; after a SIGKILLed supervisor the next command's
 * supervisor adopts the pod (stop, rm work); `rm -f` cleans up after a SIGKILLed pause; two concurrent runs of
 * one pod: exactly one wins.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, inspect, kernelSkip, killSupervisor, podName, supervisorPid, waitFor, type Podns, pinOf } from './harness.js';
import { BUSYBOX, expectCleanError, hostProcesses, isRunning, leaksAfterRemoval, podYaml } from './support.js';

describe.skipIf(kernelSkip)('faults', () => {
  let podns: Podns;
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-kt-faults-'));
  const used: string[] = [];
  const all: string[] = [];
  const pod = (base: string) => {
    const name = podName(base);
    used.push(name);
    all.push(name);
    return name;
  };

  /** Nothing of the pod: no state dirs, no netns pin, no mounts or processes under the root. */
  const expectNothingOf = async (name: string) => {
    expect(fs.existsSync(pinOf(podns.root, name)), pinOf(podns.root, name)).toBe(false);
    for (const d of ['run', 'lib']) expect(fs.existsSync(path.join(podns.root, d, 'pods', name)), `${d} dir`).toBe(false);
    const logs = path.join(podns.root, 'log', 'pods');
    expect(fs.existsSync(logs) ? fs.readdirSync(logs).filter((d) => d.includes(name)) : []).toEqual([]);
    expect(await leaksAfterRemoval(podns.root, [name])).toEqual([]);
  };
  const runFails = async (file: string, pattern?: RegExp) => {
    const r = await podns.run(['run', file]);
    expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, pattern);
    expect(String(r.stdout)).toBe('');
    return String(r.stderr);
  };

  beforeAll(async () => {
    podns = await createPodns({ images: false });
    await podns.ok(['image', 'load', '/var/cache/podns/test-images/busybox.tar']);
  });
  afterEach(async () => {
    for (const name of used.splice(0)) await podns.run(['rm', '-f', name]);
  });
  afterAll(async () => {
    await podns?.dispose();
    fs.rmSync(hostDir, { recursive: true, force: true });
  });

  it('a missing manifest file: one line naming the file', async () => {
    const file = path.join(hostDir, 'nope.yaml');
    await runFails(file, new RegExp(`${file}.*(no such file|ENOENT)`, 'i'));
    expect(findLeaks(podns.root)).toEqual([]);
  });

  it('bad YAML: one line with file:line', async () => {
    const file = path.join(hostDir, 'bad.yaml');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n  spec: [\n');
    await runFails(file, new RegExp(`${file}:\\d+: .*yaml`, 'i'));
    expect(fs.existsSync(path.join(podns.root, 'run', 'pods')) ? fs.readdirSync(path.join(podns.root, 'run', 'pods')) : []).toEqual([]);
    expect(findLeaks(podns.root)).toEqual([]);
  });

  it('an unknown field: one line with file:line and the field path', async () => {
    const name = pod('f-unknown');
    const file = podns.writeManifest(name, podYaml(name, { containers: `  - name: main\n    image: ${BUSYBOX}\n    comand: ["sleep", "1"]\n` }));
    await runFails(file, new RegExp(`${file}:9: spec\\.containers\\[0\\].*"comand"`));
    await expectNothingOf(name);
  });

  it('a missing image: one line naming the container and the image', async () => {
    const name = pod('f-noimage');
    // Never: the test must not go looking for a registry (no traffic leaves the machine).
    const file = podns.writeManifest(name, podYaml(name, { containers: `  - name: main\n    image: no/such-image\n    imagePullPolicy: Never\n    command: ["sleep", "1"]\n` }));
    await runFails(file, /container "main": ErrImageNeverPull: Container image "no\/such-image" is not present with pull policy of Never/);
    await expectNothingOf(name);
  });

  it('a pod name that already exists: the second run fails and the first pod is unharmed; --replace replaces it', async () => {
    const name = pod('f-dup');
    const file = podns.writeManifest(name, podYaml(name));
    await podns.ok(['run', file]);
    const first = await inspect(podns, name);
    await runFails(file, new RegExp(`pod "${name}" already exists`));
    const still = await inspect(podns, name);
    expect(still.pause.pid).toBe(first.pause.pid);
    expect(isRunning(first.pause.pid)).toBe(true);
    expect(still.containers[0]!.status).toBe('running');
    expect(isRunning(first.containers[0]!.process!.pid)).toBe(true);
    expect(fs.statSync(pinOf(podns.root, name)).ino).toBe(fs.statSync(`/proc/${first.pause.pid}/ns/net`).ino);

    expect(await podns.ok(['run', '--replace', file])).toContain(`pod/${name} running`);
    const replaced = await inspect(podns, name);
    expect(replaced.pause.pid).not.toBe(first.pause.pid);
    expect(isRunning(first.pause.pid)).toBe(false);
    expect(isRunning(first.containers[0]!.process!.pid)).toBe(false);
    expect(fs.statSync(pinOf(podns.root, name)).ino).toBe(fs.statSync(`/proc/${replaced.pause.pid}/ns/net`).ino);
    await podns.ok(['rm', '-f', name]);
    await expectNothingOf(name);
  });

  it('a command missing from the image: names the container and ENOENT; the first container, already started, is gone too', async () => {
    const name = pod('f-nocmd');
    const marker = `sleep 987${process.pid % 1000}`;
    const marks = path.join(hostDir, 'f-nocmd-marks');
    fs.mkdirSync(marks);
    // The first container's postStart hook leaves a file on the host. The next container starts only once that
    // hook has returned (kubelet's order), so when "broken" fails, "first" has certainly been running.
    const containers = `  - name: first
    image: ${BUSYBOX}
    command: ["sh", "-c", "exec ${marker}"]
    volumeMounts: [{name: marks, mountPath: /marks}]
    lifecycle:
      postStart: {exec: {command: ["sh", "-c", "echo running > /marks/first"]}}
  - name: broken
    image: ${BUSYBOX}
    command: ["/nonexistent"]
`;
    const file = podns.writeManifest(name, podYaml(name, { containers, volumes: `  - {name: marks, hostPath: {path: ${marks}, type: Directory}}\n` }));
    await runFails(file, new RegExp(`pod "${name}": container "broken": .*"/nonexistent".*ENOENT`));
    expect(fs.readFileSync(path.join(marks, 'first'), 'utf8')).toBe('running\n');
    expect(hostProcesses().filter((p) => p.cmd === marker || p.cmd === `sh -c exec ${marker}`)).toEqual([]);
    await expectNothingOf(name);
  });

  it('a failing mount (hostPath type Directory on a missing path): one line naming the volume; nothing left', async () => {
    const name = pod('f-hostdir');
    const missing = path.join(hostDir, 'does-not-exist');
    const file = podns.writeManifest(
      name,
      podYaml(name, {
        containers: `  - name: main\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    volumeMounts: [{name: v, mountPath: /data}]\n`,
        volumes: `  - {name: v, hostPath: {path: ${missing}, type: Directory}}\n`,
      }),
    );
    await runFails(file, new RegExp(`volume "v": hostPath "${missing}": is not a directory`));
    expect(fs.existsSync(missing)).toBe(false);
    await expectNothingOf(name);
  });

  it('a failing mount (a hostPath file mounted where the image has a directory): one line, ENOTDIR; nothing left', async () => {
    const name = pod('f-filedir');
    const hostFile = path.join(hostDir, 'a-file');
    fs.writeFileSync(hostFile, 'x\n');
    const file = podns.writeManifest(
      name,
      podYaml(name, {
        containers: `  - name: main\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    volumeMounts: [{name: v, mountPath: /etc}]\n`,
        volumes: `  - {name: v, hostPath: {path: ${hostFile}}}\n`,
      }),
    );
    await runFails(file, /container "main": mount .*on "\/etc".*ENOTDIR/);
    expect(fs.readFileSync(hostFile, 'utf8')).toBe('x\n');
    await expectNothingOf(name);
  });

  it('after the supervisor was SIGKILLed the pod runs on; the next command brings a new one that adopts it; stop and rm work', async () => {
    const name = pod('f-supkill');
    await podns.ok(['run', podns.writeManifest(name, podYaml(name))]);
    const state = await inspect(podns, name);
    const pids = [state.pause.pid, state.containers[0]!.process!.pid];
    const dead = await killSupervisor(podns.root); // this test's root's supervisor, started by its podns commands
    // The pod itself lives on without a supervisor.
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(true);
    // ps brings a new supervisor up first: it adopts the pod, which is Running as before.
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${name}\\s+\\(pause\\)\\s+Running`));
    const adopter = supervisorPid(podns.root)!;
    expect(adopter).not.toBe(dead);
    expect(isRunning(adopter)).toBe(true);
    expect(await podns.ok(['events', name])).toMatch(new RegExp(`TookOver.*Supervisor pid ${adopter} took the pod over from supervisor pid ${dead}`));
    // rm without -f refuses a running pod; stop reaches it through the new supervisor.
    const rm = await podns.run(['rm', name]);
    expectCleanError({ stderr: String(rm.stderr), exitCode: rm.exitCode }, /is running: stop it first, or use rm -f/);
    await podns.ok(['stop', '-t', '1', name]);
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${name}\\s+\\(pause\\)\\s+Stopped`));
    await podns.ok(['rm', name]);
    await expectNothingOf(name);
  });

  it('rm -f right after the supervisor was SIGKILLed removes everything', async () => {
    const name = pod('f-supkill-rm');
    await podns.ok(['run', podns.writeManifest(name, podYaml(name))]);
    const state = await inspect(podns, name);
    const pids = [state.pause.pid, state.containers[0]!.process!.pid];
    await killSupervisor(podns.root);
    await podns.ok(['rm', '-f', name]);
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    await expectNothingOf(name);
  });

  it('rm -f after the pause was SIGKILLed removes everything; the supervisor runs on', async () => {
    const name = pod('f-pausekill');
    await podns.ok(['run', podns.writeManifest(name, podYaml(name))]);
    const state = await inspect(podns, name);
    const container = state.containers[0]!.process!.pid;
    process.kill(state.pause.pid, 'SIGKILL'); // the pause of the pod this test started
    // The supervisor notices and stops the pod: it is reported Failed, its containers gone.
    await waitFor(async () => /\(pause\)\s+Failed/.test(await podns.ok(['ps']).then((ps) => ps.split('\n').filter((l) => l.startsWith(name)).join('\n'))), 5000, 'the pod to be Failed');
    expect(isRunning(container)).toBe(false);
    await podns.ok(['rm', '-f', name]);
    expect(isRunning(supervisorPid(podns.root)!)).toBe(true);
    await expectNothingOf(name);
  });

  it('two runs of the same pod at the same time: exactly one succeeds, the other says "already exists"; rm leaves nothing', async () => {
    const name = pod('f-race');
    const file = podns.writeManifest(name, podYaml(name));
    const results = await Promise.all([podns.run(['run', file]), podns.run(['run', file])]);
    const ok = results.filter((r) => r.exitCode === 0);
    const failed = results.filter((r) => r.exitCode !== 0);
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expectCleanError({ stderr: String(failed[0]!.stderr), exitCode: failed[0]!.exitCode }, new RegExp(`pod "${name}" already exists`));
    const state = await inspect(podns, name);
    expect(state.containers[0]!.status).toBe('running');
    // One supervisor for the root, whichever run started it.
    expect(hostProcesses().filter((p) => p.cmd === `podns supervisor --root ${podns.root}`)).toHaveLength(1);
    await podns.ok(['rm', '-f', name]);
    await expectNothingOf(name);
  });

  // Teardown must not trust a recorded namespace inode after the process that held it is gone: namespace inode
  // numbers are reused by the kernel (lowest free number), so when pod A's supervisor died and then its
  // container exited, the next pod's pause (or container) may get A's old container mount-namespace inode, and
  // a teardown by that inode (pidsInMountNamespace(c.mntNs)) would SIGKILL pod B.
  it('rm -f of a pod whose supervisor died and whose container then exited does not touch another pod', async () => {
    const a = pod('f-reuse-a');
    const b = pod('f-reuse-b');
    await podns.ok(['run', podns.writeManifest(a, podYaml(a))]);
    const stateA = await inspect(podns, a);
    const containerA = stateA.containers[0]!.process!.pid;
    await killSupervisor(podns.root);
    process.kill(containerA, 'SIGKILL'); // pod A's container, started by this test: its namespaces are freed
    await waitFor(() => !isRunning(containerA), 3000, 'the container to die');

    await podns.ok(['run', podns.writeManifest(b, podYaml(b))]);
    const stateB = await inspect(podns, b);
    const pidsB = { pause: stateB.pause.pid, container: stateB.containers[0]!.process!.pid };
    await podns.ok(['rm', '-f', a]);
    // Pod B legitimately has mounts under the root now; the full leak check of A follows B's removal.
    expect(fs.existsSync(pinOf(podns.root, a))).toBe(false);
    for (const [what, pid] of Object.entries(pidsB)) expect(isRunning(pid), `pod B's ${what} (pid ${pid}) killed by rm -f of pod A`).toBe(true);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${b}\\s+\\(pause\\)\\s+Running`));
    await podns.ok(['rm', '-f', b]);
    await expectNothingOf(a);
    await expectNothingOf(b);
  });

  it('at the end nothing of any of these pods is left', async () => {
    expect(await leaksAfterRemoval(podns.root, all)).toEqual([]);
    expect(all.filter((name) => fs.existsSync(pinOf(podns.root, name)))).toEqual([]);
  });
});
