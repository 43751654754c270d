/**
 * The pause binary (build/Release/pause) on its own, and as PID 1 of a pod with shareProcessNamespace: true,
 * where it must adopt and reap the orphans of the containers. It gives up every privilege first thing
 * (native/pause.c): no capabilities in any set, uid/gid 65535, not dumpable, no_new_privs, a seccomp filter —
 * and still reaps, exits 0 on SIGTERM and keeps the fd store, built with either libc (glibc and musl, both
 * static, as scripts/build-native.sh builds it).
 * Requires: root, the native build, dist/, the test images (see harness.ts); musl-gcc (Debian's musl-tools).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, projectRoot, waitFor, type Podns } from './harness.js';
import { hostProcesses, innerPid, leaksAfterRemoval, podYaml, procStatus, sh, BUSYBOX, SLEEPER } from './support.js';
import { skipWithout } from '../requirements.js';
import { makePipe, makeSocketPair, sendFds, spawnProcess, takeFd, watchExit, watchForeignExit, type ExitStatus } from '../../src/sys/native.js';
import { processRef } from '../../src/runtime/proc.js';
import { CLONE } from '../../src/kernel/types.js';

const pauseBin = path.join(projectRoot, 'build', 'Release', 'pause');

/** What /proc/<pid>/status shows of a pause that has dropped everything. */
function expectDropped(pid: number): void {
  const status = procStatus(pid)!;
  expect(status.Uid).toMatch(/^65535\s+65535\s+65535\s+65535$/);
  expect(status.Gid).toMatch(/^65535\s+65535\s+65535\s+65535$/);
  expect(status.Groups).toBe('');
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status[set], set).toBe('0000000000000000');
  expect(status.NoNewPrivs).toBe('1');
  expect(status.Seccomp).toBe('2');
  expect(status.Seccomp_filters).toBe('1');
  // Not dumpable: the kernel gives its /proc entries (all but the world-readable directory) to root, whatever
  // its uid; ptrace and pidfd_getfd on it need CAP_SYS_PTRACE.
  expect(fs.statSync(`/proc/${pid}`).uid).toBe(65535);
  expect(fs.statSync(`/proc/${pid}/fd`).uid).toBe(0);
}

describe.skipIf(kernelSkip)('pause binary standalone', () => {
  it('-v prints a version and exits 0', async () => {
    const r = await execa(pauseBin, ['-v'], { reject: false, timeout: 5000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^pause\.c \(podns\) \S+$/);
  });

  it('not PID 1, it warns on stderr; SIGTERM makes it exit 0', async () => {
    const child = execa(pauseBin, [], { reject: false, timeout: 10_000 });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('not PID 1'), 5000, 'the warning');
    expect(stderr).toMatch(new RegExp(`pause: warning: not PID 1 \\(pid ${child.pid}\\)`));
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.signal).toBeUndefined();
    expect(String(r.stderr)).toContain('shutting down, got SIGTERM');
  });

  it('SIGINT makes it exit 0 too', async () => {
    const child = execa(pauseBin, [], { reject: false, timeout: 10_000 });
    await waitFor(() => procStatus(child.pid!)?.SigCgt && (BigInt(`0x${procStatus(child.pid!)!.SigCgt}`) & (1n << 1n)) !== 0n, 5000, 'handlers');
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
  });

  it('started by root, it drops every privilege: no capabilities, uid/gid 65535, no groups, not dumpable, no_new_privs, one seccomp filter', async () => {
    const child = execa(pauseBin, [], { reject: false, timeout: 10_000 });
    await waitFor(() => procStatus(child.pid!)?.Seccomp === '2', 5000, 'the filter');
    expectDropped(child.pid!);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  });
});

const muslSkip = kernelSkip || skipWithout('the musl build of the pause', (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, 'musl-gcc'))) ? [] : ['musl-gcc (musl-tools)']);

/** Both libcs the pause is built with (binding.gyp: glibc; scripts/build-native.sh: musl when it is there). */
const builds: [string, string, string[]][] = [
  ['glibc', 'cc', ['-O2']],
  ['musl', 'musl-gcc', ['-Os']],
];

describe.skipIf(muslSkip).each(builds)('the pause built with %s, as PID 1 of a PID namespace of its own, under its filter', (_libc, compiler, flags) => {
  let dir: string;
  let pid: number;
  let exited: Promise<ExitStatus>;
  let send: number;
  let stderrRead: number;
  const ours: number[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-pause-'));
    const bin = path.join(dir, 'pause');
    await execa(compiler, [...flags, '-static', '-Wall', '-Wextra', '-Werror', '-o', bin, path.join(projectRoot, 'native', 'pause.c')]);
    const [receive, sendEnd] = makeSocketPair();
    const [errRead, errWrite] = makePipe();
    send = sendEnd;
    stderrRead = errRead;
    pid = spawnProcess({ execFile: bin, argv: ['/pause'], env: ['PODNS_FD_STORE=1'], extraFds: [receive, sendEnd], cloneFlags: CLONE.NEWPID, stdio: [-1, -1, errWrite] }, 'pause');
    exited = new Promise((resolve) => watchExit(pid, resolve));
    fs.closeSync(receive);
    fs.closeSync(errWrite);
    await waitFor(() => procStatus(pid)?.Seccomp === '2', 5000, 'the pause to drop its privileges');
  });
  afterAll(() => {
    for (const p of ours) if (procStatus(p)) process.kill(p, 'SIGKILL');
    if (procStatus(pid)) process.kill(pid, 'SIGKILL'); // our own child; the test SIGTERMs it, this is for a failure
    for (const fd of [send, stderrRead]) if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has dropped every privilege', () => {
    expectDropped(pid);
    expect(innerPid(pid)).toBe(1);
  });

  it('still reaps an orphan re-parented to it (wait4 under the filter)', async () => {
    // A shell in the pause's PID namespace starts a sleep in a subshell that exits at once: the sleep is orphaned.
    const shell = spawnProcess({ execFile: '/bin/sh', argv: ['sh', '-c', '(exec sleep 9.753 >/dev/null 2>&1 &); exit 0'], env: [], joinNamespaces: { pid: `/proc/${pid}/ns/pid` } }, 'shell');
    await new Promise<ExitStatus>((resolve) => watchExit(shell, resolve));
    const orphan = (await waitFor(() => hostProcesses().find((p) => p.cmd === 'sleep 9.753'), 3000, 'the orphan'))!;
    ours.push(orphan.pid);
    expect(orphan.ppid).toBe(pid);
    process.kill(orphan.pid, 'SIGKILL');
    await waitFor(() => !procStatus(orphan.pid), 3000, 'the orphan to be reaped, not left a zombie');
  });

  it('still serves as the fd store: holds, closes what hung up (poll, FIONREAD, close), drops on request (fcntl, fstat)', async () => {
    // Above its stdio and the store's two ends.
    // An fd the pause closes between the readdir and its readlink is gone: not held.
    const linkOf = (fd: string) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return undefined; } };
    const held = () => fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) > 4).map(linkOf).filter((l) => l !== undefined);
    const [outRead, outWrite] = makePipe();
    const [inRead, inWrite] = makePipe();
    const outId = `pipe:[${fs.fstatSync(outRead).ino}]`;
    const inId = `pipe:[${fs.fstatSync(inWrite).ino}]`;
    sendFds(send, [outRead, inWrite], 'test');
    fs.closeSync(outRead);
    await waitFor(() => held().length === 2, 3000, 'both ends held');
    fs.closeSync(outWrite); // its writer is gone and nothing is unread: the pause lets go
    await waitFor(() => !held().includes(outId), 3000, 'the hung-up read end closed');
    expect(held()).toEqual([inId]);
    sendFds(send, [inWrite], 'test', 'drop');
    fs.closeSync(inWrite);
    await waitFor(() => held().length === 0, 3000, 'the write end dropped on request');
    fs.closeSync(inRead);
  });

  it('root still takes a copy of its fds with pidfd_getfd (CAP_SYS_PTRACE over a process that is not dumpable)', () => {
    const copy = takeFd(processRef(pid)!, 4);
    expect(fs.fstatSync(copy).ino).toBe(fs.fstatSync(send).ino);
    fs.closeSync(copy);
  });

  it('SIGTERM: it says so on stderr (write under the filter) and exits 0 (exit_group), not killed by the filter', async () => {
    process.kill(pid, 'SIGTERM');
    expect(await exited).toEqual({ exitCode: 0, signal: null });
    expect(fs.readFileSync(stderrRead, 'utf8')).toBe('pause: shutting down, got SIGTERM\n');
  });
});

describe.skipIf(kernelSkip)('pause reaps orphans in a shared PID namespace', () => {
  let podns: Podns;
  const pod = podName('pause-reap');
  let pausePid: number;

  // The second container double-forks as it starts: its orphan lives 4.7 s under the pause, then exits.
  const containers =
    `  - name: main\n    image: ${BUSYBOX}\n    command: ${SLEEPER}\n` +
    `  - name: forker\n    image: ${BUSYBOX}\n    command: ["/bin/sh", "-c", "(sleep 4.682 >/dev/null 2>&1 &); exec sleep 3600"]\n`;

  beforeAll(async () => {
    podns = await createPodns();
    await podns.ok(['run', podns.writeManifest(pod, podYaml(pod, { spec: '  shareProcessNamespace: true\n', containers }))]);
    pausePid = (await inspect(podns, pod)).pause.pid;
  });
  afterAll(async () => {
    await podns?.run(['rm', '-f', pod]);
    await podns?.dispose();
  });

  it('the pause is PID 1 of the pod and sees itself as PID 1 (no warning path)', () => {
    expect(innerPid(pausePid)).toBe(1);
  });

  it("the pod's pause has dropped every privilege: CapEff/CapPrm/CapInh/CapBnd/CapAmb 0, NoNewPrivs 1, Seccomp 2", () => {
    expectDropped(pausePid);
  });

  it('inspect shows what the pause started with (the supervisor\'s privileges, root) and what it has now; explain lists the drop', async () => {
    const pause = (await inspect(podns, pod)).pause as unknown as { privileges: { startedWith: Record<string, string>; now: Record<string, string> } };
    const supervisor = procStatus(Number(fs.readFileSync(path.join(podns.root, 'run', 'supervisor.pid'), 'utf8').split(' ')[0]))!;
    expect(pause.privileges.startedWith).toMatchObject({ Uid: '0 0 0 0', CapEff: supervisor.CapEff, CapBnd: supervisor.CapBnd, NoNewPrivs: '0', Seccomp: '0' });
    expect(pause.privileges.startedWith.CapEff).not.toBe('0000000000000000');
    expect(pause.privileges.now).toEqual({
      Uid: '65535 65535 65535 65535',
      Gid: '65535 65535 65535 65535',
      Groups: '',
      CapInh: '0000000000000000',
      CapPrm: '0000000000000000',
      CapEff: '0000000000000000',
      CapBnd: '0000000000000000',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
      Seccomp: '2',
      Seccomp_filters: '1',
    });
    const steps = (await podns.ok(['explain', pod])).split('\n').filter((l) => l.includes('[pause]'));
    const exec = steps.findIndex((l) => /execve\(.*pause/.test(l));
    expect(exec).toBeGreaterThan(0);
    expect(steps[exec + 1]).toMatch(/drop every capability and root: .*setresuid\(65535\).*: Uid 0 → 65535, .*CapEff [0-9a-f]{16} → 0{16}/);
    expect(steps[exec + 2]).toMatch(/PR_SET_NO_NEW_PRIVS.*seccomp\(SECCOMP_SET_MODE_FILTER.*NoNewPrivs 0 → 1, Seccomp 0 → 2/);
  });

  it('the orphan of a container that double-forked is re-parented to the pause and reaped when it exits', async () => {
    const forker = (await inspect(podns, pod)).containers.find((c) => c.name === 'forker')!.process!.pid;
    // Its parent, the subshell, exits at once: then the kernel hands the sleep to PID 1 of the pod.
    const orphan = await waitFor(() => hostProcesses().find((p) => p.cmd === 'sleep 4.682' && p.ppid === pausePid), 2000, 'the orphan of the double fork under the pause');
    expect(orphan!.ppid).toBe(pausePid);
    expect(orphan!.ppid).not.toBe(forker);
    await waitFor(() => !procStatus(orphan!.pid), 8000, 'the orphan to exit and be reaped');
    expect(hostProcesses().filter((p) => p.ppid === pausePid && p.state === 'Z')).toEqual([]);
  });

  it('an orphan of an exec session is re-parented to the pause', async () => {
    // The subshell exits at once; its sleep is orphaned and must be adopted by PID 1 of the pod: the pause.
    const r = await sh(podns, pod, 'main', '(sleep 7.77 >/dev/null 2>&1 &) ; true');
    expect(r.code).toBe(0);
    const orphan = (await waitFor(() => hostProcesses().find((p) => p.cmd === 'sleep 7.77'), 3000, 'the orphan sleep'))!;
    expect(orphan.ppid).toBe(pausePid);
    expect(innerPid(orphan.pid)).toBeGreaterThan(1);
    process.kill(orphan.pid, 'SIGKILL'); // our own test process: end it now, the pause must reap it
    await waitFor(() => !procStatus(orphan.pid), 3000, 'the killed orphan to be reaped');
  });

  it('orphans from a container exit leave no zombies under the pause', async () => {
    // Output redirected: otherwise the orphans hold exec's pipes and exec would wait for them.
    const r = await sh(podns, pod, 'main', 'for i in 1 2 3 4 5; do (sleep 0.6 >/dev/null 2>&1 &); done; true');
    expect(r.code).toBe(0);
    // While they live, they are children of the pause.
    const orphans = hostProcesses().filter((p) => p.cmd === 'sleep 0.6');
    expect(orphans.length).toBe(5);
    for (const o of orphans) expect(o.ppid).toBe(pausePid);
    await waitFor(() => orphans.every((o) => !procStatus(o.pid)), 3000, 'the orphans to end and be reaped');
    expect(hostProcesses().filter((p) => p.ppid === pausePid && p.state === 'Z')).toEqual([]);
  });

  it('many orphans exiting at once (one SIGCHLD for several) are all reaped', async () => {
    const r = await sh(podns, pod, 'main', 'i=0; while [ $i -lt 20 ]; do (sleep 0.3 >/dev/null 2>&1 &); i=$((i+1)); done; true');
    expect(r.code).toBe(0);
    expect(hostProcesses().filter((p) => p.ppid === pausePid && p.cmd === 'sleep 0.3').length).toBe(20);
    await waitFor(() => hostProcesses().filter((p) => p.ppid === pausePid).length === 0, 3000, 'no children of the pause');
    await new Promise((res) => setTimeout(res, 50));
    expect(hostProcesses().filter((p) => p.ppid === pausePid)).toEqual([]);
  });

  it('the pause is still running and the pod healthy afterwards', async () => {
    expect(procStatus(pausePid)?.State).toMatch(/^S/);
    expect((await sh(podns, pod, 'main', 'echo ok')).out).toBe('ok');
  });

  it('SIGTERM to the pod\'s pause: it exits 0, as Kubernetes\' pause does (Linux 6.15+ keeps the status for us: PIDFD_INFO_EXIT)', async () => {
    const status = new Promise<ExitStatus>((resolve) => watchForeignExit(processRef(pausePid)!, resolve));
    process.kill(pausePid, 'SIGTERM');
    const [major, minor] = os.release().split('.').map(Number) as [number, number];
    if (major > 6 || (major === 6 && minor >= 15)) expect(await status).toEqual({ exitCode: 0, signal: null });
    // Older kernels: known while the zombie was there, else reported lost.
    else expect((await status).exitCode === 0 || (await status).error === 'ENODATA').toBe(true);
  });

  it('rm -f leaves nothing behind', async () => {
    await podns.ok(['rm', '-f', pod]);
    expect(await leaksAfterRemoval(podns.root, [pod])).toEqual([]);
  });
});
