/**
 * `podns pull` against real registries: Debian's docker-registry (anonymous, and with token auth from a token
 * server run here), images pushed by skopeo from the test archives or blob by blob, plus a fake registry for
 * what a real one never serves (wrong digests, short bodies, 503s, slow blobs). Requires: root, the native
 * build, dist/, the test images (see harness.ts), and docker-registry, skopeo, openssl (scripts/setup.sh).
 * Everything listens on 127.0.0.1 and is stopped in afterAll.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, imageCache, kernelSkip, podName, podnsBin, waitFor, type Podns } from './harness.js';
import {
  buildImage,
  getManifest,
  makeLayer,
  missingRegistryTools,
  pushArchive,
  pushBlob,
  pushManifest,
  serveImage,
  startFakeRegistry,
  startRegistry,
  startTokenServer,
  type Registry,
  type TokenServer,
} from './registry-support.js';
import { skipWithout } from '../requirements.js';

const toolsSkip = skipWithout('registry tests', kernelSkip ? [] : (await missingRegistryTools()).map((t) => `${t} (scripts/setup.sh installs it)`));

const INDEX = 'application/vnd.oci.image.index.v1+json';

describe.skipIf(kernelSkip || toolsSkip)('pull from registries', () => {
  let registry: Registry;
  let tokenServer: TokenServer;
  let secured: Registry;
  let podns: Podns;
  const layersOf = (p: Podns) => fs.readdirSync(path.join(p.root, 'lib', 'images', 'layers'));
  const blobsOf = (p: Podns) => fs.readdirSync(path.join(p.root, 'lib', 'images', 'blobs', 'sha256'));

  beforeAll(async () => {
    registry = await startRegistry();
    await pushArchive(registry, path.join(imageCache, 'nginx.tar'), 'library/nginx:latest');
    await pushArchive(registry, path.join(imageCache, 'busybox.tar'), 'yauritux/busybox-curl:latest');
    tokenServer = await startTokenServer('podns', 's3cret');
    // Same storage, token auth in front: what a private registry looks like.
    secured = await startRegistry({ storage: registry.storage, auth: tokenServer.auth });
    podns = await createPodns({ images: false });
  }, 60_000);
  afterAll(async () => {
    await podns?.dispose();
    await secured?.stop();
    await tokenServer?.stop();
    await registry?.stop();
  });

  it('pulls anonymously, shows the DIGEST, and a second pull is a warm no-op', async () => {
    const out = await podns.ok(['pull', `${registry.host}/library/nginx:latest`]);
    const { digest } = await getManifest(registry, 'library/nginx', 'latest');
    expect(out).toContain(`Downloaded newer image for ${registry.host}/library/nginx:latest`);
    expect(out).toContain(`Digest: ${digest}`);
    expect(out).toMatch(/: Downloading \(/); // not a TTY: plain per-layer lines
    const images = await podns.ok(['images']);
    expect(images.split('\n')[0]).toMatch(/^IMAGE\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE/);
    expect(images).toContain(digest.slice(0, 19));
    const again = await podns.ok(['pull', `${registry.host}/library/nginx:latest`]);
    expect(again).toContain('Image is up to date');
    expect(blobsOf(podns).filter((b) => b.startsWith('.'))).toEqual([]);
  });

  it('docker.io references go through the mirror of registries.json, and a pod runs on pulled images', async () => {
    const mirrored = await createPodns({ pull: registry.url });
    try {
      expect(await mirrored.ok(['images'])).toContain('docker.io/library/nginx');
      const pod = podName('pulled');
      await mirrored.ok([
        'run',
        mirrored.writeManifest(pod, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  containers:\n  - {name: c, image: yauritux/busybox-curl, command: [sleep, "3600"]}\n  - {name: web, image: nginx}\n`),
      ]);
      expect((await mirrored.run(['exec', pod, '-c', 'c', '--', 'true'])).exitCode).toBe(0);
      // rmi of an image the pod uses is refused; prune keeps its layers.
      expect((await mirrored.fails(['rmi', 'nginx'])).stderr).toContain('is in use by pod');
      const before = layersOf(mirrored).length;
      await mirrored.ok(['image', 'prune']);
      expect(layersOf(mirrored)).toHaveLength(before);
      await mirrored.ok(['rm', '-f', pod]);
      expect(findLeaks(mirrored.root, [pod])).toEqual([]);
    } finally {
      await mirrored.dispose();
    }
  }, 60_000);

  it('imagePullPolicy: Never refuses a missing image with ErrImageNeverPull; IfNotPresent pulls it', async () => {
    const p = await createPodns({ images: false });
    try {
      fs.mkdirSync(path.join(p.root, 'etc'), { recursive: true });
      fs.writeFileSync(path.join(p.root, 'etc', 'registries.json'), JSON.stringify({ mirrors: { 'docker.io': [registry.url] }, noUpstream: ['docker.io'] }));
      const pod = podName('policy');
      const manifest = (policy: string) =>
        p.writeManifest(pod, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  containers:\n  - {name: c, image: "yauritux/busybox-curl:latest", imagePullPolicy: ${policy}, command: [sleep, "3600"]}\n`);
      const { stderr } = await p.fails(['run', manifest('Never')]);
      expect(stderr.trim()).toBe(`podns: pod "${pod}": container "c": ErrImageNeverPull: Container image "yauritux/busybox-curl:latest" is not present with pull policy of Never`);
      await p.ok(['run', manifest('IfNotPresent')]);
      expect(await p.ok(['images'])).toContain('docker.io/yauritux/busybox-curl');
      await p.ok(['rm', '-f', pod]);
    } finally {
      await p.dispose();
    }
  }, 60_000);

  it('token auth: credentials from --authfile get a token; none or wrong ones are refused in one line', async () => {
    const authfile = path.join(podns.root, 'auth.json');
    const write = (user: string, pass: string) =>
      fs.writeFileSync(authfile, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }));
    const ref = `${secured.host}/yauritux/busybox-curl:latest`;
    const anonymous = await podns.fails(['pull', ref]);
    expect(anonymous.stderr.trim()).toBe(`podns: registry ${secured.host}: token server ${new URL(tokenServer.auth.realm).host} refused anonymous access (HTTP 401): UNAUTHORIZED: bad credentials`);
    write('podns', 'wrong');
    expect((await podns.fails(['pull', '--authfile', authfile, ref])).stderr).toContain('refused the credentials of "podns" (HTTP 401)');
    write('podns', 's3cret');
    expect(await podns.ok(['pull', '--authfile', authfile, ref])).toContain(`Downloaded newer image for ${ref}`);
    // The same credentials from <root>/etc/auth.json.
    fs.mkdirSync(path.join(podns.root, 'etc'), { recursive: true });
    fs.copyFileSync(authfile, path.join(podns.root, 'etc', 'auth.json'));
    await podns.ok(['rmi', ref]);
    await podns.ok(['pull', ref]);
    fs.rmSync(path.join(podns.root, 'etc', 'auth.json'));
  });

  it("imagePullSecrets: a dockerconfigjson Secret of the same file lets podns run pull from the private registry", async () => {
    const p = await createPodns({ images: false });
    try {
      const ref = `${secured.host}/yauritux/busybox-curl:latest`;
      const config = (pass: string) => JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from(`podns:${pass}`).toString('base64') } } });
      const manifest = (name: string, pass: string | undefined) =>
        p.writeManifest(
          name,
          `${pass === undefined ? '' : `apiVersion: v1\nkind: Secret\nmetadata: {name: regcred}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '${config(pass)}'\n---\n`}apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  imagePullSecrets: [{name: regcred}]
  containers:
  - {name: c, image: ${ref}, command: ["sleep", "3600"]}
`,
        );
      // Without the Secret: kubelet's warning, then an anonymous pull the registry refuses, in one line.
      const missing = await p.fails(['run', manifest(podName('pull-nosecret'), undefined)]);
      expect(missing.stderr).toMatch(/spec\.imagePullSecrets\[0\]\.name: secret "regcred" not found: unable to retrieve some image pull secrets/);
      expect(missing.stderr).toMatch(/ErrImagePull: registry .* refused anonymous access/);
      expect((await p.fails(['run', manifest(podName('pull-wrong'), 'wrong')])).stderr).toContain('refused the credentials of "podns" (HTTP 401)');
      const pod = podName('pull-secret');
      await p.ok(['run', manifest(pod, 's3cret')]);
      expect(await p.ok(['images'])).toContain(`${secured.host}/yauritux/busybox-curl`);
      await p.ok(['rm', '-f', pod]);
    } finally {
      await p.dispose();
    }
  });

  it('an index picks linux/amd64; an index without it names the platforms it has', async () => {
    const { digest, doc } = await getManifest(registry, 'library/nginx', 'latest');
    // An arm64 "variant": the same blobs, one annotation more, so another manifest digest.
    const armDigest = await pushManifest(registry, 'library/nginx', 'arm64', { ...doc, annotations: { arch: 'arm64' } });
    const armSize = Buffer.byteLength(JSON.stringify({ ...doc, annotations: { arch: 'arm64' } }));
    const s390Digest = await pushManifest(registry, 'library/nginx', 's390x', { ...doc, annotations: { arch: 's390x' } });
    const s390Size = Buffer.byteLength(JSON.stringify({ ...doc, annotations: { arch: 's390x' } }));
    const mt = (doc as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
    const entry = (d: string, n: number, architecture: string, variant?: string) => ({ mediaType: mt, digest: d, size: n, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
    // The amd64 entry's size is that of the manifest as stored (skopeo's bytes, not our re-serialisation).
    const stored = Buffer.from(await (await fetch(`${registry.url}/v2/library/nginx/manifests/${digest}`, { headers: { Accept: mt } })).arrayBuffer());
    const indexDigest = await pushManifest(registry, 'library/nginx', 'multi', {
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [entry(armDigest, armSize, 'arm64', 'v8'), entry(digest, stored.length, 'amd64'), entry(s390Digest, s390Size, 's390x')],
    });
    await pushManifest(registry, 'library/nginx', 'armonly', { schemaVersion: 2, mediaType: INDEX, manifests: [entry(armDigest, armSize, 'arm64', 'v8'), entry(s390Digest, s390Size, 's390x')] });

    const out = await podns.ok(['pull', `${registry.host}/library/nginx:multi`]);
    expect(out).toContain(`Digest: ${indexDigest}`);
    const record = JSON.parse(await fs.promises.readFile(path.join(podns.root, 'lib', 'images', 'images', fs.readdirSync(path.join(podns.root, 'lib', 'images', 'images')).find((f) => fs.readFileSync(path.join(podns.root, 'lib', 'images', 'images', f), 'utf8').includes(':multi'))!), 'utf8'));
    expect(record.id).toBe(doc.config.digest);
    expect(record.blobs).toContain(digest);
    const { stderr } = await podns.fails(['pull', `${registry.host}/library/nginx:armonly`]);
    expect(stderr.trim()).toBe(`podns: ${registry.host}/library/nginx:armonly: no image for linux/amd64 in its index (it has: linux/arm64/v8, linux/s390x)`);
  });

  it('a layer with a whiteout and an opaque directory becomes an overlayfs whiteout and an opaque dir', async () => {
    const lower = await makeLayer({ 'keep/a': 'a', gone: 'x', 'dir/old': 'old' });
    const upper = await makeLayer({ '.wh.gone': '', 'dir/.wh..wh..opq': '', 'dir/new': 'new' });
    const image = buildImage([lower, upper]);
    for (const bytes of image.blobs.values()) await pushBlob(registry, 'test/whiteout', bytes);
    await pushManifest(registry, 'test/whiteout', 'v1', image.manifest);
    await podns.ok(['pull', `${registry.host}/test/whiteout:v1`]);
    const upperDir = path.join(podns.root, 'lib', 'images', 'layers', (image.manifest as { layers: { digest: string }[] }).layers[1]!.digest.slice(7));
    const gone = fs.lstatSync(path.join(upperDir, 'gone'));
    expect(gone.isCharacterDevice()).toBe(true);
    expect(gone.rdev).toBe(0);
    expect(fs.existsSync(path.join(upperDir, '.wh.gone'))).toBe(false);
    expect(fs.existsSync(path.join(upperDir, 'dir', '.wh..wh..opq'))).toBe(false);
    const xattr = await execa('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())', path.join(upperDir, 'dir')]);
    expect(xattr.stdout.trim()).toBe('y');
    expect(fs.readFileSync(path.join(upperDir, 'dir', 'new'), 'utf8')).toBe('new');
  });

  it('zstd, plain and mislabelled layers unpack as they download (or, mislabelled, again from the stored blob)', async () => {
    const plain = async (name: string) => zlib.gunzipSync(await makeLayer({ [`etc/${name}`]: name }));
    const layers: Array<[string, Buffer]> = [
      ['application/vnd.oci.image.layer.v1.tar+zstd', zlib.zstdCompressSync(await plain('zstd'))],
      ['application/vnd.oci.image.layer.v1.tar', await plain('plain')],
      // Says gzip, is a plain tar: the unpack along the download fails, the one from the stored blob reads its magic.
      ['application/vnd.oci.image.layer.v1.tar+gzip', await plain('mislabelled')],
    ];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [] } }));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(registry, 'test/formats', config), size: config.length },
      layers: await Promise.all(layers.map(async ([mediaType, bytes]) => ({ mediaType, digest: await pushBlob(registry, 'test/formats', bytes), size: bytes.length }))),
    };
    await pushManifest(registry, 'test/formats', 'v1', manifest);
    await podns.ok(['pull', `${registry.host}/test/formats:v1`]);
    const dirs = manifest.layers.map((l) => path.join(podns.root, 'lib', 'images', 'layers', l.digest.slice(7)));
    expect(['zstd', 'plain', 'mislabelled'].map((name, i) => fs.readFileSync(path.join(dirs[i]!, 'etc', name), 'utf8'))).toEqual(['zstd', 'plain', 'mislabelled']);
    expect(layersOf(podns).filter((d) => d.startsWith('.'))).toEqual([]);
  });

  it('a layer reaching outside its directory is refused in one line: "..", an absolute name, a write through its own symlink', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-evil-layer-'));
    const p = await createPodns({ images: false });
    try {
      const outside = path.join(work, 'outside');
      fs.mkdirSync(path.join(work, 'inner'), { recursive: true });
      fs.mkdirSync(outside);
      fs.writeFileSync(path.join(work, 'dotdot'), 'x');
      fs.mkdirSync(path.join(work, 'stage1'));
      fs.symlinkSync(outside, path.join(work, 'stage1', 'l'));
      fs.mkdirSync(path.join(work, 'stage2', 'l'), { recursive: true });
      fs.writeFileSync(path.join(work, 'stage2', 'l', 'pwned'), 'x');
      // Made by GNU tar: -P keeps "../dotdot" and "/…/absolute" as written; -r appends l/pwned after the link.
      const tar = async (name: string, ...commands: string[][]) => {
        const file = path.join(work, `${name}.tar`);
        fs.writeFileSync(path.join(outside, 'absolute'), 'x');
        for (const c of commands) await execa('tar', [...c.slice(0, 1), '-f', file, ...c.slice(1)], { cwd: path.join(work, 'inner') });
        fs.rmSync(path.join(outside, 'absolute'), { force: true });
        return zlib.gzipSync(fs.readFileSync(file));
      };
      const cases: Array<[string, Buffer, RegExp]> = [
        ['dotdot', await tar('dotdot', ['-c', '-P', '../dotdot']), /entry "..\/dotdot" escapes the extraction directory/],
        ['absolute', await tar('absolute', ['-c', '-P', path.join(outside, 'absolute')]), /entry "\/.*\/absolute" escapes the extraction directory/],
        ['symlink', await tar('symlink', ['-c', '-C', path.join(work, 'stage1'), 'l'], ['-r', '-C', path.join(work, 'stage2'), 'l/pwned']), /entry "l\/pwned" goes through the symlink "l"/],
      ];
      for (const [name, layer, message] of cases) {
        const image = buildImage([layer]);
        for (const bytes of image.blobs.values()) await pushBlob(registry, `test/evil-${name}`, bytes);
        await pushManifest(registry, `test/evil-${name}`, 'v1', image.manifest);
        const { stderr, exitCode } = await p.fails(['pull', `${registry.host}/test/evil-${name}:v1`]);
        expect(exitCode).toBe(1);
        expect(stderr.trim().split('\n'), name).toHaveLength(1);
        expect(stderr, name).toMatch(new RegExp(`^podns: refusing layer ${(image.manifest as { layers: { digest: string }[] }).layers[0]!.digest}: ${message.source}`));
      }
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(fs.readFileSync(path.join(work, 'dotdot'), 'utf8')).toBe('x');
      expect(layersOf(p)).toEqual([]);
      expect(fs.readdirSync(path.join(p.root, 'lib', 'images', 'images'))).toEqual([]);
    } finally {
      await p.dispose();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it('unknown tag, registry down: one line each, non-zero exit, nothing written', async () => {
    const unknown = await podns.fails(['pull', `${registry.host}/library/nginx:nope`]);
    expect(unknown.stderr.trim()).toBe(`podns: ${registry.host}/library/nginx:nope: manifest unknown (registry ${registry.host}: MANIFEST_UNKNOWN: manifest unknown)`);
    expect(unknown.exitCode).toBe(1);
    const down = await startFakeRegistry(() => undefined);
    await down.stop();
    const refused = await podns.fails(['pull', `${down.host}/x/y:1`]);
    expect(refused.stderr.trim()).toBe(`podns: registry ${down.host} is not reachable (http://${down.host}): connection refused (ECONNREFUSED)`);
  });

  it('a blob whose bytes do not match its digest is refused and not kept; a short body is a truncated download', async () => {
    const p = await createPodns({ images: false });
    const layer = await makeLayer({ f: 'content' });
    const image = buildImage([layer]);
    const layerDigest = (image.manifest as { layers: { digest: string }[] }).layers[0]!.digest;
    let mode: 'tamper' | 'truncate' | '503' = 'tamper';
    let failures = 0;
    const fake = await startFakeRegistry(
      serveImage(image, (digest, bytes, res) => {
        if (digest !== layerDigest) return false;
        if (mode === 'tamper') {
          const evil = Buffer.from(bytes);
          evil[evil.length - 5] ^= 0xff;
          res.writeHead(200, { 'Content-Length': evil.length }).end(evil);
        } else if (mode === 'truncate') {
          res.writeHead(200, { 'Content-Length': bytes.length });
          res.write(bytes.subarray(0, 10));
          setTimeout(() => res.destroy(), 50);
        } else if (failures++ < 2) {
          res.writeHead(503).end('busy');
        } else return false;
        return true;
      }),
    );
    try {
      const bad = await p.fails(['pull', `${fake.host}/t/img:1`]);
      expect(bad.stderr.trim()).toMatch(new RegExp(`^podns: blob ${layerDigest} from ${fake.host}: digest mismatch \\(got sha256:[a-f0-9]{64}\\); refused$`));
      mode = 'truncate';
      const short = await p.fails(['pull', `${fake.host}/t/img:1`]);
      expect(short.stderr.trim()).toMatch(new RegExp(`^podns: blob ${layerDigest} from ${fake.host}: truncated download \\(\\d+ of ${layer.length} bytes\\)`));
      const store = path.join(p.root, 'lib', 'images');
      expect(fs.readdirSync(path.join(store, 'images'))).toEqual([]);
      expect(fs.readdirSync(path.join(store, 'layers'))).toEqual([]);
      expect(fs.readdirSync(path.join(store, 'blobs', 'sha256')).filter((b) => b === layerDigest.slice(7) || b.startsWith('.tmp'))).toEqual([]);
      // Two 503s, then the blob: retried with back-off, and the pull succeeds.
      mode = '503';
      await p.ok(['pull', `${fake.host}/t/img:1`]);
      expect(failures).toBe(3);
    } finally {
      await fake.stop();
      await p.dispose();
    }
  }, 60_000);

  it('concurrent pulls of one image both succeed and share one download and one unpack', async () => {
    const p = await createPodns({ images: false });
    try {
      const ref = `${registry.host}/library/nginx:latest`;
      const results = await Promise.all([p.run(['pull', ref]), p.run(['pull', ref]), p.run(['pull', ref])]);
      for (const r of results) expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(layersOf(p)).toHaveLength(1);
      expect(blobsOf(p).filter((b) => b.startsWith('.'))).toEqual([]);
      expect(fs.existsSync(path.join(p.root, 'lib', 'images', 'lock'))).toBe(false);
      // rmi during a pull: whichever wins, the store stays consistent.
      const [pull, rmi] = await Promise.all([p.run(['pull', `${registry.host}/yauritux/busybox-curl:latest`]), p.run(['rmi', ref])]);
      expect(pull.exitCode, String(pull.stderr)).toBe(0);
      expect(rmi.exitCode, String(rmi.stderr)).toBe(0);
      expect(await p.ok(['images'])).toContain('busybox-curl');
      expect(layersOf(p)).toHaveLength(1);
    } finally {
      await p.dispose();
    }
  }, 60_000);

  it('a pull killed mid-download leaves only temp files; the next pull succeeds and prune removes them', async () => {
    const p = await createPodns({ images: false });
    const layer = await makeLayer({ big: randomBytes(256 * 1024).toString('base64') });
    const image = buildImage([layer]);
    const layerDigest = (image.manifest as { layers: { digest: string }[] }).layers[0]!.digest;
    let slow = true;
    const fake = await startFakeRegistry(
      serveImage(image, (digest, bytes, res) => {
        if (digest !== layerDigest || !slow) return false;
        res.writeHead(200, { 'Content-Length': bytes.length });
        res.write(bytes.subarray(0, 1000)); // and never the rest
        return true;
      }),
    );
    try {
      const blobs = path.join(p.root, 'lib', 'images', 'blobs', 'sha256');
      const child = spawn(podnsBin, ['--root', p.root, 'pull', `${fake.host}/t/slow:1`], { stdio: 'ignore' });
      // The layer's temp file with the bytes that came (the config's temp file is renamed at once: not that one).
      const partial = () =>
        fs.existsSync(blobs) &&
        fs.readdirSync(blobs).some((b) => b.startsWith('.tmp-') && (fs.statSync(path.join(blobs, b), { throwIfNoEntry: false })?.size ?? 0) >= 1000);
      await waitFor(partial, 10_000, 'a partly written layer blob');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(fs.readdirSync(path.join(p.root, 'lib', 'images', 'images'))).toEqual([]);
      expect(fs.readdirSync(blobs).some((b) => b.startsWith('.tmp-'))).toBe(true);
      // The unpack that ran along the download left at most its temp dir: no layer under its name.
      expect(layersOf(p).filter((d) => !d.startsWith('.tmp-'))).toEqual([]);
      slow = false;
      await p.ok(['pull', `${fake.host}/t/slow:1`]); // its lock is stale (dead pid): taken over
      expect(await p.ok(['image', 'prune'])).toMatch(/Deleted 0 layer\(s\), 0 blob\(s\), [1-9]\d* temp file\(s\)/);
      expect(fs.readdirSync(blobs).filter((b) => b.startsWith('.'))).toEqual([]);
      expect(fs.readdirSync(path.join(p.root, 'lib', 'images', 'tmp'))).toEqual([]);
      // rmi then prune: nothing of the image is left.
      await p.ok(['rmi', `${fake.host}/t/slow:1`]);
      await p.ok(['image', 'prune']);
      expect(fs.readdirSync(blobs)).toEqual([]);
      expect(layersOf(p)).toEqual([]);
    } finally {
      await fake.stop();
      await p.dispose();
    }
  }, 60_000);

  it('disk full while unpacking: one line, no layer or record kept', async () => {
    const p = await createPodns({ images: false });
    const lib = path.join(p.root, 'lib');
    fs.mkdirSync(lib, { recursive: true });
    // Room for nginx's compressed layer (~5 MB) but not for it unpacked (~12 MB).
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'podns-test-full', lib]);
    try {
      const { stderr } = await p.fails(['pull', `${registry.host}/library/nginx:latest`]);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/No space left on device|ENOSPC/);
      const store = path.join(lib, 'images');
      expect(fs.readdirSync(path.join(store, 'images'))).toEqual([]);
      expect(fs.readdirSync(path.join(store, 'layers'))).toEqual([]);
    } finally {
      await execa('umount', [lib]);
      await p.dispose();
    }
  }, 60_000);
});
