/**
 * A container's environment as kubelet makes it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables):
 * envFrom first, then env in order, `$(VAR)` in an env value expanded from the variables defined before it,
 * valueFrom sources resolved (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef); then `$(VAR)` in
 * command and args expanded from the result. containerd puts the image's Env underneath and HOSTNAME on top.
 *
 * status.podIP is known only once the supervisor has set up the pod's network: a plan that needs it carries the
 * unexpanded entries (`envPlan`), and the supervisor calls resolveEnv with the IP before the container is spawned.
 */
import type { ConfigObject, ContainerSpec, PodMetadata, PodSpec } from '../manifest/types.js';
import { checkEnvVarName } from '../manifest/names.js';
import { parseQuantity } from '../manifest/quantity.js';
import type { ProcessSpec } from '../state/pod-state.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * `$(VAR)` expansion exactly as k8s.io/kubernetes third_party/forked/golang/expansion Expand: `$$` is a
 * literal `$`, a name the mapping does not know is left as `$(NAME)`, an unterminated `$(` and any other
 * `$x` pass through. (Go walks bytes; this walks UTF-16 units, which differs only after a `$` followed by a
 * non-ASCII character, where Go would mangle the character.)
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close >= 0) {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      } else {
        out += '$(';
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** What kubelet knows about the pod and the node when it makes a container's environment. */
export interface EnvContext {
  metadata: PodMetadata;
  uid: string;
  /** spec.nodeName: the host's name. */
  nodeName: string;
  /** status.hostIPs: the node's addresses (the first is status.hostIP). */
  hostIPs: string[];
  /** Node allocatable, for a resourceFieldRef limit the container does not set: cores and bytes. */
  node: { cpu: number; memory: number };
  /** By `namespace/name`, as LoadedManifests holds them. */
  configMaps: Map<string, ConfigObject>;
  secrets: Map<string, ConfigObject>;
}

/** One variable of kubelet's list: a value to expand, a value taken as is, or the pod IP(s) not known yet. */
export type EnvEntry = { name: string; value: string; expand?: true } | { name: string; podIP: 'status.podIP' | 'status.podIPs' };

/** Carried in the process spec (spec.json) when an entry needs the pod IP; resolveEnv consumes it. */
export interface EnvPlan {
  entries: EnvEntry[];
  /** The image's Env (PATH defaulted), under kubelet's variables. */
  image: string[];
  hostname: string;
  /** The argv with each element's need for expansion (only the manifest's command and args are expanded). */
  argv: { text: string; expand?: true }[];
  /** The user's home from the image's /etc/passwd: HOME when neither the image nor the manifest sets it. */
  home?: string;
}

export type PlannedProcess = ProcessSpec & { envPlan?: EnvPlan };

/** kubelet's variable list for `container`, resolved but for the pod IP (left as a podIP entry unless hostNetwork). */
export function kubeletEnvEntries(pod: PodSpec, container: ContainerSpec, ctx: EnvContext, warn: (line: string) => void = () => {}): EnvEntry[] {
  const ns = ctx.metadata.namespace;
  const entries: EnvEntry[] = [];
  const object = (kind: 'configMap' | 'secret', name: string) => (kind === 'configMap' ? ctx.configMaps : ctx.secrets).get(`${ns}/${name}`);
  for (const from of container.envFrom ?? []) {
    const kind = from.configMapRef ? 'configMap' : 'secret';
    const ref = from.configMapRef ?? from.secretRef!;
    const obj = object(kind, ref.name);
    // A missing non-optional object was refused by the loader.
    if (!obj) continue;
    const invalid: string[] = [];
    // kubelet ranges over a Go map (no order); sorted keys make the result stable.
    for (const key of Object.keys(obj.data).sort()) {
      const name = from.prefix + key;
      if (checkEnvVarName(name)) invalid.push(name);
      else entries.push({ name, value: obj.data[key]!.toString('utf8') });
    }
    if (invalid.length > 0) warn(`container "${container.name}": keys [${invalid.join(', ')}] from the EnvFrom ${kind} ${ns}/${ref.name} were skipped since they are considered invalid environment variable names`);
  }
  for (const e of container.env) {
    const from = e.valueFrom;
    if (!from) {
      entries.push({ name: e.name, value: e.value, expand: true });
      continue;
    }
    if ('fieldRef' in from) {
      const path = from.fieldRef.fieldPath;
      if ((path === 'status.podIP' || path === 'status.podIPs') && !pod.hostNetwork) entries.push({ name: e.name, podIP: path });
      else entries.push({ name: e.name, value: fieldValue(path, pod, ctx) });
    } else if ('resourceFieldRef' in from) {
      const ref = from.resourceFieldRef;
      const target = ref.containerName ? pod.containers.find((c) => c.name === ref.containerName)! : container;
      entries.push({ name: e.name, value: resourceValue(ref.resource, ref.divisor, target, ctx.node) });
    } else {
      const [kind, ref] = 'configMapKeyRef' in from ? (['configMap', from.configMapKeyRef] as const) : (['secret', from.secretKeyRef] as const);
      const obj = object(kind, ref.name);
      // Missing and optional (the loader refused the rest): kubelet leaves the variable out.
      if (obj && Object.hasOwn(obj.data, ref.key)) entries.push({ name: e.name, value: obj.data[ref.key]!.toString('utf8') });
    }
  }
  return entries;
}

/** A fieldRef's value (status.podIP only with hostNetwork, where it is the node's address, as kubelet has it). */
export function fieldValue(path: string, pod: PodSpec, ctx: EnvContext): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/s.exec(path);
  if (m) return (m[1] === 'labels' ? ctx.metadata.labels : ctx.metadata.annotations)[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return ctx.metadata.name;
    case 'metadata.namespace':
      return ctx.metadata.namespace;
    case 'metadata.uid':
      return ctx.uid;
    case 'spec.nodeName':
      return ctx.nodeName;
    case 'spec.serviceAccountName':
      return pod.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.podIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
    case 'status.podIPs':
      return ctx.hostIPs.join(',');
    default:
      throw new Error(`unsupported fieldPath ${JSON.stringify(path)}`);
  }
}

/**
 * kubelet's ExtractContainerResourceValue: cpu as ceil(milli / divisor milli), memory as ceil(bytes / divisor);
 * an unset (or zero) limit is the node's allocatable (defaultPodLimitsForDownwardAPI), an unset request 0.
 */
export function resourceValue(resource: string, divisor: string, container: ContainerSpec, node: { cpu: number; memory: number }): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', 'cpu' | 'memory'];
  const set = container.resources?.[kind][name];
  const amount = kind === 'limits' ? (set || node[name]) : (set ?? 0);
  const d = parseQuantity(divisor);
  if (name === 'cpu') {
    // Quantity.MilliValue rounds up; quantities hold no more than 9 decimals, so round away float noise first.
    const milli = (q: number) => Math.ceil(Math.round(q * 1e9) / 1e6);
    return String(Math.ceil(milli(amount) / milli(d)));
  }
  return String(Math.ceil(Math.ceil(amount) / Math.ceil(d)));
}

/** Applies the entries in order: each value expanded from the variables before it (kubelet's tmpEnv). */
function applyEntries(entries: EnvEntry[], podIP: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const e of entries) {
    if ('podIP' in e) vars.set(e.name, podIP);
    else vars.set(e.name, e.expand ? expandVars(e.value, (n) => vars.get(n)) : e.value);
  }
  return vars;
}

/** The image's Env as a list with PATH defaulted (runc/containerd's default when the image has none). */
export function imageEnv(image: string[] | undefined): string[] {
  const env = [...(image ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.push(`PATH=${DEFAULT_PATH}`);
  return env;
}

/** argv and env from a plan, with the pod IP ('' when the pod has none, as kubelet gives it). */
export function materialiseEnv(plan: EnvPlan, podIP: string): { env: string[]; argv: string[] } {
  const vars = applyEntries(plan.entries, podIP);
  const env = new Map<string, string>();
  for (const entry of plan.image) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const [k, v] of vars) env.set(k, v);
  env.set('HOSTNAME', plan.hostname);
  // As runc does for every process (containerd leaves it to runc): the passwd entry's home, else "/".
  if (!env.has('HOME')) env.set('HOME', plan.home || '/');
  const argv = plan.argv.map((a) => (a.expand ? expandVars(a.text, (n) => vars.get(n)) : a.text));
  return { env: [...env].map(([k, v]) => `${k}=${v}`), argv };
}

/** True when a plan must wait for the pod IP. */
export function needsPodIP(plan: EnvPlan): boolean {
  return plan.entries.some((e) => 'podIP' in e);
}

/**
 * The process spec with the pod IP filled in: env and argv made again from its envPlan (which is dropped).
 * A spec without an envPlan is returned as it is. Called by the supervisor just before it spawns the container.
 */
export function resolveEnv(spec: ProcessSpec, podIP: string | undefined): ProcessSpec {
  const { envPlan, ...rest } = spec as PlannedProcess;
  if (!envPlan) return spec;
  return { ...rest, ...materialiseEnv(envPlan, podIP ?? '') };
}

/**
 * The node's address for status.hostIP: the first IPv4 address of the default route's interface (from
 * /proc/net/route), else of any non-loopback interface, else none; kubelet's node IP is chosen the same way.
 */
export function nodeAddresses(routeTable: string, interfaces: Record<string, { family: string | number; address: string; internal: boolean }[] | undefined>): string[] {
  const v4 = (name: string) => (interfaces[name] ?? []).filter((a) => (a.family === 'IPv4' || a.family === 4) && !a.internal).map((a) => a.address);
  const defaultIf = routeTable
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[1] === '00000000' && f[7] === '00000000')?.[0];
  const first = (defaultIf ? v4(defaultIf) : [])[0] ?? Object.keys(interfaces).flatMap(v4)[0];
  return first ? [first] : [];
}
