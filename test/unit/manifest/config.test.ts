import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';
import { pullSecretAuths } from '../../../src/manifest/config-refs.js';

const POD = (extra = '', ns = '') => `apiVersion: v1
kind: Pod
metadata:
  name: web${ns ? `\n  namespace: ${ns}` : ''}
spec:
  containers:
  - name: c
    image: busybox
${extra}`;

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

describe('ConfigMap and Secret documents', () => {
  it('are read beside the Pod, before or after it, by namespace/name', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
immutable: true
data:
  a.txt: hello
  k: v
binaryData:
  b.bin: AAEC/w==
---
${POD()}---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: other}
type: kubernetes.io/basic-auth
data:
  username: YWRtaW4=
stringData:
  password: hunter2
  username: root
`;
    const loaded = parseManifests('pod.yaml', text);
    expect(loaded.pods.map((p) => p.metadata.name)).toEqual(['web']);
    const cm = loaded.configMaps.get('default/cfg')!;
    expect(cm).toMatchObject({ kind: 'ConfigMap', name: 'cfg', namespace: 'default', immutable: true, line: 3 });
    expect(cm.data['a.txt']!.toString()).toBe('hello');
    expect([...cm.data['b.bin']!]).toEqual([0, 1, 2, 255]);
    const s = loaded.secrets.get('other/s')!;
    expect(s.type).toBe('kubernetes.io/basic-auth');
    // stringData is merged over data, as the API server does.
    expect(s.data.username!.toString()).toBe('root');
    expect(s.data.password!.toString()).toBe('hunter2');
  });

  it.each([
    ['a bad data key', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  "a b": x\n', "pod.yaml:5: data[a b]: invalid value \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (regex used for validation is '[-._a-zA-Z0-9]+')"],
    ['a key of ".."', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  "..": x\n', "pod.yaml:5: data[..]: invalid value \"..\": must not be '..'"],
    ['a key starting with ".."', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  "..a": x\n', "pod.yaml:5: data[..a]: invalid value \"..a\": must not start with '..'"],
    ['a key longer than 253', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  ${'k'.repeat(254)}: x\n`, `pod.yaml:5: data[${'k'.repeat(254)}]: invalid value "${'k'.repeat(254)}": must be no more than 253 characters`],
    ['a key in data and binaryData', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: x}\nbinaryData:\n  k: eA==\n', 'pod.yaml:6: binaryData[k]: invalid value "k": duplicate of key present in data'],
    ['bad base64 in binaryData', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData:\n  k: "ab!c"\n', 'pod.yaml:5: binaryData[k]: illegal base64 data at input byte 2'],
    ['unpadded base64 in a Secret', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: YWJj\n  j: YQ\n', 'pod.yaml:6: data[j]: illegal base64 data at input byte 0'],
    ['a bad name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Cfg}\n', "pod.yaml:3: metadata.name: invalid value \"Cfg\": must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.', starting and ending with a letter or digit)"],
    ['an unknown field', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndat: {}\n', 'pod.yaml:4: unknown field "dat" (did you mean "data"?)'],
    ['a value that is not a string', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  port: 80\n', 'pod.yaml:5: data[port]: must be a string, got number 80 (quote it: "80")'],
    ['a Secret type without its keys', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata: {tls.crt: eA==}\n', 'pod.yaml:4: data[tls.key]: required value (type kubernetes.io/tls)'],
    ['a wrong apiVersion', 'apiVersion: v2\nkind: Secret\nmetadata: {name: s}\n', 'pod.yaml:1: apiVersion: must be "v1" for a Secret, got "v2"'],
    ['a duplicate', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', 'pod.yaml:7: metadata.name: duplicate configmap "default/c" (first at line 3)'],
  ])('rejects %s with file:line', (_name, doc, expected) => {
    expect(errorOf(`${doc}---\n${POD()}`)).toBe(expected);
  });

  it('a file with only ConfigMaps says so', () => {
    expect(errorOf('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n')).toBe('pod.yaml: no Pod found (the file has only ConfigMaps and Secrets)');
  });
});

const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1", b: "2"}\n---\n';
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: sec}\ndata: {token: c2VjcmV0}\n---\n';

describe('references from the Pod', () => {
  it.each([
    ['a missing configmap (configMapKeyRef)', `${POD('    env:\n    - name: A\n      valueFrom:\n        configMapKeyRef: {name: x, key: a}\n')}`, 'pod.yaml:12: spec.containers[0].env[0].valueFrom.configMapKeyRef.name: configmap "x" not found'],
    ['a missing key', `${CM}${POD('    env:\n    - name: A\n      valueFrom:\n        configMapKeyRef: {name: cfg, key: zz}\n')}`, "pod.yaml:17: spec.containers[0].env[0].valueFrom.configMapKeyRef.key: couldn't find key zz in ConfigMap default/cfg"],
    ['a missing secret (secretKeyRef)', `${POD('    env:\n    - name: A\n      valueFrom:\n        secretKeyRef:\n          name: x\n          key: a\n')}`, 'pod.yaml:13: spec.containers[0].env[0].valueFrom.secretKeyRef.name: secret "x" not found'],
    ['a configmap of another namespace', `${CM}${POD('    envFrom:\n    - configMapRef: {name: cfg}\n', 'shop')}`, 'pod.yaml:16: spec.containers[0].envFrom[0].configMapRef.name: configmap "cfg" not found'],
    ['a missing configMap volume', `${POD('  volumes:\n  - name: v\n    configMap: {name: nope}\n')}`, 'pod.yaml:11: spec.volumes[0].configMap.name: configmap "nope" not found'],
    ['a missing secret volume', `${POD('  volumes:\n  - name: v\n    secret:\n      secretName: nope\n')}`, 'pod.yaml:12: spec.volumes[0].secret.secretName: secret "nope" not found'],
    ['a missing item key', `${CM}${POD('  volumes:\n  - name: v\n    configMap:\n      name: cfg\n      items:\n      - {key: zz, path: z}\n')}`, 'pod.yaml:19: spec.volumes[0].configMap.items[0].key: configmap references non-existent config key: zz'],
    ['an item path with ..', `${CM}${POD('  volumes:\n  - name: v\n    configMap:\n      name: cfg\n      items:\n      - {key: a, path: ../a}\n')}`, 'pod.yaml:19: spec.volumes[0].configMap.items[0].path: invalid value "../a": must not contain \'..\''],
    ['a mode above 0777', `${CM}${POD('  volumes:\n  - name: v\n    configMap: {name: cfg, defaultMode: 1024}\n')}`, 'pod.yaml:16: spec.volumes[0].configMap.defaultMode: invalid value 1024: must be a number between 0 and 0777 (octal), both inclusive'],
    ['value with valueFrom', `${POD('    env:\n    - name: A\n      value: x\n      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n')}`, 'pod.yaml:12: spec.containers[0].env[0].valueFrom: may not be specified when `value` is not empty'],
    ['two sources', `${POD('    env:\n    - name: A\n      valueFrom: {fieldRef: {fieldPath: metadata.name}, resourceFieldRef: {resource: limits.cpu}}\n')}`, 'pod.yaml:11: spec.containers[0].env[0].valueFrom: may not have more than one field specified at a time'],
    ['an unsupported fieldPath', `${POD('    env:\n    - name: A\n      valueFrom: {fieldRef: {fieldPath: spec.hostname}}\n')}`, 'pod.yaml:11: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: unsupported value "spec.hostname": must be one of "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels[\'<KEY>\']", "metadata.annotations[\'<KEY>\']", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'],
    ['a bad divisor', `${POD('    env:\n    - name: A\n      valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1Mi}}\n')}`, 'pod.yaml:11: spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: invalid value "1Mi": only divisor\'s values 1m, 1 are supported with the cpu resource'],
    ['an unknown resource', `${POD('    env:\n    - name: A\n      valueFrom: {resourceFieldRef: {resource: limits.ephemeral-storage}}\n')}`, 'pod.yaml:11: spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: unsupported value "limits.ephemeral-storage": must be one of "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"'],
    ['an unknown containerName', `${POD('    env:\n    - name: A\n      valueFrom: {resourceFieldRef: {resource: limits.cpu, containerName: zz}}\n')}`, 'pod.yaml:11: spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: not found: no container named "zz" in the pod'],
    ['envFrom with both refs', `${CM}${SECRET}${POD('    envFrom:\n    - {configMapRef: {name: cfg}, secretRef: {name: sec}}\n')}`, 'pod.yaml:20: spec.containers[0].envFrom[0]: may not have more than one field specified at a time'],
  ])('rejects %s', (_name, text, expected) => {
    expect(errorOf(text)).toBe(expected);
  });

  it('optional references to missing objects and keys are fine', () => {
    const text = `${CM}${POD(`    env:
    - name: A
      valueFrom: {configMapKeyRef: {name: nope, key: a, optional: true}}
    - name: B
      valueFrom: {configMapKeyRef: {name: cfg, key: nope, optional: true}}
    envFrom:
    - secretRef: {name: nope, optional: true}
  volumes:
  - name: v
    secret: {secretName: nope, optional: true}
  - name: w
    configMap:
      name: cfg
      optional: true
      items: [{key: nope, path: x}, {key: a, path: sub/a, mode: 0400}]
`)}`;
    const pod = parseManifests('pod.yaml', text).pods[0]!;
    expect(pod.spec.volumes[0]).toEqual({ name: 'v', secret: { name: 'nope', defaultMode: 0o644, optional: true, files: [] } });
    expect(pod.spec.volumes[1]).toMatchObject({ configMap: { files: [{ path: 'sub/a', mode: 0o400, data: Buffer.from('1').toString('base64') }] } });
  });

  it('a volume without items holds every key, with defaultMode', () => {
    const pod = parseManifests('pod.yaml', `${SECRET}${POD('  volumes:\n  - name: v\n    secret: {secretName: sec, defaultMode: 0440}\n')}`).pods[0]!;
    expect(pod.spec.volumes[0]).toMatchObject({ secret: { files: [{ path: 'token', mode: 0o440, data: 'c2VjcmV0' }] } });
  });

  it('modes written 0644 are octal, as the API server (YAML 1.1) reads them', () => {
    const pod = parseManifests('pod.yaml', `${CM}${POD('  volumes:\n  - name: v\n    configMap:\n      name: cfg\n      defaultMode: 0644\n      items: [{key: a, path: a, mode: 0400}, {key: b, path: b, mode: 288}]\n')}`).pods[0]!;
    expect(pod.spec.volumes[0]).toMatchObject({ configMap: { defaultMode: 0o644, files: [{ mode: 0o400 }, { mode: 0o440 }] } });
  });

  it('envFrom, valueFrom and serviceAccountName are carried into the manifest', () => {
    const pod = parseManifests('pod.yaml', `${CM}${POD(`    envFrom:
    - {prefix: CM_, configMapRef: {name: cfg}}
    env:
    - name: N
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
    - name: M
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
  serviceAccountName: robot
`)}`).pods[0]!;
    const c = pod.spec.containers[0]!;
    expect(c.envFrom).toEqual([{ prefix: 'CM_', configMapRef: { name: 'cfg', optional: false } }]);
    expect(c.env).toEqual([
      { name: 'N', value: '', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'M', value: '', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
    ]);
    expect(pod.spec.serviceAccountName).toBe('robot');
  });
});

describe('imagePullSecrets', () => {
  const file = (secret: string) => `${secret}---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  imagePullSecrets: [{name: regcred}]
  containers: [{name: c, image: busybox}]
`;
  const dockerconfig = (json: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: regcred}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '${json}'\n`;

  it("gives the secret's docker config to the pulls, a legacy .dockercfg as its auths", () => {
    const loaded = parseManifests('pod.yaml', file(dockerconfig('{"auths":{"reg.example":{"auth":"dTpw"}}}')));
    expect(loaded.warnings).toEqual([]);
    expect(pullSecretAuths(loaded.pods[0]!, loaded)).toEqual([{ auths: { 'reg.example': { auth: 'dTpw' } } }]);
    const legacy = parseManifests('pod.yaml', file(`apiVersion: v1\nkind: Secret\nmetadata: {name: regcred}\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{"reg.example":{"auth":"dTpw"}}'\n`));
    expect(pullSecretAuths(legacy.pods[0]!, legacy)).toEqual([{ auths: { 'reg.example': { auth: 'dTpw' } } }]);
  });

  it('warns about a missing secret or one without credentials, as kubelet does, and refuses a config that is not JSON', () => {
    const missing = parseManifests('pod.yaml', file(''));
    expect(missing.warnings).toEqual(['pod.yaml:6: spec.imagePullSecrets[0].name: secret "regcred" not found: unable to retrieve some image pull secrets; attempting to pull the image may not succeed']);
    expect(pullSecretAuths(missing.pods[0]!, missing)).toEqual([]);
    const opaque = parseManifests('pod.yaml', file('apiVersion: v1\nkind: Secret\nmetadata: {name: regcred}\nstringData: {a: b}\n'));
    expect(opaque.warnings[0]).toMatch(/secret "regcred" is of type "Opaque", not kubernetes\.io\/dockerconfigjson/);
    expect(() => parseManifests('pod.yaml', file(dockerconfig('{not json')))).toThrow(/pod\.yaml:6: data\[\.dockerconfigjson\]: invalid value "<secret contents redacted>": /);
  });
});
