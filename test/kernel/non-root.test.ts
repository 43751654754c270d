/**
 * podns run by a user who is not root, as someone who forgot sudo would: every verb that needs root says so in
 * one line — why, and the same command line under sudo — and exits 1 before touching anything; a verb that only
 * reads says the same when the state it reads is root's alone (no raw EACCES, no stack trace); `--help`,
 * `images` and `volume ls` (world-readable data) still work.
 * Requires: root (to set a pod up, and to drop to nobody with setpriv), the native build, dist/, the test
 * images (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, imageCache, kernelSkip, podName, podnsBin, type Podns } from './harness.js';
import { BUSYBOX, expectCleanError, podYaml } from './support.js';

/** Every file and directory under `dir` with what a change would alter: mode, size, mtime. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      const st = fs.lstatSync(p);
      out.push(`${p} ${st.mode.toString(8)} ${entry.isDirectory() ? '-' : st.size} ${st.mtimeMs}`);
      if (entry.isDirectory() && !entry.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe.skipIf(kernelSkip)('without root', () => {
  let podns: Podns;
  const pod = podName('nonroot');
  let manifest: string;
  let before: string[];

  /** podns as nobody (uid and gid 65534, no supplementary groups), against the test's root. */
  const asNobody = async (args: string[]) => {
    const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', podnsBin, '--root', podns.root, ...args], {
      reject: false,
      env: { PODNS_NETWORK_MODE: 'none', HOME: '/nonexistent' },
      stdin: 'ignore',
      timeout: 30_000,
    });
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
  };

  beforeAll(async () => {
    podns = await createPodns({ images: false });
    await podns.ok(['image', 'load', path.join(imageCache, 'busybox.tar')]);
    manifest = podns.writeManifest(pod, podYaml(pod));
    await podns.ok(['run', manifest]);
    // The test's root is a 0700 temp dir; opened up like /run, /var/lib and /var/log, so that only the modes
    // podns gives its own files decide what another user can read.
    fs.chmodSync(podns.root, 0o755);
    before = snapshot(podns.root);
  });
  afterAll(async () => {
    await podns?.dispose();
  });

  const needsRoot: [string, () => string[]][] = [
    ['run', () => ['run', manifest]],
    ['exec', () => ['exec', pod, '--', 'true']],
    ['stop', () => ['stop', pod]],
    ['rm', () => ['rm', '-f', pod]],
    ['attach', () => ['attach', pod]],
    ['down', () => ['down', manifest]],
    ['serve', () => ['serve']],
    ['info', () => ['info']],
    ['gc', () => ['gc']],
    ['pull', () => ['pull', BUSYBOX]],
    ['image load', () => ['image', 'load', path.join(imageCache, 'busybox.tar')]],
    ['image import', () => ['image', 'import', path.join(imageCache, 'busybox.tar'), 'imported']],
    ['image rm', () => ['image', 'rm', BUSYBOX]],
    ['rmi', () => ['rmi', BUSYBOX]],
    ['image prune', () => ['image', 'prune']],
    ['volume rm', () => ['volume', 'rm', 'data']],
    ['volume prune', () => ['volume', 'prune']],
  ];
  it.each(needsRoot)('%s: one line saying it needs root, and the command under sudo', async (verb, args) => {
    const r = await asNobody(args());
    // `it …`: the reason the verb table gives, checked before the verb runs (not a system call's EACCES).
    expectCleanError(r, new RegExp(`^podns: ${verb} needs root: it .+; try sudo podns --root \\S+ ${verb.split(' ')[0]}`));
    expect(r.stderr).toContain(`sudo podns --root ${podns.root} ${args().join(' ')}`);
    expect(r.stdout).toBe('');
  });

  // Pod state is root's alone (<run>/pods is 0700): the verbs that read it say so instead of an empty list or a
  // raw EACCES.
  const readsRootState: [string, () => string[]][] = [
    ['ps', () => ['ps']],
    ['ps', () => ['ps', '-o', 'json']],
    ['logs', () => ['logs', pod]],
    ['inspect', () => ['inspect', pod]],
    ['describe', () => ['describe', pod]],
    ['events', () => ['events']],
    ['stats', () => ['stats']],
    ['explain', () => ['explain', pod]],
  ];
  it.each(readsRootState)('%s (%j) on root-only state: one line saying it needs root', async (verb, args) => {
    const r = await asNobody(args());
    expectCleanError(r, new RegExp(`^podns: ${verb} needs root: .*permission denied \\(EACCES\\); try sudo podns --root \\S+ ${verb}`));
  });

  it('--help, images and volume ls work without root', async () => {
    const help = await asNobody(['--help']);
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: podns/);
    const images = await asNobody(['images']);
    expect(images.exitCode, images.stderr).toBe(0);
    expect(images.stdout).toContain(`docker.io/${BUSYBOX}`);
    const volumes = await asNobody(['volume', 'ls']);
    expect(volumes.exitCode, volumes.stderr).toBe(0);
  });

  it('in a root of its own, nothing is made before the refusal', async () => {
    const own = fs.mkdtempSync(path.join(podns.root, 'nobody-'));
    fs.chownSync(own, 65534, 65534);
    try {
      for (const args of [['run', manifest], ['image', 'load', path.join(imageCache, 'busybox.tar')], ['pull', BUSYBOX], ['gc']]) {
        const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', podnsBin, '--root', own, ...args], {
          reject: false,
          env: { PODNS_NETWORK_MODE: 'none', HOME: '/nonexistent' },
          stdin: 'ignore',
        });
        expectCleanError({ stderr: String(r.stderr), exitCode: r.exitCode }, /needs root: it /);
        expect(fs.readdirSync(own), args.join(' ')).toEqual([]);
      }
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });

  it('nothing was touched: the same files, and the pod still runs', async () => {
    // it.each above ran first (vitest runs a file's tests in order).
    expect(snapshot(podns.root)).toEqual(before);
    expect(await podns.ok(['ps'])).toMatch(new RegExp(`${pod}\\s+main\\s+Running`));
  });
});
