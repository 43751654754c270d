/**
 * Loads the archives scripts/build-test-images.sh writes (they need apt; this suite does not build them).
 * Proves they are valid OCI layouts the store reads, named and configured as the example pod expects.
 * Without the archives it skips locally, saying so, and fails under CI (test/requirements.ts).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageStore } from '../../../src/image/image-store.js';
import { ExecaRunner } from '../../../src/sys/command.js';
import { skipWithout } from '../../requirements.js';

const cache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';
const busybox = path.join(cache, 'busybox.tar');
const nginx = path.join(cache, 'nginx.tar');
const archivesSkip = skipWithout(
  'the test image archive tests',
  [busybox, nginx].filter((f) => !existsSync(f)).map((f) => `${f} (scripts/build-test-images.sh)`),
);

let work: string;
let store: ImageStore;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'podns-test-images-'));
  store = new ImageStore(path.join(work, 'store'), new ExecaRunner());
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('test image archives', () => {
  it.skipIf(archivesSkip)('busybox.tar loads as yauritux/busybox-curl with the applets the pod uses', async () => {
    const [record] = await store.load(busybox);
    expect(record!.name).toBe('docker.io/yauritux/busybox-curl:latest');
    expect(record!.config.Cmd).toEqual(['sh']);
    expect(record!.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    const root = record!.layers[0]!;
    expect((await lstat(path.join(root, 'bin/busybox'))).isFile()).toBe(true);
    for (const applet of ['bin/sh', 'bin/ps', 'usr/bin/wget', 'usr/bin/tail', 'bin/sleep']) {
      expect(await readlink(path.join(root, applet))).toBe('/bin/busybox');
    }
    expect((await lstat(path.join(root, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await readFile(path.join(root, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    expect((await store.get('yauritux/busybox-curl'))?.id).toBe(record!.id);
  });

  it.skipIf(archivesSkip)('nginx.tar loads as nginx with the official-like config, its libraries and a shell', async () => {
    const [record] = await store.load(nginx);
    expect(record!.name).toBe('docker.io/library/nginx:latest');
    expect(record!.config).toMatchObject({
      Cmd: ['nginx', '-g', 'daemon off;'],
      StopSignal: 'SIGQUIT',
      ExposedPorts: { '80/tcp': {} },
    });
    const root = record!.layers[0]!;
    for (const file of ['usr/sbin/nginx', 'etc/nginx/mime.types', 'usr/share/nginx/html/index.html', 'lib/x86_64-linux-gnu/libc.so.6']) {
      expect(existsSync(path.join(root, file)), file).toBe(true);
    }
    expect(await readFile(path.join(root, 'etc/nginx/nginx.conf'), 'utf8')).toMatch(/^user {2}nginx;/m);
    expect(await readFile(path.join(root, 'etc/passwd'), 'utf8')).toMatch(/^nginx:x:101:101:/m);
    expect(await readlink(path.join(root, 'bin/sh'))).toBe('/bin/busybox');
    expect((await store.get('nginx'))?.id).toBe(record!.id);
  });
});
