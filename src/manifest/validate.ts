/**
 * The value pass: what the API server's validation (pkg/apis/core/validation) would refuse, checked on
 * the typed data from check-fields.ts, then the Kubernetes defaults applied. Produces the PodManifest.
 */

import { posix } from 'node:path';
import { keyPath, type Plain } from './check-fields.js';
import { buildConfigVolume } from './config-refs.js';
import { buildDownwardAPI, checkDownwardContainers } from './downward-api.js';
import { buildEnv } from './env-source.js';
import { checkDns1123Label, checkDns1123Subdomain, checkLabelValue, checkPortName, checkQualifiedName } from './names.js';
import { parseQuantity } from './quantity.js';
import { readImageReference } from './image-reference.js';
import { Reporter } from './reporter.js';
import { buildPodSecurityContext, buildSecurityContext } from './security-context.js';
import { buildPodNetwork, isIPv4 } from './pod-network.js';
import { buildProbes } from './probes.js';
import { buildProjected } from './projected.js';
import { buildLifecycle, buildTerminationMessage } from './lifecycle.js';
import { aggregateOverContainers, formatCpu, formatMemory } from './pod-resources.js';
import type { ContainerPort, ContainerSpec, HostPathType, PodManifest, PodMetadata, PodSpec, ResourceValues, VolumeMount, VolumeSpec } from './types.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const;

/**
 * Validates and defaults one Pod document, already checked by checkObject against the POD table (and its
 * kind and apiVersion by the loader). Empty strings count as unset where Kubernetes defaults them.
 */
export function buildPod(file: string, raw: Plain, lines: Map<string, number>, docLine: number, prefix = ''): PodManifest {
  const r = new Reporter(file, lines, docLine, prefix);
  return { file, metadata: buildMetadata(r, raw.metadata as Plain), spec: buildSpec(r, raw.spec as Plain) };
}

/** The API server's SimpleNameGenerator: the prefix cut to 58 characters, then 5 of these. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generateName(prefix: string, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[Math.floor(random() * NAME_ALPHABET.length)];
  return prefix.slice(0, 63 - 5) + suffix;
}

function buildMetadata(r: Reporter, m: Plain): PodMetadata {
  const prefix = (m.generateName as string | undefined) ?? '';
  let name = (m.name as string | undefined) ?? '';
  if (name === '') {
    if (prefix === '') r.fail('metadata.name', 'required value: name or generateName is required');
    // ValidateObjectMeta checks a prefix with the name's rule, a trailing '-' allowed.
    r.check('metadata.generateName', checkDns1123Subdomain(prefix.replace(/-+$/, '') || 'a'), prefix);
    name = generateName(prefix);
  }
  r.check('metadata.name', checkDns1123Subdomain(name), name);
  const namespace = (m.namespace as string | undefined) || 'default';
  r.check('metadata.namespace', checkDns1123Label(namespace), namespace);
  const labels = (m.labels as Record<string, string> | undefined) ?? {};
  for (const [k, v] of Object.entries(labels)) {
    r.check(keyPath('metadata.labels', k), checkQualifiedName(k), k);
    r.check(keyPath('metadata.labels', k), checkLabelValue(v), v);
  }
  const annotations = (m.annotations as Record<string, string> | undefined) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    r.check(keyPath('metadata.annotations', k), checkQualifiedName(k), k);
    total += k.length + v.length;
  }
  if (total > 256 * 1024) r.fail('metadata.annotations', 'may not have more than 262144 bytes in total');
  const meta: PodMetadata = { name, namespace, labels, annotations };
  if (m.uid) meta.uid = m.uid as string;
  return meta;
}

/**
 * The API server's rules for hostUsers (validateHostUsers, ValidateSecurityContext): a pod in a user namespace
 * shares none of the host's other namespaces, and only such a pod may ask for an unmasked /proc.
 */
function checkHostUsers(r: Reporter, spec: PodSpec, initCount: number): void {
  if (!spec.hostUsers) {
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
      if (spec[key]) r.fail(`spec.${key}`, 'forbidden: when `pod.Spec.HostUsers` is false');
    }
    return;
  }
  [...(spec.initContainers ?? []), ...spec.containers].forEach((c, i) => {
    if (c.securityContext?.procMount !== 'Unmasked') return;
    const at = i < initCount ? `spec.initContainers[${i}]` : `spec.containers[${i - initCount}]`;
    r.fail(`${at}.securityContext.procMount`, 'invalid value "Unmasked": `hostUsers` must be false to use `Unmasked`');
  });
}

function buildSpec(r: Reporter, s: Plain): PodSpec {
  const volumes = ((s.volumes as Plain[] | undefined) ?? []).map((v, i) => buildVolume(r, v, `spec.volumes[${i}]`));
  r.noDuplicates('volume name', volumes.map((v) => v.name), (i) => `spec.volumes[${i}].name`);
  const volumeNames = new Set(volumes.map((v) => v.name));

  const rawContainers = s.containers as Plain[];
  if (rawContainers.length === 0) r.fail('spec.containers', 'required value: at least one container');
  const grace = (s.terminationGracePeriodSeconds as number | undefined) ?? 30;
  const containers = rawContainers.map((c, i) => buildContainer(r, c, `spec.containers[${i}]`, volumeNames, grace));
  const initContainers = ((s.initContainers as Plain[] | undefined) ?? []).map((c, i) => buildInitContainer(r, c, `spec.initContainers[${i}]`, volumeNames, grace));
  // One namespace of names for both lists, as the API server checks them.
  const allNames = [...initContainers, ...containers].map((c) => c.name);
  const at = (i: number) => (i < initContainers.length ? `spec.initContainers[${i}].name` : `spec.containers[${i - initContainers.length}].name`);
  r.noDuplicates('container name', allNames, at);
  checkDownwardContainers(r, volumes, new Set(allNames));

  const spec: PodSpec = {
    containers,
    ...(initContainers.length ? { initContainers } : {}),
    volumes,
    shareProcessNamespace: (s.shareProcessNamespace as boolean | undefined) ?? false,
    terminationGracePeriodSeconds: (s.terminationGracePeriodSeconds as number | undefined) ?? 30,
    restartPolicy: r.oneOf('spec.restartPolicy', (s.restartPolicy as string | undefined) || 'Always', RESTART_POLICIES),
    securityContext: buildPodSecurityContext(r, s.securityContext as Plain | undefined, 'spec.securityContext'),
    ...buildPodNetwork(r, s),
    hostUsers: (s.hostUsers as boolean | undefined) ?? true,
  };
  checkHostUsers(r, spec, initContainers.length);
  if (spec.hostNetwork) {
    // As the API server: with the host's network, a published port is the container port itself.
    spec.containers.forEach((c, i) =>
      c.ports.forEach((p, j) => {
        if (p.hostPort !== undefined && p.hostPort !== p.containerPort) {
          r.fail(`spec.containers[${i}].ports[${j}].hostPort`, `invalid value ${p.hostPort}: must match \`containerPort\` when \`hostNetwork\` is true`);
        }
      }),
    );
  }
  noDuplicateHostPorts(r, spec);
  if (spec.terminationGracePeriodSeconds < 0) r.fail('spec.terminationGracePeriodSeconds', 'must be greater than or equal to 0');
  if (s.activeDeadlineSeconds !== undefined) {
    const deadline = s.activeDeadlineSeconds as number;
    if (deadline < 1 || deadline > 2147483647) r.fail('spec.activeDeadlineSeconds', `invalid value ${deadline}: must be between 1 and 2147483647, inclusive`);
    spec.activeDeadlineSeconds = deadline;
  }
  if (s.resources !== undefined) {
    const resources = buildResources(r, s.resources as Plain, 'spec.resources');
    if (resources) {
      checkPodLevelResources(r, spec, resources, s.resources as Plain);
      spec.resources = resources;
    }
  }
  const pullSecrets = ((s.imagePullSecrets as Plain[] | undefined) ?? []).map((ref) => (ref.name as string | undefined) ?? '').filter((n) => n !== '');
  if (pullSecrets.length) spec.imagePullSecrets = pullSecrets;
  const serviceAccountName = s.serviceAccountName as string | undefined;
  if (serviceAccountName) {
    r.check('spec.serviceAccountName', checkDns1123Subdomain(serviceAccountName), serviceAccountName);
    spec.serviceAccountName = serviceAccountName;
  }
  if (s.setHostnameAsFQDN === true) spec.setHostnameAsFQDN = true;
  for (const key of ['hostname', 'subdomain'] as const) {
    const v = s[key] as string | undefined;
    if (!v) continue;
    r.check(`spec.${key}`, checkDns1123Label(v), v);
    spec[key] = v;
  }
  return spec;
}

/** Two ports of the pod cannot take one host port and protocol (the API server checks this per pod). */
function noDuplicateHostPorts(r: Reporter, spec: PodSpec): void {
  const seen = new Map<string, string>();
  spec.containers.forEach((c, i) =>
    c.ports.forEach((p, j) => {
      if (p.hostPort === undefined) return;
      const key = `${p.hostIP ?? ''}/${p.protocol}/${p.hostPort}`;
      const at = `spec.containers[${i}].ports[${j}].hostPort`;
      const first = seen.get(key);
      if (first) r.fail(at, `duplicate value "${p.hostPort}/${p.protocol}" (first at ${first})`);
      seen.set(key, at);
    }),
  );
}

function buildVolume(r: Reporter, v: Plain, path: string): VolumeSpec {
  const name = v.name as string;
  r.check(`${path}.name`, checkDns1123Label(name), name);
  const sources = ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected', 'persistentVolumeClaim'].filter((k) => v[k] !== undefined);
  if (sources.length === 0) r.fail(path, 'must specify a volume type (podns supports emptyDir, hostPath, configMap, secret, downwardAPI, projected and persistentVolumeClaim)');
  if (sources.length > 1) r.fail(`${path}.${sources[1]}`, 'may not specify more than 1 volume type');

  if (v.configMap !== undefined) return { name, configMap: buildConfigVolume(r, v.configMap as Plain, `${path}.configMap`, 'configMap') };
  if (v.secret !== undefined) return { name, secret: buildConfigVolume(r, v.secret as Plain, `${path}.secret`, 'secret') };
  if (v.downwardAPI !== undefined) return { name, downwardAPI: buildDownwardAPI(r, v.downwardAPI as Plain, `${path}.downwardAPI`) };
  if (v.projected !== undefined) return { name, projected: buildProjected(r, v.projected as Plain, `${path}.projected`) };
  if (v.persistentVolumeClaim !== undefined) {
    const c = v.persistentVolumeClaim as Plain;
    const claimName = (c.claimName as string | undefined) ?? '';
    if (claimName === '') r.fail(`${path}.persistentVolumeClaim.claimName`, 'required value');
    // A claim's name is an object name; here it also names a directory, which the subdomain rule keeps to one.
    r.check(`${path}.persistentVolumeClaim.claimName`, checkDns1123Subdomain(claimName), claimName);
    return { name, persistentVolumeClaim: { claimName, readOnly: (c.readOnly as boolean | undefined) ?? false } };
  }
  if (v.emptyDir !== undefined) {
    const e = v.emptyDir as Plain;
    const medium = (e.medium as string | undefined) ?? '';
    if (medium.startsWith('HugePages')) r.fail(`${path}.emptyDir.medium`, 'not supported by podns yet');
    const emptyDir: { medium: '' | 'Memory'; sizeLimit?: string } = { medium: r.oneOf(`${path}.emptyDir.medium`, medium, ['', 'Memory']) };
    if (e.sizeLimit !== undefined) {
      const text = e.sizeLimit as string;
      let amount: number;
      try {
        amount = parseQuantity(text);
      } catch (err) {
        r.fail(`${path}.emptyDir.sizeLimit`, (err as Error).message);
      }
      if (amount < 0) r.fail(`${path}.emptyDir.sizeLimit`, `invalid value "${text}": must be greater than or equal to 0`);
      emptyDir.sizeLimit = text;
    }
    return { name, emptyDir };
  }
  const h = v.hostPath as Plain;
  const hostPathPath = h.path as string;
  r.absolutePath(`${path}.hostPath.path`, hostPathPath);
  r.noBacksteps(`${path}.hostPath.path`, hostPathPath);
  const type: HostPathType = r.oneOf(`${path}.hostPath.type`, (h.type as string | undefined) ?? '', HOST_PATH_TYPES);
  return { name, hostPath: { path: hostPathPath, type } };
}

/** validateInitContainers: restartPolicy is Always or unset; without it no ports, probes or hooks. */
function buildInitContainer(r: Reporter, c: Plain, path: string, volumeNames: Set<string>, gracePeriod: number): ContainerSpec {
  const policy = c.restartPolicy as string | undefined;
  if (policy !== undefined && policy !== 'Always') r.fail(`${path}.restartPolicy`, `unsupported value ${JSON.stringify(policy)}: supported values: "Always"`);
  if (policy !== 'Always') {
    if (((c.ports as unknown[] | undefined) ?? []).length > 0) r.fail(`${path}.ports`, 'init containers may not have ports (only sidecars: restartPolicy: Always)');
    for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c[field] !== undefined) r.fail(`${path}.${field}`, 'forbidden: may not be set for init containers without restartPolicy=Always');
    }
  }
  const container = buildContainer(r, c, path, volumeNames, gracePeriod);
  if (policy === 'Always') container.restartPolicy = 'Always';
  return container;
}

function buildContainer(r: Reporter, c: Plain, path: string, volumeNames: Set<string>, gracePeriod: number): ContainerSpec {
  const name = c.name as string;
  r.check(`${path}.name`, checkDns1123Label(name), name);
  const image = c.image as string;
  if (image === '') r.fail(`${path}.image`, 'required value');
  if (image.trim() !== image) r.fail(`${path}.image`, 'must not have leading or trailing whitespace');
  // The API server takes any string; kubelet fails the container later (InvalidImageName). podns pulls before
  // it starts anything, so a reference that can never be pulled is refused here, where the line is known.
  const reference = readImageReference(image);
  if (!reference.ok) r.fail(`${path}.image`, `invalid image reference ${JSON.stringify(image)}: ${reference.problem}`);

  const { env, envFrom } = buildEnv(r, c, path);

  const ports: ContainerPort[] = ((c.ports as Plain[] | undefined) ?? []).map((p, i) => {
    const at = `${path}.ports[${i}]`;
    const containerPort = p.containerPort as number;
    if (containerPort < 1 || containerPort > 65535) r.fail(`${at}.containerPort`, `invalid value ${containerPort}: must be between 1 and 65535, inclusive`);
    const port: ContainerPort = { containerPort, protocol: r.oneOf(`${at}.protocol`, (p.protocol as string | undefined) || 'TCP', PROTOCOLS) };
    if (p.name) {
      r.check(`${at}.name`, checkPortName(p.name as string), p.name as string);
      port.name = p.name as string;
    }
    if (p.hostPort !== undefined && p.hostPort !== 0) {
      const hostPort = p.hostPort as number;
      if (hostPort < 1 || hostPort > 65535) r.fail(`${at}.hostPort`, `invalid value ${hostPort}: must be between 1 and 65535, inclusive`);
      if (port.protocol === 'SCTP') r.fail(`${at}.protocol`, 'SCTP hostPorts are not supported by podns');
      port.hostPort = hostPort;
    }
    if (p.hostIP) {
      const hostIP = p.hostIP as string;
      if (!isIPv4(hostIP)) r.fail(`${at}.hostIP`, `invalid value ${JSON.stringify(hostIP)}: must be an IPv4 address (podns publishes IPv4 only)`);
      if (port.hostPort === undefined) r.fail(`${at}.hostIP`, 'must not be set without hostPort');
      port.hostIP = hostIP;
    }
    return port;
  });
  r.noDuplicates('port name', ports.map((p) => p.name), (i) => `${path}.ports[${i}].name`);

  const volumeMounts: VolumeMount[] = ((c.volumeMounts as Plain[] | undefined) ?? []).map((m, i) => {
    const at = `${path}.volumeMounts[${i}]`;
    const mount: VolumeMount = { name: m.name as string, mountPath: m.mountPath as string, readOnly: (m.readOnly as boolean | undefined) ?? false };
    if (!volumeNames.has(mount.name)) r.fail(`${at}.name`, `not found: no volume named ${JSON.stringify(mount.name)} in spec.volumes`);
    r.absolutePath(`${at}.mountPath`, mount.mountPath);
    if (m.subPath !== undefined && m.subPath !== '') {
      const subPath = m.subPath as string;
      r.relativePath(`${at}.subPath`, subPath);
      r.noBacksteps(`${at}.subPath`, subPath);
      mount.subPath = subPath;
    }
    if (m.mountPropagation !== undefined && m.mountPropagation !== '') {
      const mode = r.oneOf(`${at}.mountPropagation`, m.mountPropagation as string, ['Bidirectional', 'HostToContainer', 'None'] as const);
      // validateMountPropagation: a container that mounts for others must be privileged.
      if (mode === 'Bidirectional' && (c.securityContext as Plain | undefined)?.privileged !== true) {
        r.fail(`${at}.mountPropagation`, 'forbidden: Bidirectional mount propagation is available only to privileged containers');
      }
      if (mode !== 'None') mount.mountPropagation = mode;
    }
    if (m.recursiveReadOnly !== undefined && m.recursiveReadOnly !== '') {
      // validateMountRecursiveReadOnly's three rules.
      const rro = r.oneOf(`${at}.recursiveReadOnly`, m.recursiveReadOnly as string, ['Disabled', 'IfPossible', 'Enabled'] as const);
      if (rro !== 'Disabled') {
        if (!mount.readOnly) r.fail(`${at}.recursiveReadOnly`, 'may only be specified when readOnly is true');
        if (mount.mountPropagation) r.fail(`${at}.recursiveReadOnly`, 'may only be specified when mountPropagation is None or not specified');
        mount.recursiveReadOnly = rro;
      }
    }
    // validateVolumeMounts: expanded by `podns run` (runtime/subpath-expr.ts), which checks the result again.
    if (m.subPathExpr !== undefined && m.subPathExpr !== '') {
      const expr = m.subPathExpr as string;
      if (mount.subPath !== undefined) r.fail(`${at}.subPathExpr`, `invalid value ${JSON.stringify(expr)}: subPathExpr and subPath are mutually exclusive`);
      r.relativePath(`${at}.subPathExpr`, expr);
      r.noBacksteps(`${at}.subPathExpr`, expr);
      mount.subPathExpr = expr;
    }
    return mount;
  });
  r.noDuplicates('mountPath', volumeMounts.map((m) => normalizeMountPath(m.mountPath)), (i) => `${path}.volumeMounts[${i}].mountPath`);

  const container: ContainerSpec = { name, image, env, ports, volumeMounts };
  if (envFrom.length > 0) container.envFrom = envFrom;
  // kubelet and containerd treat an empty command or args list as unset.
  for (const key of ['command', 'args'] as const) {
    const list = c[key] as string[] | undefined;
    if (list && list.length > 0) container[key] = list;
  }
  if (c.workingDir !== undefined && c.workingDir !== '') {
    r.absolutePath(`${path}.workingDir`, c.workingDir as string);
    container.workingDir = c.workingDir as string;
  }
  if (c.imagePullPolicy) container.imagePullPolicy = r.oneOf(`${path}.imagePullPolicy`, c.imagePullPolicy as string, PULL_POLICIES);
  if (c.resources !== undefined) {
    const resources = buildResources(r, c.resources as Plain, `${path}.resources`);
    if (resources) container.resources = resources;
  }
  if (c.securityContext !== undefined) {
    const securityContext = buildSecurityContext(r, c.securityContext as Plain, `${path}.securityContext`);
    if (securityContext) container.securityContext = securityContext;
  }
  Object.assign(container, buildProbes(r, c, path, ports));
  const lifecycle = buildLifecycle(r, c.lifecycle as Plain | undefined, `${path}.lifecycle`, ports, gracePeriod);
  if (lifecycle) container.lifecycle = lifecycle;
  Object.assign(container, buildTerminationMessage(r, c, path));
  for (const key of ['stdin', 'stdinOnce', 'tty'] as const) if (c[key] === true) container[key] = true;
  return container;
}

/** One ResourceList (cpu, memory) as numbers: cores and bytes (memory rounded up to whole bytes, as Value() does). */
function buildResourceValues(r: Reporter, raw: Plain | undefined, path: string): ResourceValues {
  const out: ResourceValues = {};
  for (const key of ['cpu', 'memory'] as const) {
    const text = raw?.[key] as string | undefined;
    if (text === undefined) continue;
    let amount: number;
    try {
      amount = parseQuantity(text);
    } catch (err) {
      r.fail(`${path}.${key}`, (err as Error).message);
    }
    if (amount < 0) r.fail(`${path}.${key}`, `invalid value "${text}": must be greater than or equal to 0`);
    out[key] = key === 'memory' ? Math.ceil(amount) : amount;
  }
  return out;
}

/**
 * resources: the API server's defaulting (a request left unset takes its limit) and ValidateResourceRequirements
 * (a request may not exceed its limit). Undefined when nothing is set.
 */
function buildResources(r: Reporter, raw: Plain, path: string): ContainerSpec['resources'] {
  const limits = buildResourceValues(r, raw.limits as Plain | undefined, `${path}.limits`);
  const requests = buildResourceValues(r, raw.requests as Plain | undefined, `${path}.requests`);
  for (const key of ['cpu', 'memory'] as const) {
    const limit = limits[key];
    if (limit === undefined) continue;
    const request = requests[key];
    if (request === undefined) requests[key] = limit;
    else if (request > limit) {
      const text = (raw.requests as Plain)[key] as string;
      const limitText = (raw.limits as Plain)[key] as string;
      r.fail(`${path}.requests`, `invalid value "${text}": must be less than or equal to ${key} limit of ${limitText}`, `${path}.requests.${key}`);
    }
  }
  if (Object.keys(limits).length === 0 && Object.keys(requests).length === 0) return undefined;
  return { limits, requests };
}

/**
 * validatePodResourceConsistency (KEP-2837): pod-level requests cover the containers' aggregate requests, and no
 * container's limit goes beyond the pod's, in the API server's words.
 */
function checkPodLevelResources(r: Reporter, spec: PodSpec, resources: NonNullable<PodSpec['resources']>, raw: Plain): void {
  const text = (side: 'limits' | 'requests', key: 'cpu' | 'memory') => ((raw[side] as Plain | undefined)?.[key] as string | undefined) ?? (raw.limits as Plain)[key];
  const format = (key: 'cpu' | 'memory', v: number) => (key === 'cpu' ? formatCpu(v) : formatMemory(v));
  for (const key of ['cpu', 'memory'] as const) {
    const request = resources.requests[key];
    if (request !== undefined) {
      const aggregate = aggregateOverContainers(spec, (c) => c.resources?.requests[key] ?? 0);
      if (request < aggregate) {
        r.fail(`spec.resources.requests[${key}]`, `invalid value ${JSON.stringify(String(text('requests', key)))}: must be greater than or equal to aggregate container requests of ${format(key, aggregate)}`, `spec.resources.${(raw.requests as Plain | undefined)?.[key] !== undefined ? 'requests' : 'limits'}.${key}`);
      }
    }
    const limit = resources.limits[key];
    if (limit === undefined) continue;
    for (const [list, path] of [[spec.initContainers ?? [], 'spec.initContainers'], [spec.containers, 'spec.containers']] as const) {
      list.forEach((c, i) => {
        const own = c.resources?.limits[key];
        if (own !== undefined && own > limit) {
          r.fail(`${path}[${i}].resources.limits[${key}]`, `invalid value ${JSON.stringify(format(key, own))}: must be less than or equal to pod limits of ${format(key, limit)}`, `${path}[${i}].resources.limits.${key}`);
        }
      });
    }
  }
}

/** `/data/`, `/data/.` and `//data` name the same mount point as `/data`. */
function normalizeMountPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}
