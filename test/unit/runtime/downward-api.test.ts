/**
 * The downward API's files as kubelet writes them (fieldpath.FormatMap with Go's %q, ExtractFieldPathAsString,
 * the resource values with their divisors), and how projected sources merge into one volume.
 */
import { describe, expect, it } from 'vitest';
import type { DownwardAPIVolumeSource, VolumeSpec } from '../../../src/manifest/types.js';
import { volumeFiles } from '../../../src/runtime/config-volumes.js';
import { downwardAPIFiles, formatMap, quoteGo, resolveDownwardAPI } from '../../../src/runtime/downward-api.js';
import type { EnvContext } from '../../../src/runtime/env.js';
import { container, envContext, podSpec } from './fixtures.js';

const ctx = (over: Partial<EnvContext> = {}): EnvContext =>
  envContext({ labels: { zone: 'us-est-coast', cluster: 'test-cluster1', rack: 'rack-22' }, annotations: { build: 'two', builder: 'john-doe' }, ...over });
const text = (data: string) => Buffer.from(data, 'base64').toString('utf8');

describe("quoteGo: Go's strconv.Quote (%q)", () => {
  it.each([
    ['plain text', 'two', '"two"'],
    ['empty', '', '""'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['named escapes', '\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['other control characters and DEL as \\x', '\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['printable non-ASCII as is (letters, marks, symbols)', 'é日本e\u0301€😀', '"é日本e\u0301€😀"'],
    ['spaces other than U+0020 escaped', 'a\u00a0b\u2028c', '"a\\u00a0b\\u2028c"'],
    ['format and private-use characters escaped', '\ufeff\ue000', '"\\ufeff\\ue000"'],
    ['beyond the BMP, not printable: \\U', '\u{10ffff}', '"\\U0010ffff"'],
    ['a lone surrogate is U+FFFD (what JSON decoding leaves), which prints', 'a\ud800b', '"a\ufffdb"'],
  ])('%s', (_name, input, expected) => {
    expect(quoteGo(input)).toBe(expected);
  });
});

describe('formatMap: kubelet\'s fieldpath.FormatMap', () => {
  it("gives the docs' output for their labels and annotations: sorted key=\"value\" lines, no final newline", () => {
    expect(formatMap(ctx().metadata.labels)).toBe('cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"');
    expect(formatMap(ctx().metadata.annotations)).toBe('build="two"\nbuilder="john-doe"');
  });
  it('quotes values (an annotation with JSON and a newline stays on one line) and is empty for no keys', () => {
    expect(formatMap({ 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}\n', 'a.b/c': '' })).toBe('a.b/c=""\nkubectl.kubernetes.io/last-applied-configuration="{\\"a\\":1}\\n"');
    expect(formatMap({})).toBe('');
  });
});

describe('downwardAPIFiles: one file per item', () => {
  it('pod fields: name, namespace, uid, all labels, all annotations, one label, a missing annotation (empty)', () => {
    const source: DownwardAPIVolumeSource = {
      defaultMode: 0o644,
      items: [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
        { path: 'uid', mode: 0o400, fieldRef: { fieldPath: 'metadata.uid' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        { path: './sub//zone', fieldRef: { fieldPath: "metadata.labels['zone']" } },
        { path: 'none', fieldRef: { fieldPath: "metadata.annotations['absent']" } },
      ],
    };
    const files = downwardAPIFiles(source, podSpec([container()]), ctx());
    expect(files.map((f) => [f.path, f.mode, text(f.data)])).toEqual([
      ['name', 0o644, 'web'],
      ['ns', 0o644, 'shop'],
      ['uid', 0o400, 'uid-1'],
      ['labels', 0o644, 'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"'],
      ['annotations', 0o644, 'build="two"\nbuilder="john-doe"'],
      ['sub/zone', 0o644, 'us-est-coast'],
      ['none', 0o644, ''],
    ]);
  });

  it("container resources: the docs' example (250m/125m in millicores, 64Mi/32Mi in Mi), an init container's, the node's for an unset limit", () => {
    const client = container({ name: 'client-container', resources: { limits: { cpu: 0.25, memory: 64 * 2 ** 20 }, requests: { cpu: 0.125, memory: 32 * 2 ** 20 } } });
    const init = container({ name: 'init', resources: { limits: {}, requests: { cpu: 0.5 } } });
    const ref = (path: string, containerName: string, resource: string, divisor: string) => ({ path, resourceFieldRef: { containerName, resource, divisor } });
    const source: DownwardAPIVolumeSource = {
      defaultMode: 0o644,
      items: [
        ref('cpu_limit', 'client-container', 'limits.cpu', '1m'),
        ref('cpu_request', 'client-container', 'requests.cpu', '1m'),
        ref('mem_limit', 'client-container', 'limits.memory', '1Mi'),
        ref('mem_request', 'client-container', 'requests.memory', '1Mi'),
        ref('cpu_limit_cores', 'client-container', 'limits.cpu', '1'),
        ref('init_request', 'init', 'requests.cpu', '1m'),
        ref('init_limit', 'init', 'limits.memory', '1Gi'),
      ],
    };
    const files = downwardAPIFiles(source, podSpec([client], { initContainers: [init] }), ctx());
    expect(Object.fromEntries(files.map((f) => [f.path, text(f.data)]))).toEqual({
      cpu_limit: '250',
      cpu_request: '125',
      mem_limit: '64',
      mem_request: '32',
      cpu_limit_cores: '1',
      init_request: '500',
      init_limit: '16',
    });
  });
});

describe('resolveDownwardAPI', () => {
  it('fills downwardAPI volumes and projected downwardAPI sources, and leaves the rest as they are', () => {
    const items = [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }];
    const volumes: VolumeSpec[] = [
      { name: 'd', downwardAPI: { defaultMode: 0o644, items } },
      { name: 'p', projected: { defaultMode: 0o600, sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }, { downwardAPI: { defaultMode: 0o600, items } }] } },
      { name: 'e', emptyDir: { medium: '' } },
    ];
    const pod = podSpec([container()], { volumes });
    const out = resolveDownwardAPI(pod, ctx());
    const ns = { path: 'namespace', data: Buffer.from('shop').toString('base64') };
    expect(out.volumes[0]).toEqual({ name: 'd', downwardAPI: { defaultMode: 0o644, items, files: [{ ...ns, mode: 0o644 }] } });
    expect(out.volumes[1]).toMatchObject({ projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { downwardAPI: { files: [{ ...ns, mode: 0o600 }] } }] } });
    expect(out.volumes[2]).toBe(volumes[2]);
    // The loaded manifest is not changed: spec.json gets the resolved copy.
    expect('files' in volumes[0]!.downwardAPI!).toBe(false);
  });
});

describe('volumeFiles: what the shim writes', () => {
  const file = (path: string, data: string) => ({ path, mode: 0o644, data: Buffer.from(data).toString('base64') });
  it('a projected volume: every source in order, a later source replacing an earlier one\'s path (kubelet\'s payload map)', () => {
    const volume: VolumeSpec = {
      name: 'p',
      projected: {
        defaultMode: 0o644,
        sources: [
          { configMap: { name: 'a', defaultMode: 0o644, optional: false, files: [file('x', 'from a'), file('y', 'y')] } },
          { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          { secret: { name: 's', defaultMode: 0o644, optional: false, files: [file('x', 'from s')] } },
          { downwardAPI: { defaultMode: 0o644, items: [], files: [file('ns', 'shop')] } },
        ],
      },
    };
    expect(volumeFiles(volume)).toEqual([file('x', 'from s'), file('y', 'y'), file('ns', 'shop')]);
  });
  it('refuses downward API files that podns run did not resolve, and has nothing for other volumes', () => {
    expect(() => volumeFiles({ name: 'd', downwardAPI: { defaultMode: 0o644, items: [] } })).toThrow('volume "d": the downward API files were not resolved (podns run resolves them)');
    expect(volumeFiles({ name: 'e', emptyDir: { medium: 'Memory' } })).toBeUndefined();
  });
});
