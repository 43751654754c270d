/**
 * seccomp filters built by the addon (libseccomp) and installed by spawn, proven with host binaries and
 * without the rest of podns: the process is spawned directly through src/sys/native.ts, with every
 * capability and no_new_privs, so only the filter can refuse it anything.
 * Requires: root (spawn sets capabilities), the native build with libseccomp, dist/ (see harness.ts);
 * unshare (util-linux), grep and perl on the host.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNTIME_DEFAULT_PROFILE } from '../../src/security/seccomp-default.js';
import { resolveProfile, seccompFilterFor } from '../../src/security/seccomp-profile.js';
import { buildSeccompFilter, killAndReap, makePipe, spawnProcess, watchExit, type ExitStatus } from '../../src/sys/native.js';
import { kernelSkip } from './harness.js';

/** Every capability this process has (a machine may withhold some, e.g. CAP_SYS_MODULE in a VM sandbox). */
const ALL_CAPS = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
const SEARCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** containerd's default set: no CAP_SYS_ADMIN, so RuntimeDefault refuses unshare, mount and namespace clones. */
const DEFAULT_CAPS = new Set(['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE']);
/** keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0) on x86_64; prints the errno, or "ok". */
const KEYCTL = ['perl', '-e', 'my $r = syscall(250, 0, -1, 0); print($r < 0 ? $! + 0 : "ok")'];

const running = new Set<number>();

async function run(argv: string[], seccompFilter: Buffer | undefined): Promise<ExitStatus & { output: string }> {
  const [r, w] = makePipe();
  let pid: number;
  try {
    pid = spawnProcess(
      {
        cloneFlags: 0,
        argv,
        env: [`PATH=${SEARCH_PATH}`],
        path: argv[0],
        searchPath: SEARCH_PATH,
        stdio: [-1, w, w],
        security: { bounding: ALL_CAPS, effective: ALL_CAPS, permitted: ALL_CAPS, inheritable: ALL_CAPS, noNewPrivs: true, readonlyRoot: false, seccompFilter },
      },
      `seccomp test ${argv[0]}`,
    );
  } finally {
    fs.closeSync(w);
  }
  running.add(pid);
  const exited = new Promise<ExitStatus>((resolve) =>
    watchExit(pid, (status) => {
      running.delete(pid);
      resolve(status);
    }),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of fs.createReadStream('', { fd: r })) chunks.push(chunk as Buffer);
  return { ...(await exited), output: Buffer.concat(chunks).toString() };
}

describe.skipIf(kernelSkip)('seccomp filters in the kernel', () => {
  const runtimeDefault = () => seccompFilterFor({ type: 'RuntimeDefault' }, DEFAULT_CAPS, '/nonexistent');

  afterEach(() => {
    for (const pid of running) killAndReap(pid);
    running.clear();
  });

  it('RuntimeDefault lets an ordinary program run, in seccomp mode 2', async () => {
    expect(await run(['/bin/true'], runtimeDefault())).toMatchObject({ exitCode: 0, signal: null });
    const status = await run(['grep', 'Seccomp:', '/proc/self/status'], runtimeDefault());
    expect(status.exitCode).toBe(0);
    expect(status.output).toMatch(/^Seccomp:\s+2$/m);
  });

  it('RuntimeDefault without CAP_SYS_ADMIN refuses unshare (user and mount namespaces)', async () => {
    const user = await run(['unshare', '-U', 'true'], runtimeDefault());
    expect(user.exitCode).not.toBe(0);
    expect(user.output).toMatch(/unshare failed: Operation not permitted/);
    expect((await run(['unshare', '-m', 'true'], runtimeDefault())).exitCode).not.toBe(0);
  });

  it('RuntimeDefault refuses the kernel keyring (keyctl) with EPERM', async () => {
    const confined = await run(KEYCTL, runtimeDefault());
    expect(confined).toMatchObject({ exitCode: 0, output: '1' });
    const free = await run(KEYCTL, undefined);
    expect(free.output).not.toBe('1');
  });

  it('RuntimeDefault with CAP_SYS_ADMIN allows unshare', async () => {
    const filter = buildSeccompFilter(resolveProfile(RUNTIME_DEFAULT_PROFILE, new Set([...DEFAULT_CAPS, 'SYS_ADMIN'])));
    expect(await run(['unshare', '-U', 'true'], filter)).toMatchObject({ exitCode: 0 });
  });

  it('Unconfined installs no filter: unshare -U succeeds and Seccomp is 0', async () => {
    const filter = seccompFilterFor({ type: 'Unconfined' }, DEFAULT_CAPS, '/nonexistent');
    expect(filter).toBeUndefined();
    expect(await run(['unshare', '-U', 'true'], filter)).toMatchObject({ exitCode: 0 });
    expect((await run(['grep', 'Seccomp:', '/proc/self/status'], filter)).output).toMatch(/^Seccomp:\s+0$/m);
  });

  it('a KILL_PROCESS default kills the program with SIGSYS at its first unlisted syscall', async () => {
    const filter = buildSeccompFilter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['unshare'], action: 'SCMP_ACT_KILL_PROCESS' }] });
    expect(await run(['unshare', '-U', 'true'], filter)).toMatchObject({ exitCode: null, signal: 31 });
  });
});
