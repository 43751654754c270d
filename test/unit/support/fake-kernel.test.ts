/** The fake kernel keeps its word: calls recorded in order, processes played as the runtime reads them in /proc. */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SysError } from '../../../src/errors.js';
import type { ExitStatus } from '../../../src/kernel/types.js';
import { isAlive, pidsInMountNamespace, processRef } from '../../../src/runtime/proc.js';
import { fdTable } from '../../../src/runtime/fd-store.js';
import { FakeKernel } from './fake-kernel.js';
import { until } from './pod-harness.js';

let kernel: FakeKernel;
afterEach(() => kernel.dispose());

const container = { argv: ['/bin/app'], env: [], cloneFlags: 0x00020000 };

describe('FakeKernel', () => {
  it('plays a process in its proc tree: running, then a zombie, then gone once its watcher reaped it', async () => {
    kernel = new FakeKernel();
    const pid = kernel.spawn(container, 'container "app"');
    const ref = processRef(pid, kernel.procRoot)!;
    expect(pid).toBeGreaterThan(4_194_304);
    expect(isAlive(ref, kernel.procRoot)).toBe(true);
    const statuses: ExitStatus[] = [];
    kernel.watchExit(pid, (s) => statuses.push(s));
    kernel.exit(pid, { exitCode: 3, signal: null });
    expect(isAlive(ref, kernel.procRoot)).toBe(false);
    expect(processRef(pid, kernel.procRoot)).toEqual(ref); // a zombie until reaped
    expect(statuses).toEqual([]); // told on a later turn, as the addon tells
    await until(() => statuses.length === 1, 'the exit');
    expect(statuses).toEqual([{ exitCode: 3, signal: null }]);
    expect(processRef(pid, kernel.procRoot)).toBeUndefined();
  });

  it('SIGKILL ends a process; SIGTERM is only recorded unless it obeys; every call is recorded in order', async () => {
    kernel = new FakeKernel();
    const stubborn = kernel.spawn(container, 'container "a"');
    const polite = kernel.spawn(container, 'container "b"');
    kernel.process(polite).obey('SIGTERM');
    expect(kernel.signal(stubborn, 'SIGTERM')).toBe(true);
    expect(kernel.process(stubborn).state).toBe('running');
    kernel.signal(polite, 15);
    expect(kernel.process(polite).status).toEqual({ exitCode: null, signal: 15 });
    kernel.signal(stubborn, 'SIGKILL');
    expect(kernel.process(stubborn).status).toEqual({ exitCode: null, signal: 9 });
    expect(kernel.signal(123, 'SIGKILL')).toBe(false);
    expect(kernel.trace()).toEqual([
      'spawn container "a"',
      'spawn container "b"',
      'signal SIGTERM container "a"',
      'signal SIGTERM container "b"',
      'signal SIGKILL container "a"',
      'signal SIGKILL pid 123',
    ]);
  });

  it('injects a failure into the nth call of a kind, in the addon\'s words', () => {
    kernel = new FakeKernel();
    kernel.failOn('spawn', { nth: 2, step: 'exec', code: 'EACCES' });
    kernel.failOn('mount', { code: 'EBUSY' });
    kernel.spawn(container, 'container "a"');
    expect(() => kernel.spawn(container, 'container "b"')).toThrow('container "b": exec "/bin/app": permission denied (EACCES)');
    kernel.spawn(container, 'container "c"');
    const err = (() => {
      try {
        kernel.mount('tmpfs', '/x', 'tmpfs', 0);
      } catch (e) {
        return e as SysError;
      }
    })();
    expect(err).toBeInstanceOf(SysError);
    expect(err).toMatchObject({ code: 'EBUSY', message: 'mount tmpfs "tmpfs" on "/x": device or resource busy (EBUSY)' });
    kernel.mount('tmpfs', '/x', 'tmpfs', 0);
    expect(kernel.trace('spawn', 'mount')).toEqual(['spawn container "a"', 'spawn container "b" failed EACCES', 'spawn container "c"', 'mount tmpfs /x failed EBUSY', 'mount tmpfs /x']);
  });

  it("gives a process copies of its stdio (it writes into the pipe) and an exec its container's mount namespace", async () => {
    kernel = new FakeKernel();
    const [read, write] = kernel.pipe();
    const pid = kernel.spawn({ ...container, stdio: [-1, write, write] }, 'container "app"');
    fs.closeSync(write);
    const exec = kernel.spawn({ argv: ['sh'], env: [], joinNamespaces: { mnt: `/proc/${pid}/ns/mnt` } }, 'exec in container "app"');
    expect(pidsInMountNamespace(fs.statSync(`${kernel.procRoot}/${pid}/ns/mnt`).ino, kernel.procRoot)).toEqual([pid, exec]);
    kernel.process(pid).write('stdout', 'hello\n');
    kernel.exit(pid, { exitCode: 0, signal: null });
    // Its copy of the write end closed with it: the reader gets the line, then the end of the pipe.
    const buf = Buffer.alloc(64);
    expect(buf.subarray(0, fs.readSync(read, buf)).toString()).toBe('hello\n');
    expect(fs.readSync(read, buf)).toBe(0);
    fs.closeSync(read);
    // Joining the namespaces of a process that has exited fails as the addon's open of them does.
    expect(() => kernel.spawn({ argv: ['sh'], env: [], joinNamespaces: { mnt: `/proc/${pid}/ns/mnt` } }, 'exec in container "app"')).toThrow(
      `exec in container "app": open /proc/${pid}/ns/mnt: no such file or directory (ENOENT)`,
    );
  });

  it('the pause holds what is sent to its fd store, by identity, for a new supervisor to take back', () => {
    kernel = new FakeKernel();
    const [receive, send] = kernel.socketPair();
    const pause = kernel.spawn({ argv: ['/pause'], env: [], extraFds: [receive, send] }, 'pause');
    fs.closeSync(receive);
    const [outRead, outWrite] = kernel.pipe();
    kernel.sendFds(send, [outRead], 'stdout');
    const table = fdTable(pause, kernel.procRoot);
    const st = fs.fstatSync(outRead);
    expect(table.get(`${st.dev}:${st.ino}`)).toBe(5);
    const copy = kernel.takeFd(processRef(pause, kernel.procRoot)!, 5);
    expect(fs.fstatSync(copy).ino).toBe(st.ino);
    kernel.sendFds(send, [outRead], 'stdout', 'drop');
    expect(() => kernel.takeFd(processRef(pause, kernel.procRoot)!, 5)).toThrow(/EBADF/);
    kernel.process(pause).exit();
    expect(() => kernel.sendFds(send, [], 'nudge')).toThrow(/EPIPE/);
    for (const fd of [copy, outRead, outWrite, send]) fs.closeSync(fd);
  });

  it('after the supervisor died, an orphan that exits is reaped by init: a new watch finds no such process', () => {
    kernel = new FakeKernel();
    const pid = kernel.spawn(container, 'container "app"');
    const ref = processRef(pid, kernel.procRoot)!;
    kernel.watchExit(pid, () => {
      throw new Error('the dead supervisor heard of it');
    });
    kernel.supervisorDied();
    kernel.exit(pid, { exitCode: 0, signal: null });
    expect(() => kernel.watchForeignExit(ref, () => {})).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});
