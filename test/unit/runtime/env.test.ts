import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../src/image/types.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';
import { planProcess } from '../../../src/runtime/container-plan.js';
import { expandVars, kubeletEnvEntries, materialiseEnv, nodeAddresses, resolveEnv, resourceValue, type EnvContext } from '../../../src/runtime/env.js';
import { container, envContext, podSpec } from './fixtures.js';

/** MappingFuncFor(context): a name not in the map is left as $(NAME). */
const lookupIn = (vars: Record<string, string>) => (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined);

describe('expandVars: the table of k8s.io/kubernetes third_party/forked/golang/expansion expand_test.go', () => {
  const context = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  it.each([
    ['whole string', '$(VAR_A)', 'A'],
    ['repeat', '$(VAR_A)-$(VAR_A)', 'A-A'],
    ['beginning', '$(VAR_A)-1', 'A-1'],
    ['middle', '___$(VAR_B)___', '___B___'],
    ['end', '___$(VAR_C)', '___C'],
    ['compound', '$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['escape & expand', '$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['compound escape', '$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['mixed in escapes', 'f000-$$VAR_A', 'f000-$VAR_A'],
    ['backslash escape ignored', 'foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['backslash escape ignored (two)', 'foo\\\\$(VAR_C)bar', 'foo\\\\Cbar'],
    ['lots of backslashes', 'foo\\\\\\\\$(VAR_A)bar', 'foo\\\\\\\\Abar'],
    ['nested var references', '$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['nested var references second type', '$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['value is a reference', '$(VAR_REF)', '$(VAR_A)'],
    ['value is a reference x 2', '%%$(VAR_REF)--$(VAR_REF)%%', '%%$(VAR_A)--$(VAR_A)%%'],
    ['empty var', 'foo$(VAR_EMPTY)bar', 'foobar'],
    ['unterminated expression', 'foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['expression without operator', 'f00__(VAR_A)__', 'f00__(VAR_A)__'],
    ['shell special vars pass through', '$?_boo_$!', '$?_boo_$!'],
    ['bare operators are ignored', '$VAR_A', '$VAR_A'],
    ['undefined vars are passed through', '$(VAR_DNE)', '$(VAR_DNE)'],
    ['multiple (even) operators, var undefined', '$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['multiple (even) operators, var defined', '$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['multiple (odd) operators, var undefined', '$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['multiple (odd) operators, var defined', '$$$$$$$(VAR_A)', '$$$A'],
    ['missing open expression', '$VAR_A)', '$VAR_A)'],
    ['shell syntax ignored', '${VAR_A}', '${VAR_A}'],
    ['trailing incomplete expression not consumed', '$(VAR_B)_______$(A', 'B_______$(A'],
    ['trailing incomplete expression, no content, is not consumed', '$(VAR_C)_______$(', 'C_______$('],
    ['operator at end of input string is preserved', '$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['shell escaped incomplete expr', 'foo-\\$(VAR_A', 'foo-\\$(VAR_A'],
    ['lots of $( in middle', '--$($($($($--', '--$($($($($--'],
    ['lots of $( in beginning', '$($($($($--foo$(', '$($($($($--foo$('],
    ['lots of $( at end', 'foo0--$($($($(', 'foo0--$($($($('],
    ['escaped operators in variable names are not escaped', '$(foo$$var)', '$(foo$$var)'],
    ['newline not expanded', '\n', '\n'],
  ])('%s', (_name, input, expected) => {
    expect(expandVars(input, lookupIn(context))).toBe(expected);
  });

  it('TestMapReference: each env value sees the ones declared before it', () => {
    const pod = podSpec([container({ env: [{ name: 'FOO', value: 'bar' }, { name: 'ZOO', value: '$(FOO)-1' }, { name: 'BLU', value: '$(ZOO)-2' }] })]);
    const spec = planProcess(pod, pod.containers[0]!, image({}), 'h', ID, ctx());
    expect(spec.env).toEqual(expect.arrayContaining(['FOO=bar', 'ZOO=bar-1', 'BLU=bar-1-2']));
  });
});

function image(config: ImageRecord['config']): ImageRecord {
  return { name: 'x', id: 'sha256:x', layers: [], config: { Cmd: ['/bin/true'], ...config }, created: '', size: 0 };
}
const ID = { pod: 'p_default(u)', container: 'c' };
const ctx = (over: Partial<EnvContext> = {}): EnvContext => envContext({ labels: { app: 'web', 'a.b/c': 'x' }, annotations: { note: 'hi' }, ...over });

describe('fieldRef', () => {
  const env = (fieldPath: string, pod = podSpec([])) => {
    const c = container({ env: [{ name: 'V', value: '', valueFrom: { fieldRef: { fieldPath } } }] });
    pod.containers = [c];
    return kubeletEnvEntries(pod, c, ctx())[0];
  };
  it.each([
    ['metadata.name', 'web'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'uid-1'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['a.b/c']", 'x'],
    ["metadata.labels['missing']", ''],
    ["metadata.annotations['note']", 'hi'],
    ['spec.nodeName', 'node-1'],
    ['spec.serviceAccountName', 'default'],
    ['status.hostIP', '192.0.2.10'],
    ['status.hostIPs', '192.0.2.10'],
  ])('%s → %j', (fieldPath, value) => {
    expect(env(fieldPath)).toEqual({ name: 'V', value });
  });
  it('spec.serviceAccountName as written', () => {
    expect(env('spec.serviceAccountName', podSpec([], { serviceAccountName: 'robot' }))).toEqual({ name: 'V', value: 'robot' });
  });
  it('status.podIP waits for the shim, except with hostNetwork (the node address)', () => {
    expect(env('status.podIP')).toEqual({ name: 'V', podIP: 'status.podIP' });
    expect(env('status.podIP', podSpec([], { hostNetwork: true }))).toEqual({ name: 'V', value: '192.0.2.10' });
  });
});

describe('resourceFieldRef, as kubelet ExtractContainerResourceValue computes it', () => {
  const node = { cpu: 8, memory: 16 * 2 ** 30 };
  const limited = container({ resources: { limits: { cpu: 0.125, memory: 64 * 2 ** 20 }, requests: { cpu: 0.125, memory: 32 * 2 ** 20 } } });
  it.each([
    ['limits.cpu', '1', limited, '1'], // 125m rounds up to one core
    ['limits.cpu', '1m', limited, '125'],
    ['requests.cpu', '1m', limited, '125'],
    ['limits.memory', '1', limited, String(64 * 2 ** 20)],
    ['limits.memory', '1Mi', limited, '64'],
    ['requests.memory', '1Mi', limited, '32'],
    ['limits.memory', '1M', limited, '68'], // 67.108864 → 68
    ['limits.cpu', '1', container(), '8'], // no limit: node allocatable
    ['limits.cpu', '1m', container(), '8000'],
    ['limits.memory', '1Gi', container(), '16'],
    ['requests.cpu', '1', container(), '0'],
    ['requests.memory', '1', container(), '0'],
  ])('%s / %s', (resource, divisor, c, expected) => {
    expect(resourceValue(resource, divisor, c, node)).toBe(expected);
  });
  it('0.1 cores is 100m exactly (no float noise)', () => {
    expect(resourceValue('limits.cpu', '1m', container({ resources: { limits: { cpu: 0.1 }, requests: { cpu: 0.1 } } }), node)).toBe('100');
  });
});

describe('kubelet env: envFrom, then env; configMapKeyRef/secretKeyRef; command and args expansion; the pod IP', () => {
  const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {COLOR: blue, SIZE: L}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: shop}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: c
    image: x
    command: ["/bin/echo", "$(GREETING)", "$$(GREETING)", "$(POD_IP)", "$(NOPE)"]
    envFrom:
    - configMapRef: {name: cfg}
      prefix: CFG_
    - secretRef: {name: s}
    env:
    - {name: CFG_COLOR, value: red}
    - {name: GREETING, value: "hello $(CFG_SIZE) $(LATER)"}
    - {name: PW, valueFrom: {secretKeyRef: {name: s, key: password}}}
    - {name: MISSING, valueFrom: {configMapKeyRef: {name: nope, key: k, optional: true}}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - {name: URL, value: "http://$(POD_IP):80"}
    - {name: LATER, value: x}
`;
  const loaded = parseManifests('pod.yaml', text);
  const pod = loaded.pods[0]!;
  const spec = planProcess(pod.spec, pod.spec.containers[0]!, image({ Env: ['PATH=/bin', 'CFG_COLOR=img'] }), 'web', ID, ctx({ configMaps: loaded.configMaps, secrets: loaded.secrets }));

  it('plans with an empty pod IP and keeps the plan for the shim', () => {
    expect(spec.env).toEqual([
      'PATH=/bin',
      'CFG_COLOR=red',
      'CFG_SIZE=L',
      'password=hunter2',
      'GREETING=hello L $(LATER)',
      'PW=hunter2',
      'POD_IP=',
      'URL=http://:80',
      'LATER=x',
      'HOSTNAME=web',
      // No /etc/passwd in this image: runc's default home.
      'HOME=/',
    ]);
    expect((spec as { envPlan?: unknown }).envPlan).toBeDefined();
  });

  it('resolveEnv fills in the pod IP, in env and in the command, and drops the plan', () => {
    const resolved = resolveEnv(spec, '10.89.0.7');
    expect(resolved.env).toContain('POD_IP=10.89.0.7');
    expect(resolved.env).toContain('URL=http://10.89.0.7:80');
    expect(resolved.argv).toEqual(['/bin/echo', 'hello L $(LATER)', '$(GREETING)', '10.89.0.7', '$(NOPE)']);
    expect('envPlan' in resolved).toBe(false);
    expect(resolveEnv(resolved, '10.0.0.1')).toBe(resolved);
  });

  it('a spec that needs no pod IP is returned as it is', () => {
    const plain = planProcess(pod.spec, container({ command: ['/x', '$(A)'], env: [{ name: 'A', value: 'a' }] }), image({}), 'web', ID, ctx());
    expect(plain.argv).toEqual(['/x', 'a']);
    expect(resolveEnv(plain, '10.0.0.1')).toBe(plain);
  });

  it("the image's Cmd is never expanded", () => {
    const p = planProcess(pod.spec, container({ env: [{ name: 'A', value: 'a' }] }), image({ Cmd: ['/x', '$(A)'] }), 'web', ID, ctx());
    expect(p.argv).toEqual(['/x', '$(A)']);
  });
});

describe('nodeAddresses', () => {
  const routes = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nens4\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\nens4\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n';
  const ifaces = {
    lo: [{ family: 'IPv4', address: '127.0.0.1', internal: true }],
    podns0: [{ family: 'IPv4', address: '10.89.0.1', internal: false }],
    ens4: [{ family: 'IPv6', address: 'fe80::1', internal: false }, { family: 'IPv4', address: '10.0.2.15', internal: false }],
  };
  it("the default route's interface first", () => expect(nodeAddresses(routes, ifaces)).toEqual(['10.0.2.15']));
  it('without a default route, any non-loopback address', () => expect(nodeAddresses('', ifaces)).toEqual(['10.89.0.1']));
  it('none at all', () => expect(nodeAddresses('', { lo: ifaces.lo })).toEqual([]));
});

describe('HOME, as runc sets it', () => {
  const plan = (over: { image?: string[]; entries?: { name: string; value: string; expand: true }[]; home?: string }) =>
    materialiseEnv({ entries: over.entries ?? [], image: over.image ?? ['PATH=/bin'], hostname: 'p', argv: [{ text: 'true' }], ...(over.home ? { home: over.home } : {}) }, '').env;
  it("is the user's home from the image's /etc/passwd when nothing sets it, else /", () => {
    expect(plan({ home: '/root' })).toContain('HOME=/root');
    expect(plan({})).toContain('HOME=/');
  });
  it("never replaces the image's or the manifest's", () => {
    expect(plan({ image: ['HOME=/srv'], home: '/root' }).filter((e) => e.startsWith('HOME='))).toEqual(['HOME=/srv']);
    expect(plan({ entries: [{ name: 'HOME', value: '/data', expand: true }], home: '/root' }).filter((e) => e.startsWith('HOME='))).toEqual(['HOME=/data']);
  });
});
