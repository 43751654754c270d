import { describe, expect, it } from 'vitest';
import { findCredentials, parseRegistryConfig } from '../../../src/image/registry/config.js';
import { planEndpoints } from '../../../src/image/registry/endpoints.js';
import { parseChallenge, tokenUrl } from '../../../src/image/registry/auth.js';
import { selectPlatform } from '../../../src/image/registry/platform.js';
import { layerCompression } from '../../../src/image/registry/media-types.js';
import { mapBounded } from '../../../src/image/pull.js';

describe('registries.json', () => {
  it('reads mirrors, insecure and noUpstream, trimming trailing slashes', () => {
    const c = parseRegistryConfig({ mirrors: { 'docker.io': ['http://127.0.0.1:5000/'] }, insecure: ['myreg:5000'], noUpstream: ['docker.io'] }, 'f');
    expect(c).toEqual({ mirrors: { 'docker.io': ['http://127.0.0.1:5000'] }, insecure: ['myreg:5000'], noUpstream: ['docker.io'] });
  });
  it('refuses malformed files with the file named', () => {
    expect(() => parseRegistryConfig({ mirrors: { 'docker.io': 'x' } }, '/e/registries.json')).toThrow('"/e/registries.json": "mirrors.docker.io" must be a list of URLs');
    expect(() => parseRegistryConfig({ mirrors: { 'docker.io': ['ftp://x'] } }, 'f')).toThrow('is not an http(s) URL');
    expect(() => parseRegistryConfig([], 'f')).toThrow('must be a JSON object');
  });
  it('an absent file is the empty config', () => {
    expect(parseRegistryConfig(undefined, 'f')).toEqual({ mirrors: {}, insecure: [], noUpstream: [] });
  });
});

describe('endpoints', () => {
  const empty = { mirrors: {}, insecure: [], noUpstream: [] };
  it('Docker Hub is registry-1.docker.io over HTTPS, after its mirrors', () => {
    expect(planEndpoints('docker.io', { ...empty, mirrors: { 'docker.io': ['http://127.0.0.1:5000'] } })).toEqual([
      { url: 'http://127.0.0.1:5000', host: '127.0.0.1:5000', mirror: true },
      { url: 'https://registry-1.docker.io', host: 'registry-1.docker.io', mirror: false },
    ]);
  });
  it('loopback and listed insecure registries use plain HTTP; noUpstream drops the registry itself', () => {
    expect(planEndpoints('127.0.0.1:5000', empty)[0]!.url).toBe('http://127.0.0.1:5000');
    expect(planEndpoints('localhost:5000', empty)[0]!.url).toBe('http://localhost:5000');
    expect(planEndpoints('myreg:5000', { ...empty, insecure: ['myreg:5000'] })[0]!.url).toBe('http://myreg:5000');
    expect(planEndpoints('registry.k8s.io', empty)[0]!.url).toBe('https://registry.k8s.io');
    expect(planEndpoints('docker.io', { ...empty, noUpstream: ['docker.io'] })).toEqual([]);
  });
});

describe('credentials', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('finds auth entries by host, URL key, and Docker Hub aliases', () => {
    expect(findCredentials({ auths: { 'myreg:5000': { auth: b64('u:p:w') } } }, 'myreg:5000', 'f')).toEqual({ username: 'u', password: 'p:w' });
    expect(findCredentials({ auths: { 'https://index.docker.io/v1/': { auth: b64('a:b') } } }, 'docker.io', 'f')).toEqual({ username: 'a', password: 'b' });
    expect(findCredentials({ auths: { 'https://myreg:5000/v2/': { username: 'x', password: 'y' } } }, 'myreg:5000', 'f')).toEqual({ username: 'x', password: 'y' });
    expect(findCredentials({ auths: {} }, 'quay.io', 'f')).toBeUndefined();
    expect(() => findCredentials({ auths: { q: { auth: b64('nocolon') } } }, 'q', 'f')).toThrow('base64("user:password")');
  });
});

describe('WWW-Authenticate', () => {
  it('parses a bearer challenge and builds the token URL', () => {
    const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')!;
    expect(c.scheme).toBe('bearer');
    expect(c.params).toEqual({ realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' });
    expect(tokenUrl(c, 'library/nginx').toString()).toBe('https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull');
  });
  it('without a scope asks for pull on the repository', () => {
    const c = parseChallenge('Bearer realm="http://127.0.0.1:1/t",service="s"')!;
    expect(tokenUrl(c, 'a/b').searchParams.get('scope')).toBe('repository:a/b:pull');
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
  });
});

describe('platform selection', () => {
  const d = (architecture: string, variant?: string) => ({ digest: `sha256:${architecture}${variant ?? ''}`, platform: { os: 'linux', architecture, variant } });
  it('picks the host platform, exact variant first', () => {
    expect(selectPlatform([d('arm64', 'v8'), d('amd64')], { os: 'linux', architecture: 'amd64' }, 'x').digest).toBe('sha256:amd64');
    expect(selectPlatform([d('arm', 'v6'), d('arm', 'v7')], { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest).toBe('sha256:armv7');
    expect(selectPlatform([d('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').digest).toBe('sha256:arm64');
  });
  it('lists what the index has when nothing fits', () => {
    expect(() => selectPlatform([d('arm64', 'v8'), d('s390x')], { os: 'linux', architecture: 'amd64' }, 'docker.io/library/x:1')).toThrow(
      'docker.io/library/x:1: no image for linux/amd64 in its index (it has: linux/arm64/v8, linux/s390x)',
    );
  });
});

describe('layer media types', () => {
  it('knows gzip, zstd and plain tar layers of both formats', () => {
    expect(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar+gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd')).toBe('zstd');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(layerCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+foo')).toBeUndefined();
  });
});

describe('mapBounded', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 3, 2, 4], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(peak).toBe(2);
  });
});
