/**
 * downwardAPI and projected volumes and subPathExpr as the loader reads them: the API server's validation
 * (validateDownwardAPIVolumeFile, validateProjectionSources, validateVolumeMounts) with file:line messages, the
 * ConfigMap and Secret sources resolved into files, and the manifest `kubectl get pod -o yaml` exports (kubelet's
 * kube-api-access-* volume) loading with warnings.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';

const POD = (extra: string, containers = '') => `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: c
    image: busybox
${containers}${extra}`;

function errorOf(text: string): string {
  try {
    parseManifests('pod.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a ManifestError');
}

/** The two examples of kubernetes.io/docs/tasks/inject-data-application/downward-api-volume-expose-pod-information. */
const DOCS_LABELS = `apiVersion: v1
kind: Pod
metadata:
  name: kubernetes-downwardapi-volume-example
  labels:
    zone: us-est-coast
    cluster: test-cluster1
    rack: rack-22
  annotations:
    build: two
    builder: john-doe
spec:
  containers:
    - name: client-container
      image: registry.k8s.io/busybox:1.27.2
      command: ["sh", "-c"]
      args: ["sleep 3600"]
      volumeMounts:
        - name: podinfo
          mountPath: /etc/podinfo
  volumes:
    - name: podinfo
      downwardAPI:
        items:
          - path: "labels"
            fieldRef:
              fieldPath: metadata.labels
          - path: "annotations"
            fieldRef:
              fieldPath: metadata.annotations
`;

const DOCS_RESOURCES = `apiVersion: v1
kind: Pod
metadata:
  name: kubernetes-downwardapi-volume-example-2
spec:
  containers:
    - name: client-container
      image: registry.k8s.io/busybox:1.27.2
      command: ["sh", "-c"]
      args: ["sleep 3600"]
      resources:
        requests:
          memory: "32Mi"
          cpu: "125m"
        limits:
          memory: "64Mi"
          cpu: "250m"
      volumeMounts:
        - name: podinfo
          mountPath: /etc/podinfo
  volumes:
    - name: podinfo
      downwardAPI:
        items:
          - path: "cpu_limit"
            resourceFieldRef:
              containerName: client-container
              resource: limits.cpu
              divisor: 1m
          - path: "cpu_request"
            resourceFieldRef:
              containerName: client-container
              resource: requests.cpu
              divisor: 1m
          - path: "mem_limit"
            resourceFieldRef:
              containerName: client-container
              resource: limits.memory
              divisor: 1Mi
          - path: "mem_request"
            resourceFieldRef:
              containerName: client-container
              resource: requests.memory
              divisor: 1Mi
`;

describe('downwardAPI volumes', () => {
  it("reads the docs' labels/annotations example: items, defaultMode 0644, no files until podns run resolves them", () => {
    const { pods, warnings } = parseManifests('pod.yaml', DOCS_LABELS);
    expect(warnings).toEqual([]);
    expect(pods[0]!.spec.volumes[0]).toEqual({
      name: 'podinfo',
      downwardAPI: {
        defaultMode: 0o644,
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        ],
      },
    });
  });

  it("reads the docs' container-resources example, divisors kept", () => {
    const items = (parseManifests('pod.yaml', DOCS_RESOURCES).pods[0]!.spec.volumes[0] as { downwardAPI: { items: unknown[] } }).downwardAPI.items;
    expect(items).toEqual([
      { path: 'cpu_limit', resourceFieldRef: { containerName: 'client-container', resource: 'limits.cpu', divisor: '1m' } },
      { path: 'cpu_request', resourceFieldRef: { containerName: 'client-container', resource: 'requests.cpu', divisor: '1m' } },
      { path: 'mem_limit', resourceFieldRef: { containerName: 'client-container', resource: 'limits.memory', divisor: '1Mi' } },
      { path: 'mem_request', resourceFieldRef: { containerName: 'client-container', resource: 'requests.memory', divisor: '1Mi' } },
    ]);
  });

  it("takes a subscripted label or annotation, a file's mode, and defaultMode written in octal", () => {
    const v = parseManifests('pod.yaml', POD(`  volumes:
  - name: v
    downwardAPI:
      defaultMode: 0400
      items:
      - {path: app, fieldRef: {fieldPath: "metadata.labels['app']"}, mode: 0440}
      - {path: sub/uid, fieldRef: {apiVersion: v1, fieldPath: metadata.uid}}
`)).pods[0]!.spec.volumes[0];
    expect(v).toEqual({
      name: 'v',
      downwardAPI: {
        defaultMode: 0o400,
        items: [
          { path: 'app', mode: 0o440, fieldRef: { fieldPath: "metadata.labels['app']" } },
          { path: 'sub/uid', fieldRef: { fieldPath: 'metadata.uid' } },
        ],
      },
    });
  });

  const vol = (item: string) => POD(`  volumes:\n  - name: v\n    downwardAPI:\n      items:\n      - ${item}\n`);
  it.each([
    [
      'status.podIP (env only: validVolumeDownwardAPIFieldPathExpressions)',
      vol('{path: ip, fieldRef: {fieldPath: status.podIP}}'),
      'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: unsupported value "status.podIP": must be one of "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"',
    ],
    ['spec.nodeName', vol('{path: n, fieldRef: {fieldPath: spec.nodeName}}'), /fieldRef\.fieldPath: unsupported value "spec\.nodeName": must be one of/],
    ['a label key that is not a qualified name', vol(`{path: l, fieldRef: {fieldPath: "metadata.labels['a b']"}}`), /items\[0\]\.fieldRef\.fieldPath: invalid value "a b": /],
    ['an apiVersion other than v1', vol('{path: n, fieldRef: {apiVersion: v2, fieldPath: metadata.name}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].fieldRef.apiVersion: unsupported value "v2": must be "v1"'],
    ['resourceFieldRef without containerName', vol('{path: cpu, resourceFieldRef: {resource: limits.cpu}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: required value'],
    ['a container the pod does not have', vol('{path: cpu, resourceFieldRef: {containerName: side, resource: limits.cpu}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: not found: no container named "side" in the pod'],
    ['a bad divisor', vol('{path: cpu, resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1Mi}}'), `pod.yaml:12: spec.volumes[0].downwardAPI.items[0].resourceFieldRef.divisor: invalid value "1Mi": only divisor's values 1m, 1 are supported with the cpu resource`],
    ['fieldRef and resourceFieldRef', vol('{path: x, fieldRef: {fieldPath: metadata.name}, resourceFieldRef: {containerName: c, resource: limits.cpu}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0]: fieldRef and resourceFieldRef can not be specified simultaneously'],
    ['neither', vol('{path: x}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0]: required value: one of fieldRef and resourceFieldRef is required'],
    ['an absolute path', vol('{path: /etc/x, fieldRef: {fieldPath: metadata.name}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].path: invalid value "/etc/x": must be a relative path'],
    ['a path with ..', vol('{path: a/../../x, fieldRef: {fieldPath: metadata.name}}'), `pod.yaml:12: spec.volumes[0].downwardAPI.items[0].path: invalid value "a/../../x": must not contain '..'`],
    ['a path starting with .. (the AtomicWriter\'s)', vol('{path: ..data, fieldRef: {fieldPath: metadata.name}}'), `pod.yaml:12: spec.volumes[0].downwardAPI.items[0].path: invalid value "..data": must not start with '..'`],
    ['an empty path', vol('{path: "", fieldRef: {fieldPath: metadata.name}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].path: required value'],
    ['a mode above 0777', vol('{path: n, mode: 01000, fieldRef: {fieldPath: metadata.name}}'), 'pod.yaml:12: spec.volumes[0].downwardAPI.items[0].mode: invalid value 512: must be a number between 0 and 0777 (octal), both inclusive'],
    [
      'the same path twice',
      POD('  volumes:\n  - name: v\n    downwardAPI:\n      items:\n      - {path: n, fieldRef: {fieldPath: metadata.name}}\n      - {path: ./n, fieldRef: {fieldPath: metadata.uid}}\n'),
      'pod.yaml:13: spec.volumes[0].downwardAPI.items[1].path: duplicate path "n" (first at line 12)',
    ],
  ])('refuses %s', (_name, text, expected) => {
    if (typeof expected === 'string') expect(errorOf(text)).toBe(expected);
    else expect(errorOf(text)).toMatch(expected);
  });

  it('finds a resourceFieldRef container among the init containers too (kubelet findContainerInPod)', () => {
    const text = POD('  initContainers:\n  - {name: init, image: busybox}\n  volumes:\n  - name: v\n    downwardAPI:\n      items:\n      - {path: cpu, resourceFieldRef: {containerName: init, resource: requests.cpu}}\n');
    expect(parseManifests('pod.yaml', text).pods[0]!.spec.volumes[0]).toMatchObject({ downwardAPI: { items: [{ resourceFieldRef: { containerName: 'init' } }] } });
  });
});

const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1", b: "2"}\n---\n';
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: sec}\ndata: {token: c2VjcmV0}\n---\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('projected volumes', () => {
  it('resolves configMap and secret sources into files, with the projected defaultMode unless an item has a mode', () => {
    const { pods, warnings } = parseManifests('pod.yaml', `${CM}${SECRET}${POD(`  volumes:
  - name: all
    projected:
      defaultMode: 0440
      sources:
      - configMap:
          name: cfg
          items: [{key: a, path: conf/a, mode: 0400}, {key: b, path: b}]
      - secret: {name: sec}
      - downwardAPI:
          items: [{path: name, fieldRef: {fieldPath: metadata.name}}]
      - secret: {name: absent, optional: true}
`)}`);
    expect(warnings).toEqual([]);
    expect(pods[0]!.spec.volumes[0]).toEqual({
      name: 'all',
      projected: {
        defaultMode: 0o440,
        sources: [
          {
            configMap: {
              name: 'cfg',
              defaultMode: 0o440,
              optional: false,
              items: [{ key: 'a', path: 'conf/a', mode: 0o400 }, { key: 'b', path: 'b' }],
              files: [
                { path: 'conf/a', mode: 0o400, data: b64('1') },
                { path: 'b', mode: 0o440, data: b64('2') },
              ],
            },
          },
          { secret: { name: 'sec', defaultMode: 0o440, optional: false, files: [{ path: 'token', mode: 0o440, data: b64('secret') }] } },
          { downwardAPI: { defaultMode: 0o440, items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
          { secret: { name: 'absent', defaultMode: 0o440, optional: true, files: [] } },
        ],
      },
    });
  });

  it('an empty projected volume (no sources) is fine, as for the API server', () => {
    expect(parseManifests('pod.yaml', POD('  volumes:\n  - name: v\n    projected: {sources: []}\n')).pods[0]!.spec.volumes[0]).toEqual({ name: 'v', projected: { defaultMode: 0o644, sources: [] } });
  });

  const proj = (sources: string) => POD(`  volumes:\n  - name: v\n    projected:\n      sources:\n${sources}`);
  it.each([
    ['two kinds in one source', proj('      - configMap: {name: cfg}\n        downwardAPI: {items: []}\n'), 'pod.yaml:13: spec.volumes[0].projected.sources[0]: may not specify more than 1 volume type per source'],
    [
      'a path in two sources',
      `${CM}${proj('      - configMap: {name: cfg, items: [{key: a, path: x}]}\n      - downwardAPI: {items: [{path: x, fieldRef: {fieldPath: metadata.name}}]}\n')}`,
      'pod.yaml:18: spec.volumes[0].projected.sources[1].downwardAPI.items[0].path: duplicate path "x" (first at line 17)',
    ],
    ['a missing ConfigMap', proj('      - configMap: {name: nope}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].configMap.name: configmap "nope" not found'],
    ['a missing Secret', proj('      - secret: {name: nope}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].secret.name: secret "nope" not found'],
    ['secretName (a SecretVolumeSource field) in a SecretProjection', proj('      - secret: {secretName: s}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].secret: unknown field "secretName"'],
    ['a missing key', `${CM}${proj('      - configMap: {name: cfg, items: [{key: zz, path: z}]}\n')}`, 'pod.yaml:17: spec.volumes[0].projected.sources[0].configMap.items[0].key: configmap references non-existent config key: zz'],
    ['a token that expires in under 10 minutes', proj('      - serviceAccountToken: {path: token, expirationSeconds: 599}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: invalid value 599: may not specify a duration less than 10 minutes'],
    ['a token that expires after 2^32 s', proj('      - serviceAccountToken: {path: token, expirationSeconds: 4294967297}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: invalid value 4294967297: may not specify a duration larger than 2^32 seconds'],
    ['a token without a path', proj('      - serviceAccountToken: {expirationSeconds: 3600}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].serviceAccountToken.path: required value'],
    ['a token at an absolute path', proj('      - serviceAccountToken: {path: /token}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].serviceAccountToken.path: invalid value "/token": must be a relative path'],
    ['a podCertificate source', proj('      - podCertificate: {signerName: a/b, keyType: ED25519}\n'), 'pod.yaml:12: spec.volumes[0].projected.sources[0].podCertificate: pod certificates are issued through an API server, which podns does not have'],
    ['a defaultMode above 0777', POD('  volumes:\n  - name: v\n    projected: {defaultMode: 1000, sources: []}\n'), 'pod.yaml:10: spec.volumes[0].projected.defaultMode: invalid value 1000: must be a number between 0 and 0777 (octal), both inclusive'],
  ])('refuses %s', (_name, text, expected) => {
    expect(errorOf(text)).toBe(expected);
  });

  it('a serviceAccountToken source is validated and kept, writes no file, and is a file:line warning', () => {
    const { pods, warnings } = parseManifests('pod.yaml', proj('      - serviceAccountToken: {path: token, audience: vault}\n'));
    expect(pods[0]!.spec.volumes[0]).toEqual({ name: 'v', projected: { defaultMode: 0o644, sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600, audience: 'vault' } }] } });
    expect(warnings).toEqual(['pod.yaml:12: spec.volumes[0].projected.sources[0].serviceAccountToken: ignored: there is no API server to issue a service account token; no file "token" is written']);
  });

  it('a missing kube-root-ca.crt is optional with a warning, in a projected source and in a configMap volume', () => {
    const { pods, warnings } = parseManifests(
      'pod.yaml',
      POD(`  volumes:
  - name: v
    projected:
      sources:
      - configMap:
          name: kube-root-ca.crt
          items: [{key: ca.crt, path: ca.crt}]
  - name: w
    configMap: {name: kube-root-ca.crt}
`),
    );
    expect(pods[0]!.spec.volumes.map((v) => ('projected' in v ? (v.projected.sources[0] as { configMap: { files: unknown[] } }).configMap.files : 'configMap' in v ? v.configMap.files : undefined))).toEqual([[], []]);
    expect(warnings).toEqual([
      'pod.yaml:13: spec.volumes[0].projected.sources[0].configMap.name: configmap "kube-root-ca.crt" not found: treated as optional (kube-controller-manager publishes it in every namespace of a cluster; podns has no cluster CA), so no "ca.crt" is written',
      'pod.yaml:16: spec.volumes[1].configMap.name: configmap "kube-root-ca.crt" not found: treated as optional (kube-controller-manager publishes it in every namespace of a cluster; podns has no cluster CA), so it adds no files',
    ]);
  });

  it('a kube-root-ca.crt ConfigMap in the file is used as any other, without a warning', () => {
    const ca = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt}\ndata: {ca.crt: PEM}\n---\n';
    const { pods, warnings } = parseManifests('pod.yaml', `${ca}${proj('      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}\n')}`);
    expect(warnings).toEqual([]);
    expect(pods[0]!.spec.volumes[0]).toMatchObject({ projected: { sources: [{ configMap: { files: [{ path: 'ca.crt', mode: 0o644, data: b64('PEM') }] } }] } });
  });

  it('only that name: any other missing ConfigMap still fails', () => {
    expect(errorOf(proj('      - configMap: {name: kube-root-ca}\n'))).toBe('pod.yaml:12: spec.volumes[0].projected.sources[0].configMap.name: configmap "kube-root-ca" not found');
  });
});

describe('a manifest exported with kubectl get pod -o yaml (kubelet\'s kube-api-access-* volume)', () => {
  const file = fileURLToPath(new URL('./fixtures/exported-kube-api-access.yaml', import.meta.url));
  const loaded = parseManifests('exported.yaml', readFileSync(file, 'utf8'));

  it('loads: the token and the cluster CA are warnings, the namespace file stays', () => {
    const pod = loaded.pods[0]!;
    expect(pod.metadata).toMatchObject({ name: 'web-7d4b9c8f6d-x2x9p', namespace: 'default', uid: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d' });
    expect(pod.spec.containers[0]!.volumeMounts).toEqual([{ name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]);
    expect(pod.spec.volumes).toEqual([
      {
        name: 'kube-api-access-abcde',
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', defaultMode: 0o644, optional: false, items: [{ key: 'ca.crt', path: 'ca.crt' }], files: [] } },
            { downwardAPI: { defaultMode: 0o644, items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ]);
  });

  it('warns with file:line for the token and the CA, besides the fields of an exported object', () => {
    expect(loaded.warnings).toContain('exported.yaml:65: spec.volumes[0].projected.sources[0].serviceAccountToken: ignored: there is no API server to issue a service account token; no file "token" is written');
    expect(loaded.warnings).toContain(
      'exported.yaml:72: spec.volumes[0].projected.sources[1].configMap.name: configmap "kube-root-ca.crt" not found: treated as optional (kube-controller-manager publishes it in every namespace of a cluster; podns has no cluster CA), so no "ca.crt" is written',
    );
    expect(loaded.warnings.every((w) => /^exported\.yaml:\d+: /.test(w) && !w.includes('\n'))).toBe(true);
  });
});

describe('subPathExpr', () => {
  const mount = (m: string) => POD('  volumes:\n  - {name: v, emptyDir: {}}\n', `    volumeMounts:\n    - ${m}\n`);
  it('is kept as written for podns run to expand', () => {
    expect(parseManifests('pod.yaml', mount('{name: v, mountPath: /logs, subPathExpr: "$(POD_NAME)/logs"}')).pods[0]!.spec.containers[0]!.volumeMounts).toEqual([
      { name: 'v', mountPath: '/logs', readOnly: false, subPathExpr: '$(POD_NAME)/logs' },
    ]);
  });
  it('an empty subPathExpr is unset', () => {
    expect(parseManifests('pod.yaml', mount('{name: v, mountPath: /logs, subPathExpr: ""}')).pods[0]!.spec.containers[0]!.volumeMounts[0]).toEqual({ name: 'v', mountPath: '/logs', readOnly: false });
  });
  it.each([
    ['with subPath', '{name: v, mountPath: /l, subPath: a, subPathExpr: "$(A)"}', 'pod.yaml:9: spec.containers[0].volumeMounts[0].subPathExpr: invalid value "$(A)": subPathExpr and subPath are mutually exclusive'],
    ['absolute', '{name: v, mountPath: /l, subPathExpr: "/$(A)"}', 'pod.yaml:9: spec.containers[0].volumeMounts[0].subPathExpr: invalid value "/$(A)": must be a relative path'],
    ['with ..', '{name: v, mountPath: /l, subPathExpr: "$(A)/../x"}', `pod.yaml:9: spec.containers[0].volumeMounts[0].subPathExpr: invalid value "$(A)/../x": must not contain '..'`],
  ])('refuses one %s', (_name, m, expected) => {
    expect(errorOf(mount(m))).toBe(expected);
  });
});
