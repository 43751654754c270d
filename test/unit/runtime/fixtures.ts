/** Pod, container and environment fixtures shared by the runtime's unit tests (env, downward API, subPathExpr). */
import type { ContainerSpec, PodSpec } from '../../../src/manifest/types.js';
import type { EnvContext } from '../../../src/runtime/env.js';

export function container(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name: 'c', image: 'x', env: [], ports: [], volumeMounts: [], ...over };
}

/** A defaulted PodSpec, as the manifest loader returns it. */
export function podSpec(containers: ContainerSpec[], over: Partial<PodSpec> = {}): PodSpec {
  return {
    containers,
    volumes: [],
    shareProcessNamespace: false,
    terminationGracePeriodSeconds: 30,
    restartPolicy: 'Always',
    securityContext: { supplementalGroups: [], sysctls: [] },
    hostNetwork: false,
    hostIPC: false,
    hostPID: false,
    dnsPolicy: 'ClusterFirst',
    hostAliases: [],
    ...over,
  };
}

/** Pod web in namespace shop on node-1 (8 CPUs, 16 GiB), with the labels and annotations a test gives it. */
export function envContext(over: Partial<EnvContext> & { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): EnvContext {
  const { labels = {}, annotations = {}, ...rest } = over;
  return {
    metadata: { name: 'web', namespace: 'shop', labels, annotations },
    uid: 'uid-1',
    nodeName: 'node-1',
    hostIPs: ['192.0.2.10'],
    node: { cpu: 8, memory: 16 * 2 ** 30 },
    configMaps: new Map(),
    secrets: new Map(),
    ...rest,
  };
}
