/** subPathExpr expanded as kubelet's ExpandContainerVolumeMounts does, checked as makeMounts checks the result. */
import { describe, expect, it } from 'vitest';
import type { ConfigObject, ContainerSpec, PodSpec, VolumeMount } from '../../../src/manifest/types.js';
import type { EnvContext } from '../../../src/runtime/env.js';
import { expandSubPathExprs } from '../../../src/runtime/subpath-expr.js';
import { envContext, podSpec as fixturePodSpec } from './fixtures.js';

const podSpec = (containers: ContainerSpec[], over: Partial<PodSpec> = {}): PodSpec => fixturePodSpec(containers, { volumes: [{ name: 'v', emptyDir: { medium: '' } }], ...over });
const CM: ConfigObject = { kind: 'ConfigMap', name: 'cfg', namespace: 'shop', data: { TIER: Buffer.from('gold') }, immutable: false, line: 1 };
const ctx = (): EnvContext => envContext({ configMaps: new Map([['shop/cfg', CM]]) });
const mount = (subPathExpr: string): VolumeMount => ({ name: 'v', mountPath: '/data', readOnly: false, subPathExpr });
const ENV: ContainerSpec['env'] = [
  { name: 'POD_NAME', value: '', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'DIR', value: 'logs/$(POD_NAME)' },
  { name: 'EMPTY', value: '' },
  { name: 'POD_IP', value: '', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  { name: 'URL', value: 'http://$(POD_IP)/' },
];
function expand(expr: string, over: Partial<PodSpec> = {}): string | undefined {
  const c: ContainerSpec = { name: 'app', image: 'x', env: ENV, envFrom: [{ prefix: '', configMapRef: { name: 'cfg', optional: false } }], ports: [], volumeMounts: [mount(expr)] };
  return expandSubPathExprs(podSpec([c], over), ctx()).containers[0]!.volumeMounts[0]!.subPath;
}

describe('expandSubPathExprs', () => {
  it.each([
    ['a fieldRef variable', '$(POD_NAME)', 'web'],
    ['a value expanded from an earlier variable', '$(DIR)/x', 'logs/web/x'],
    ['an envFrom key', '$(TIER)/$(POD_NAME)', 'gold/web'],
    ['$$ escapes', 'a$$(POD_NAME)', 'a$(POD_NAME)'],
    ['no reference at all', 'plain/dir', 'plain/dir'],
  ])('%s', (_name, expr, expected) => {
    expect(expand(expr)).toBe(expected);
  });

  it.each([
    ['an unset variable, or one only the image sets (kubelet uses the container\'s env only)', '$(NOPE)/$(PATH)', 'missing value for NOPE, PATH'],
    ['an empty one', 'x/$(EMPTY)', 'missing value for EMPTY'],
    ['an absolute result', '$(ABS)', 'expanded to "/etc": must not be an absolute path'],
    ['a result with ..', '$(UP)/x', `expanded to "../x": must not contain '..'`],
    ['status.podIP', '$(POD_IP)', "POD_IP comes from status.podIP, which podns knows only once the pod's network is set up, after the mounts are planned: not supported"],
    ['a variable made from status.podIP', 'u/$(URL)', "URL comes from status.podIP, which podns knows only once the pod's network is set up, after the mounts are planned: not supported"],
  ])('refuses %s in one line naming the pod, container and mount', (_name, expr, why) => {
    const env = [...ENV, { name: 'ABS', value: '/etc' }, { name: 'UP', value: '..' }];
    const c: ContainerSpec = { name: 'app', image: 'x', env, ports: [], volumeMounts: [{ name: 'v', mountPath: '/a', readOnly: false }, mount(expr)] };
    expect(() => expandSubPathExprs(podSpec([c]), ctx())).toThrow(`pod "web": container "app": volumeMounts[1].subPathExpr ${JSON.stringify(expr)}: ${why}`);
  });

  it("with hostNetwork status.podIP is the node's address, known here", () => {
    expect(expand('$(POD_IP)', { hostNetwork: true })).toBe('192.0.2.10');
  });

  it('expands init containers too, with their own env, and leaves other mounts and containers alone', () => {
    const init: ContainerSpec = { name: 'init', image: 'x', env: [{ name: 'STEP', value: 'one' }], ports: [], volumeMounts: [mount('$(STEP)')] };
    const plain: ContainerSpec = { name: 'app', image: 'x', env: [], ports: [], volumeMounts: [{ name: 'v', mountPath: '/d', readOnly: false, subPath: 's' }] };
    const pod = podSpec([plain], { initContainers: [init] });
    const out = expandSubPathExprs(pod, ctx());
    expect(out.initContainers![0]!.volumeMounts[0]).toEqual({ ...mount('$(STEP)'), subPath: 'one' });
    expect(out.containers[0]).toBe(plain);
    expect(init.volumeMounts[0]!.subPath).toBeUndefined();
  });
});
