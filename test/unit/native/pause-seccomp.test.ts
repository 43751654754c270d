/**
 * The pause's seccomp filter (native/pause-seccomp.h), put to the kernel without root: a probe built from the
 * header with each compiler the pause is built with (cc; musl-gcc when installed, as scripts/build-native.sh
 * uses it) installs the very program the pause installs, in a child with no_new_privs, and makes calls under it
 * (test/unit/native/pause-seccomp-probe.c).
 * Requires: x86_64 (the list is written for it), a C compiler.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../requirements.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const nativeDir = path.resolve(here, '..', '..', '..', 'native');
const onPath = (tool: string) => (process.env.PATH ?? '').split(':').some((dir) => dir && fs.existsSync(path.join(dir, tool)));

const skip = skipWithout('pause seccomp probe', [...(process.arch === 'x64' ? [] : ['x86_64']), ...(onPath('cc') ? [] : ['cc (a C compiler)'])]);
const compilers = ['cc', ...(onPath('musl-gcc') ? ['musl-gcc'] : [])];

/** label → result, from "label: result" lines. */
function results(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.lastIndexOf(': ')), l.slice(l.lastIndexOf(': ') + 2)]));
}

describe.skipIf(skip).each(compilers)("the pause's seccomp filter, built with %s", (compiler) => {
  let dir: string;
  let probe: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-pause-seccomp-'));
    probe = path.join(dir, 'probe');
    await execa(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', `-I${nativeDir}`, '-o', probe, path.join(here, 'pause-seccomp-probe.c')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('allows exactly the calls the pause makes: its wait, its signal handlers, its messages, its exit and its fd store', async () => {
    const { stdout } = await execa(probe, ['list']);
    const list = stdout.trim().split('\n').map((l) => l.split(' '));
    // name, then the argument it is held to and the values allowed there (none: any arguments)
    expect(list.map(([name, , arg, ...values]) => [name, arg === '-1' ? 'any' : `arg${arg}=${values.join('|')}`])).toEqual([
      ['rt_sigreturn', 'any'],
      ['restart_syscall', 'any'],
      ['pause', 'any'],
      ['poll', 'any'],
      ['ppoll', 'any'],
      ['wait4', 'any'],
      ['write', 'arg0=2'],
      ['writev', 'arg0=2'],
      ['exit_group', 'any'],
      ['exit', 'any'],
      ['recvmsg', 'arg0=3'],
      ['close', 'any'],
      ['ioctl', 'arg1=21531'], // FIONREAD
      ['fcntl', 'arg1=3|1'], // F_GETFL, F_GETFD
      ['fstat', 'any'],
      ['newfstatat', 'any'],
    ]);
  });

  it('lets those calls through, refuses them used any other way and every other call with EPERM', async () => {
    const { stdout } = await execa(probe, ['calls']);
    expect(results(stdout)).toEqual({
      // allowed: they reach the kernel, which answers as it would without a filter
      'write 2': 'ok',
      'writev 2': 'ok',
      'recvmsg 3': 'EAGAIN',
      'ioctl FIONREAD': 'ok',
      'fcntl F_GETFL': 'ok',
      'fcntl F_GETFD': 'ok',
      fstat: 'ok',
      'newfstatat AT_EMPTY_PATH': 'ok',
      close: 'ok',
      wait4: 'ECHILD',
      poll: 'ok',
      ppoll: 'ok',
      // the same calls on another fd or with another command
      'write 1': 'EPERM',
      'writev 1': 'EPERM',
      'recvmsg 9': 'EPERM',
      'ioctl TIOCGWINSZ': 'EPERM',
      'fcntl F_SETFL': 'EPERM',
      'fcntl F_DUPFD': 'EPERM',
      // never made by the pause
      getpid: 'EPERM',
      openat: 'EPERM',
      socket: 'EPERM',
      'sendmsg 3': 'EPERM',
      kill: 'EPERM',
      prctl: 'EPERM',
      setuid: 'EPERM',
      mmap: 'EPERM',
      statx: 'EPERM',
      execve: 'EPERM',
      // exit_group under the filter: the child ends normally
      exit: '0',
    });
  });

  it('kills a call of another ABI: an x32 number, an i386 int 0x80', async () => {
    const r = results((await execa(probe, ['abi'])).stdout);
    expect(r['x32 getpid, filtered']).toBe('SIGSYS');
    // Without IA32 emulation in the kernel the instruction itself faults, filter or not.
    const ia32 = r['i386 getpid, unfiltered'] === 'exit 0';
    expect(r['i386 getpid, filtered']).toBe(ia32 ? 'SIGSYS' : 'SIGSEGV');
  });
});
