import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { lstat, mkdtemp, readdir, readFile, rm, writeFile, mkdir, stat, symlink } from 'node:fs/promises';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImageStore } from '../../../src/image/image-store.js';
import { ExecaRunner, type CommandRunner, type RunOptions } from '../../../src/sys/command.js';
import { CommandError, PodnsError, UserError } from '../../../src/errors.js';
import { makeDockerArchive, makeLayerTar, makeOciArchive, writeTree } from './archive-fixtures.js';
import { skipWithout } from '../../requirements.js';

const runner = new ExecaRunner();
// Whiteouts become 0:0 character devices (mknod) and opaque dirs get a trusted.* xattr: both need root.
const whiteoutSkip = skipWithout('the whiteout conversion test of image-store', process.getuid?.() === 0 ? [] : ['root (mknod, trusted.overlay.* xattrs)']);

let work: string;
let storeRoot: string;
let store: ImageStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'podns-image-test-'));
  storeRoot = path.join(work, 'store');
  store = new ImageStore(storeRoot, runner);
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function layerDirs(): Promise<string[]> {
  return (await readdir(path.join(storeRoot, 'layers')).catch(() => [] as string[])).sort();
}

/** The xattrs of `dir` as GNU tar would archive them (no getfattr needed). */
async function xattrsOf(dir: string): Promise<string> {
  const { stdout } = await runner.run(['sh', '-c', 'tar -c --xattrs --xattrs-include="*" --no-recursion -f - -C "$1" . | tr -c "[:print:]" "\\n"', 'sh', dir]);
  return stdout;
}

describe('ImageStore.load (OCI layout)', () => {
  it.skipIf(whiteoutSkip)('converts whiteouts and opaque dirs of an upper layer to overlayfs form (as root: mknod, trusted.* xattrs)', async () => {
    const base = await makeLayerTar(work, { 'etc/a': 'A', 'etc/b': 'B', 'dir/x': 'x', 'dir/y': 'y', 'keep': 'k' }, path.join(work, 'base.tar.gz'));
    const upper = await makeLayerTar(
      work,
      { 'etc/.wh.a': '', 'dir/.wh..wh..opq': '', 'dir/z': 'z', 'new': 'n', 'etc/.wh.b': '', 'etc/b': 'B2' },
      path.join(work, 'upper.tar.gz'),
    );
    const archive = await makeOciArchive(
      work,
      [
        {
          layers: [base, upper],
          annotations: { 'io.containerd.image.name': 'docker.io/library/demo:1', 'org.opencontainers.image.ref.name': '1' },
          config: { Cmd: ['sh'], Env: ['PATH=/bin'], StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {} }, WorkingDir: '/w' },
        },
      ],
      path.join(work, 'demo.tar'),
    );

    const [record, ...more] = await store.load(archive);
    expect(more).toEqual([]);
    expect(record!.name).toBe('docker.io/library/demo:1');
    expect(record!.id).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(record!.config).toEqual({ Cmd: ['sh'], Env: ['PATH=/bin'], StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {} }, WorkingDir: '/w' });
    expect(record!.created).toBe('2024-05-01T10:00:00.000Z');
    expect(record!.layers).toHaveLength(2);
    expect(record!.size).toBeGreaterThan(0);
    const [lower, top] = record!.layers as [string, string];
    expect(path.dirname(lower)).toBe(path.join(storeRoot, 'layers'));
    expect(await readFile(path.join(lower, 'etc/a'), 'utf8')).toBe('A');

    // .wh.a -> char device 0:0 named a; the marker is gone.
    const wh = await lstat(path.join(top, 'etc/a'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(existsSync(path.join(top, 'etc/.wh.a'))).toBe(false);
    // .wh.b next to a b of the same layer: the layer's own b stays (spec: whiteouts apply to lower layers).
    expect(await readFile(path.join(top, 'etc/b'), 'utf8')).toBe('B2');
    expect(existsSync(path.join(top, 'etc/.wh.b'))).toBe(false);
    // .wh..wh..opq -> trusted.overlay.opaque=y on dir, the marker gone, dir's own files kept.
    expect(existsSync(path.join(top, 'dir/.wh..wh..opq'))).toBe(false);
    expect(await readdir(path.join(top, 'dir'))).toEqual(['z']);
    expect(await xattrsOf(path.join(top, 'dir'))).toContain('SCHILY.xattr.trusted.overlay.opaque=y');
    expect((await stat(path.join(top, 'dir'))).mode & 0o777).toBe(0o755);

    expect((await store.get('demo:1'))?.id).toBe(record!.id);
    expect((await store.get('docker.io/library/demo:1'))?.id).toBe(record!.id);
    expect(await store.get('demo')).toBeUndefined();
  });

  it('stores every named image, shares a common layer, and removes layers only when unreferenced', async () => {
    const base = await makeLayerTar(work, { 'bin/tool': 'tool' }, path.join(work, 'base.tar.gz'));
    const one = await makeLayerTar(work, { 'one': '1' }, path.join(work, 'one.tar.gz'));
    const two = await makeLayerTar(work, { 'two': '2' }, path.join(work, 'two.tar'));
    const archive = await makeOciArchive(
      work,
      [
        { layers: [base, one], annotations: { 'org.opencontainers.image.ref.name': 'example.com/one:v1' } },
        { layers: [base, two], annotations: { 'io.containerd.image.name': 'two' } },
      ],
      path.join(work, 'multi.tar'),
    );
    const records = await store.load(archive);
    expect(records.map((r) => r.name)).toEqual(['example.com/one:v1', 'docker.io/library/two:latest']);
    expect(records[0]!.layers[0]).toBe(records[1]!.layers[0]);
    expect(await layerDirs()).toHaveLength(3);
    expect((await store.list()).map((r) => r.name)).toEqual(['docker.io/library/two:latest', 'example.com/one:v1']);

    await store.remove('two');
    expect(await store.get('two')).toBeUndefined();
    expect(await layerDirs()).toHaveLength(2);
    expect(existsSync(records[0]!.layers[0]!)).toBe(true);

    await store.remove('example.com/one:v1');
    expect(await layerDirs()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('lets a name override the archive name when it holds one image, and refuses it for several', async () => {
    const base = await makeLayerTar(work, { 'f': 'f' }, path.join(work, 'base.tar.gz'));
    const single = await makeOciArchive(work, [{ layers: [base] }], path.join(work, 'single.tar'));
    await expect(store.load(single)).rejects.toMatchObject({ code: 'ENONAME' });
    const [record] = await store.load(single, 'yauritux/busybox-curl');
    expect(record!.name).toBe('docker.io/yauritux/busybox-curl:latest');

    const double = await makeOciArchive(
      work,
      [
        { layers: [base], annotations: { 'io.containerd.image.name': 'a' } },
        { layers: [base], annotations: { 'io.containerd.image.name': 'b' }, config: { Cmd: ['b'] } },
      ],
      path.join(work, 'double.tar'),
    );
    await expect(store.load(double, 'x')).rejects.toMatchObject({ code: 'EAMBIGUOUS' });
  });

  it('refuses a layer whose entries escape the layer directory, and keeps nothing of it', async () => {
    const inner = path.join(work, 'inner');
    await mkdir(inner, { recursive: true });
    await writeFile(path.join(work, 'evil'), 'evil');
    const evil = path.join(work, 'evil.tar');
    // -P keeps "../evil" as the member name.
    await runner.run(['tar', '-c', '-P', '-f', evil, '../evil'], { cwd: inner });
    const archive = await makeOciArchive(work, [{ layers: [evil], annotations: { 'io.containerd.image.name': 'evil' } }], path.join(work, 'evil-image.tar'));

    const err = await store.load(archive).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodnsError);
    expect((err as PodnsError).message).toMatch(/escape/);
    expect((err as PodnsError).step).toBe('image.unpackLayer');
    expect(await layerDirs()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('refuses a layer blob that does not match its digest', async () => {
    const base = await makeLayerTar(work, { 'f': 'f' }, path.join(work, 'base.tar.gz'));
    const archive = await makeOciArchive(work, [{ layers: [base], annotations: { 'io.containerd.image.name': 'x' } }], path.join(work, 'x.tar'));
    // Swap the layer blob's bytes inside the layout and re-tar it.
    const layout = path.join(work, 'layout-x.tar');
    const blobs = path.join(layout, 'blobs', 'sha256');
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
    const manifest = JSON.parse(await readFile(path.join(blobs, index.manifests[0].digest.slice(7)), 'utf8'));
    const other = await makeLayerTar(work, { 'g': 'g' }, path.join(work, 'other.tar.gz'));
    await writeFile(path.join(blobs, manifest.layers[0].digest.slice(7)), await readFile(other));
    await runner.run(['tar', '-c', '-f', archive, '-C', layout, 'oci-layout', 'index.json', 'blobs']);

    await expect(store.load(archive)).rejects.toThrow(/does not match its digest/);
    expect(await layerDirs()).toEqual([]);
  });

  it('leaves no layer directory behind when extraction fails midway', async () => {
    const base = await makeLayerTar(work, { 'f': 'f' }, path.join(work, 'base.tar.gz'));
    const archive = await makeOciArchive(work, [{ layers: [base], annotations: { 'io.containerd.image.name': 'x' } }], path.join(work, 'x.tar'));
    const failing: CommandRunner = {
      run: (argv: string[], options?: RunOptions) =>
        argv[0] === 'tar' && argv[1] === '-x' && argv[3]!.includes('/layers/')
          ? Promise.reject(new CommandError('image.unpackLayer', argv, 2, 'tar: Unexpected EOF in archive'))
          : runner.run(argv, options),
    };
    const failingStore = new ImageStore(storeRoot, failing);
    await expect(failingStore.load(archive)).rejects.toBeInstanceOf(CommandError);
    expect(await layerDirs()).toEqual([]);
    expect(await readdir(path.join(storeRoot, 'tmp'))).toEqual([]);

    // A later load with a working runner starts from scratch and succeeds.
    const [record] = await store.load(archive);
    expect(await readFile(path.join(record!.layers[0]!, 'f'), 'utf8')).toBe('f');
  });
});

describe('ImageStore.load (docker save)', () => {
  it('stores one record per RepoTag, follows symlinked layers, and reads the docker config', async () => {
    const base = await makeLayerTar(work, { 'bin/sh': 'sh' }, path.join(work, 'base.tar'));
    const top = await makeLayerTar(work, { 'etc/motd': 'hi' }, path.join(work, 'top.tar'));
    const archive = await makeDockerArchive(
      work,
      { repoTags: ['busybox:latest', 'registry.local:5000/tools/busybox:1'], layers: [base, top, base], config: { Entrypoint: ['/bin/sh'], Labels: { a: 'b' }, User: '1000' } },
      path.join(work, 'docker.tar'),
    );
    const records = await store.load(archive);
    expect(records.map((r) => r.name)).toEqual(['docker.io/library/busybox:latest', 'registry.local:5000/tools/busybox:1']);
    expect(records[0]!.id).toBe(records[1]!.id);
    expect(records[0]!.layers).toHaveLength(3);
    expect(records[0]!.layers[0]).toBe(records[0]!.layers[2]);
    expect(records[0]!.config).toEqual({ Entrypoint: ['/bin/sh'], Labels: { a: 'b' }, User: '1000' });
    expect(records[0]!.created).toBe('2023-01-02T03:04:05.000Z');
    expect(await readFile(path.join(records[0]!.layers[1]!, 'etc/motd'), 'utf8')).toBe('hi');

    // By id (full and short) as well as by name.
    expect((await store.get(records[0]!.id))?.id).toBe(records[0]!.id);
    expect((await store.get(records[0]!.id.slice(7, 19)))?.id).toBe(records[0]!.id);
    await expect(store.remove(records[0]!.id)).rejects.toMatchObject({ code: 'EAMBIGUOUS' });
  });
});

describe('ImageStore.importRootfs / remove', () => {
  it('imports a rootfs tarball as a one-layer image with the given config, and re-imports replace it', async () => {
    const rootfs = await makeLayerTar(work, { 'bin/app': 'v1' }, path.join(work, 'rootfs.tar'));
    const record = await store.importRootfs(rootfs, 'local/app:dev', { Cmd: ['/bin/app'] });
    expect(record.name).toBe('docker.io/local/app:dev');
    expect(record.layers).toHaveLength(1);
    expect(record.config).toEqual({ Cmd: ['/bin/app'] });
    expect((await stat(record.layers[0]!)).mode & 0o777).toBe(0o755);
    expect(await store.get('local/app:dev')).toEqual(record);

    const rootfs2 = await makeLayerTar(work, { 'bin/app': 'v2' }, path.join(work, 'rootfs2.tar'));
    const replaced = await store.importRootfs(rootfs2, 'docker.io/local/app:dev');
    expect(replaced.id).not.toBe(record.id);
    // The old layer belonged to no other image, so it went with the old record.
    expect(await layerDirs()).toEqual([path.basename(replaced.layers[0]!)]);
  });

  it('refuses a tarball whose later entry writes through its own symlink, and nothing lands outside', async () => {
    const outside = path.join(work, 'outside');
    await mkdir(outside);
    await mkdir(path.join(work, 'stage1'));
    await symlink(outside, path.join(work, 'stage1', 'l'));
    await writeTree(path.join(work, 'stage2'), { 'l/pwned': 'pwned' });
    const evil = path.join(work, 'evil.tar');
    // Made by GNU tar itself: the symlink, then (appended) a file below the same name.
    await runner.run(['tar', '-c', '-f', evil, '-C', path.join(work, 'stage1'), 'l']);
    await runner.run(['tar', '-r', '-f', evil, '-C', path.join(work, 'stage2'), 'l/pwned']);

    const err = await store.importRootfs(evil, 'evil').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodnsError);
    expect((err as PodnsError).message).toMatch(/^refusing layer sha256:[a-f0-9]{64}: entry "l\/pwned" goes through the symlink "l" \(at byte \d+\)$/);
    expect(await readdir(outside)).toEqual([]);
    expect(await layerDirs()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('reads gzip, zstd and plain tarballs; refuses xz and corrupt data in one line, keeping nothing', async () => {
    const plain = await readFile(await makeLayerTar(work, { 'bin/app': 'v1' }, path.join(work, 'rootfs.tar')));
    const variants: Array<[string, Buffer]> = [
      ['gz', gzipSync(plain)],
      ['zst', zstdCompressSync(plain)],
    ];
    for (const [ext, bytes] of variants) {
      const file = path.join(work, `rootfs.tar.${ext}`);
      await writeFile(file, bytes);
      const record = await store.importRootfs(file, `app:${ext}`);
      expect(await readFile(path.join(record.layers[0]!, 'bin/app'), 'utf8')).toBe('v1');
    }
    const xz = path.join(work, 'rootfs.tar.xz');
    await writeFile(xz, Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), plain]));
    await expect(store.importRootfs(xz, 'app:xz')).rejects.toThrow(/\("[^"]+rootfs\.tar\.xz"\) is xz-compressed; podns reads plain, gzip and zstd tar archives$/);
    const corrupt = path.join(work, 'corrupt.tar.gz');
    const gz = gzipSync(plain);
    gz[gz.length - 8] ^= 0xff; // the CRC
    await writeFile(corrupt, gz);
    await expect(store.importRootfs(corrupt, 'app:corrupt')).rejects.toThrow(/corrupt compressed data: /);
    expect((await layerDirs()).filter((d) => d.startsWith('.'))).toEqual([]);
    expect((await store.list()).map((r) => r.name)).toEqual(['docker.io/library/app:gz', 'docker.io/library/app:zst']);
  });

  it('throws ENOIMAGE for an unknown image and EBADREF for an invalid reference', async () => {
    await expect(store.remove('nope')).rejects.toMatchObject({ code: 'ENOIMAGE' });
    await expect(store.remove('nope')).rejects.toBeInstanceOf(UserError);
    await expect(store.get('Bad Ref')).rejects.toMatchObject({ code: 'EBADREF' });
    expect(await store.list()).toEqual([]);
  });
});
