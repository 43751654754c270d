/**
 * volumeMounts[].subPathExpr, expanded as kubelet's makeMounts expands it (kubecontainer.ExpandContainerVolumeMounts):
 * `$(VAR)` from the container's own variables (env and envFrom, resolved as for the process, not the image's
 * Env), `$$` for a literal `$`; a variable that is unset or empty is an error ("missing value for A, B"); the
 * result must be relative and free of "..". `podns run` does it before anything exists and stores the result as
 * the mount's subPath, which is what the supervisor creates (ensureSubPath) and mounts.
 *
 * One departure: status.podIP is known only once the supervisor has set up the pod's network, after the mounts are
 * planned; a subPathExpr that needs it (directly or through another variable) is refused, unless hostNetwork
 * makes it the node's address, known here.
 */
import { PodnsError } from '../errors.js';
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import { expandVars, kubeletEnvEntries, type EnvContext, type EnvEntry } from './env.js';

interface ContainerVar {
  value: string;
  /** The value is, or was expanded from, status.podIP. */
  fromPodIP: boolean;
}

/** The container's variables in kubelet's order, each value expanded from those before it, podIP use tracked. */
function containerVars(entries: EnvEntry[]): Map<string, ContainerVar> {
  const vars = new Map<string, ContainerVar>();
  for (const e of entries) {
    if ('podIP' in e) {
      vars.set(e.name, { value: '', fromPodIP: true });
    } else if (!e.expand) {
      vars.set(e.name, { value: e.value, fromPodIP: false });
    } else {
      let fromPodIP = false;
      const value = expandVars(e.value, (name) => {
        const v = vars.get(name);
        if (v?.fromPodIP) fromPodIP = true;
        return v?.value;
      });
      vars.set(e.name, { value, fromPodIP });
    }
  }
  return vars;
}

/** One subPathExpr against the container's variables; `what` names the mount for messages. */
function expandSubPathExpr(expr: string, vars: Map<string, ContainerVar>, what: string): string {
  const missing = new Set<string>();
  const podIP = new Set<string>();
  const expanded = expandVars(expr, (name) => {
    const v = vars.get(name);
    if (v?.fromPodIP) podIP.add(name);
    else if (!v || v.value === '') missing.add(name);
    return v?.value ?? '';
  });
  const fail = (why: string): never => {
    throw new PodnsError('container.subPathExpr', `${what}: ${why}`);
  };
  if (podIP.size > 0) fail(`${[...podIP].sort().join(', ')} comes from status.podIP, which podns knows only once the pod's network is set up, after the mounts are planned: not supported`);
  if (missing.size > 0) fail(`missing value for ${[...missing].sort().join(', ')}`);
  if (expanded.startsWith('/')) fail(`expanded to ${JSON.stringify(expanded)}: must not be an absolute path`);
  if (expanded.split('/').includes('..')) fail(`expanded to ${JSON.stringify(expanded)}: must not contain '..'`);
  return expanded;
}

/** The pod spec with every subPathExpr's expansion in its mount's subPath, for init and app containers alike. */
export function expandSubPathExprs(pod: PodSpec, ctx: EnvContext): PodSpec {
  const expand = (c: ContainerSpec): ContainerSpec => {
    if (!c.volumeMounts.some((m) => m.subPathExpr !== undefined)) return c;
    const vars = containerVars(kubeletEnvEntries(pod, c, ctx));
    return {
      ...c,
      volumeMounts: c.volumeMounts.map((m, i) => {
        if (m.subPathExpr === undefined) return m;
        const what = `pod "${ctx.metadata.name}": container "${c.name}": volumeMounts[${i}].subPathExpr ${JSON.stringify(m.subPathExpr)}`;
        return { ...m, subPath: expandSubPathExpr(m.subPathExpr, vars, what) };
      }),
    };
  };
  return { ...pod, containers: pod.containers.map(expand), ...(pod.initContainers ? { initContainers: pod.initContainers.map(expand) } : {}) };
}
