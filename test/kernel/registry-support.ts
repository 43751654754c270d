/**
 * Real and fake registries for test/kernel/registry.test.ts and for `createPodns({ pull })`:
 *   - Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 and a free port, with a temp storage dir and a
 *     generated config.yml; optionally with `auth: token:` pointing at a token server run by this process,
 *     whose JWTs are RS256-signed with a throw-away self-signed certificate (x5c header, the cert as the
 *     registry's rootcertbundle);
 *   - images pushed with `skopeo copy` from the test archives, or blob by blob through the registry API;
 *   - a fake registry (node:http) for what a real one never serves: wrong digests, short bodies, 503s, slowness.
 * Everything listens on 127.0.0.1 only and is stopped and deleted by `stop()`.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createSign, randomUUID, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { freePort } from '../../src/bench/free-port.js';
export { freePort };

export const registryTools = ['docker-registry', 'skopeo', 'openssl'];

/** Names of the tools above that are not installed (scripts/setup.sh installs them). */
export async function missingRegistryTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of registryTools) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (r.exitCode !== 0) missing.push(tool);
  }
  return missing;
}

export interface Registry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  storage: string;
  stop(): Promise<void>;
}

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
}

/** Starts `docker-registry serve` on a free port; `storage` lets two registries share one store. */
export async function startRegistry(options: { storage?: string; auth?: TokenAuth } = {}): Promise<Registry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-registry-'));
  const storage = options.storage ?? path.join(dir, 'data');
  fs.mkdirSync(storage, { recursive: true });
  const port = await freePort();
  const auth = options.auth
    ? `auth:\n  token:\n    realm: ${options.auth.realm}\n    service: ${options.auth.service}\n    issuer: ${options.auth.issuer}\n    rootcertbundle: ${options.auth.certFile}\n`
    : '';
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const log = fs.openSync(path.join(dir, 'registry.log'), 'w');
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${url}/v2/`).catch(() => undefined);
    if (res) {
      await res.body?.cancel();
      break;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${fs.readFileSync(path.join(dir, 'registry.log'), 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    storage,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      } else if (process.env.PODNS_REGISTRY_DEBUG) {
        console.warn(`docker-registry had exited (${child.exitCode ?? child.signalCode}): ${fs.readFileSync(path.join(dir, 'registry.log'), 'utf8')}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `skopeo copy` of an OCI archive into the registry as REPO:TAG. */
export async function pushArchive(registry: Registry, archive: string, repoTag: string): Promise<void> {
  await execa('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${registry.host}/${repoTag}`]);
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Monolithic blob upload (distribution spec "POST then PUT"). */
export async function pushBlob(registry: Registry, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.body?.cancel();
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
  const location = new URL(start.headers.get('location')!, registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
  return digest;
}

export async function pushManifest(registry: Registry, repo: string, ref: string, doc: object): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'Content-Type': (doc as { mediaType: string }).mediaType },
  });
  if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
  return sha256(bytes);
}

export async function getManifest(registry: Registry, repo: string, ref: string): Promise<{ digest: string; doc: { config: { digest: string; size: number }; layers: object[] } }> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${ref}`, {
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { digest: sha256(bytes), doc: JSON.parse(bytes.toString('utf8')) };
}

/** A gzip'd tar of `files` (path -> content; content null makes an empty dir), made by GNU tar. */
export async function makeLayer(files: Record<string, string | null>): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-layer-'));
  try {
    for (const [rel, content] of Object.entries(files)) {
      const p = path.join(dir, 'root', rel);
      if (content === null) fs.mkdirSync(p, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content);
      }
    }
    await execa('tar', ['-c', '-f', path.join(dir, 'layer.tar'), '-C', path.join(dir, 'root'), '--owner=0', '--group=0', '--sort=name', '.']);
    return zlib.gzipSync(fs.readFileSync(path.join(dir, 'layer.tar')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The JSON of a one-platform OCI image with `layers` (gzip'd tars); returns the manifest and the blobs by digest.
 * `config` adds to the image config's `config` (User, Env ...).
 */
export function buildImage(layers: Buffer[], cmd: string[] = ['/bin/sh'], architecture = 'amd64', config: Record<string, unknown> = {}): { manifest: object; blobs: Map<string, Buffer>; manifestBytes: Buffer } {
  const diffIds = layers.map((l) => sha256(zlib.gunzipSync(l)));
  const configBytes = Buffer.from(JSON.stringify({ architecture, os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: cmd, ...config }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const blobs = new Map<string, Buffer>([[sha256(configBytes), configBytes]]);
  for (const l of layers) blobs.set(sha256(l), l);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
  };
  return { manifest, blobs, manifestBytes: Buffer.from(JSON.stringify(manifest)) };
}

// ---------------------------------------------------------------------------------------------------------
// Token server

export interface TokenServer {
  auth: TokenAuth;
  stop(): Promise<void>;
}

/** A token server (docker "Token Authentication Specification") that grants pull+push to `user:password` only. */
export async function startTokenServer(user: string, password: string): Promise<TokenServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-token-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=podns-test-token']);
  const key = fs.readFileSync(keyFile, 'utf8');
  const der = new X509Certificate(fs.readFileSync(certFile)).raw.toString('base64');
  const issuer = 'podns-test-issuer';
  const service = 'podns-test-registry';
  const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const given = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (url.pathname !== '/token' || given !== Buffer.from(`${user}:${password}`).toString('base64')) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    const [type, name] = scope.split(':');
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access: type ? [{ type, name, actions: ['pull', 'push'] }] : [] };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `${input}.${b64url(signature)}` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    auth: { realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fake registry

export interface FakeRegistry {
  host: string;
  stop(): Promise<void>;
}

/** Serves `/v2/` and hands every other request to `handle`. */
export async function startFakeRegistry(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<FakeRegistry> {
  const server = http.createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A handler serving one image (manifest under any tag, blobs by digest), with hooks to misbehave per blob. */
export function serveImage(
  image: { manifestBytes: Buffer; blobs: Map<string, Buffer> },
  blob: (digest: string, bytes: Buffer, res: http.ServerResponse) => boolean = () => false,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const m = /^\/v2\/.+\/(manifests|blobs)\/(.+)$/.exec(req.url ?? '');
    if (m?.[1] === 'manifests') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': image.manifestBytes.length }).end(image.manifestBytes);
      return;
    }
    const bytes = m ? image.blobs.get(m[2]!) : undefined;
    if (!m || !bytes) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
      return;
    }
    if (blob(m[2]!, bytes, res)) return;
    res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
  };
}
