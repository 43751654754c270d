/** `podns run FILE`: validate, resolve images, reserve the name, hand the pod to the supervisor, wait for its word. */
import type net from 'node:net';
import os from 'node:os';
import { PodnsError, UserError } from '../../errors.js';
import type { ImageStore } from '../../image/image-store.js';
import { findImageRecord } from '../../image/image-records.js';
import { formatImageReference, parseImageReference } from '../../image/reference.js';
import type { ImageRecord } from '../../image/types.js';
import { loadManifests, type LoadedManifests } from '../../manifest/load-manifest.js';
import { pullSecretAuths } from '../../manifest/config-refs.js';
import type { PodManifest } from '../../manifest/types.js';
import { writeJsonAtomic } from '../../state/atomic-file.js';
import { namedVolumeDir, imagesDir, podId, podPaths, podsRunDir, supervisorPaths, type Roots } from '../../state/paths.js';
import type { Infra, PodSpecFile, ProcessSpec } from '../../state/pod-state.js';
import { planProcess } from '../../runtime/container-plan.js';
import { processRef } from '../../runtime/proc.js';
import { resolveDownwardAPI } from '../../runtime/downward-api.js';
import { nodeAddresses, type EnvContext } from '../../runtime/env.js';
import { expandSubPathExprs } from '../../runtime/subpath-expr.js';
import { kernelHostname, podDomain, podHostname } from '../../runtime/pod-files.js';
import { loadUserNamespaceRanges } from '../../runtime/userns-ranges.js';
import { loadNetworkConfig } from '../../network/network-config.js';
import { randomUuid } from '../../sys/random-uuid.js';
import { awaitStartReport, supervisorSilenceLimitMs, type ReportSource, type StartOutcome } from '../start-wait.js';
import { callSupervisor, connectSupervisor } from '../../supervisor/client.js';
import type { SupervisorRequest } from '../../supervisor/protocol.js';
import { backOffScale } from '../../kubelet/restart-policy.js';
import { detectCgroups, parseProcCgroup, resolveCgroupParent } from '../../cgroup/layout.js';
import { DEFAULT_POD_PIDS_LIMIT } from '../../cgroup/resources.js';
import type { PodCgroupPlan } from '../../state/pod-state.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

export interface RunOptions {
  replace?: boolean;
  /** --cgroup-parent (env PODNS_CGROUP_PARENT): absolute, or relative to our own cgroup; default /podns. */
  cgroupParent?: string;
  /** --pod-pids-limit (env PODNS_POD_PIDS_LIMIT); 0 or less: none. */
  podPidsLimit?: number;
  /** --infra=none: no pause; the first container holds the pod's namespaces (also the annotation below). */
  infra?: string;
}

/** The annotation that asks for --infra=none on one pod. */
export const INFRA_ANNOTATION = 'podns.io/infra';

function infraOf(pod: PodManifest, options: RunOptions): Infra {
  const value = options.infra ?? pod.metadata.annotations[INFRA_ANNOTATION] ?? 'pause';
  if (value !== 'pause' && value !== 'none') {
    throw new UserError('EUSAGE', `pod "${pod.metadata.name}": infra must be "pause" or "none", not "${value}"`);
  }
  // The pod's user namespace is made with the pause; without one no container could map its IDs first.
  if (value === 'none' && pod.spec.hostUsers === false) throw new UserError('EUSAGE', `pod "${pod.metadata.name}": hostUsers: false needs the pause (not --infra=none)`);
  return value;
}

/**
 * Each container's image by its imagePullPolicy, as kubelet applies it: unset means Always for `:latest` (or
 * no tag) and IfNotPresent otherwise; Never wants the image present (ErrImageNeverPull). One departure: an
 * image loaded or imported locally (no registry digest in its record) satisfies Always as it is, so a pull
 * never replaces a locally built image with a registry's; an explicit Always says so on stderr.
 * Each reference is pulled at most once per run.
 */
async function resolveImages(
  pod: PodManifest,
  storeRoot: string,
  warn: (line: string) => void,
  roots: Roots,
  pulled: Map<string, Promise<ImageRecord>>,
  pullSecrets: unknown[] = [],
): Promise<Record<string, ImageRecord>> {
  const images: Record<string, ImageRecord> = {};
  // Init containers too: they are pulled and planned here like the others, before anything exists.
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    const where = `pod "${pod.metadata.name}": container "${c.name}"`;
    const ref = parseImageReference(c.image);
    const policy = c.imagePullPolicy ?? (ref.tag === 'latest' && ref.digest === undefined ? 'Always' : 'IfNotPresent');
    const local = findImageRecord(storeRoot, c.image);
    if (policy === 'Never') {
      if (!local) throw new UserError('ErrImageNeverPull', `${where}: ErrImageNeverPull: Container image "${c.image}" is not present with pull policy of Never`);
      images[c.name] = local;
      continue;
    }
    if (local && (policy === 'IfNotPresent' || local.digest === undefined)) {
      if (c.imagePullPolicy === 'Always') warn(`${where}: imagePullPolicy Always: "${local.name}" was loaded locally, not pulled; using it as it is`);
      images[c.name] = local;
      continue;
    }
    const key = formatImageReference(ref);
    let pulling = pulled.get(key);
    if (!pulling) {
      // The registry client loads only when an image is pulled: most runs use what is present.
      pulling = pullInto(storeRoot, c.image, roots, pullSecrets);
      pulled.set(key, pulling);
    }
    try {
      images[c.name] = await pulling;
    } catch (err) {
      throw new PodnsError('image.pull', `${where}: ErrImagePull: ${(err as Error).message}`, { cause: err });
    }
  }
  return images;
}

/** Pulls `image` into the store; the store's writing side and the registry client load only for this. */
async function pullInto(storeRoot: string, image: string, roots: Roots, pullSecrets: unknown[]): Promise<ImageRecord> {
  const [{ ImageStore }, { SpawnRunner }, { pullImage }] = await Promise.all([import('../../image/image-store.js'), import('../../sys/command.js'), import('../../image/pull.js')]);
  const store: ImageStore = new ImageStore(storeRoot, new SpawnRunner());
  return (await pullImage(store, image, { etcDir: roots.etc, pullSecrets })).record;
}

/** What kubelet knows of the pod and the node when it makes env and the downward API's files. */
function envContext(pod: PodManifest, uid: string, objects: Pick<LoadedManifests, 'configMaps' | 'secrets'>): EnvContext {
  let routes = '';
  try {
    routes = fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    // no IPv4 routing table: no host IP
  }
  return {
    metadata: pod.metadata,
    uid,
    nodeName: os.hostname(),
    hostIPs: nodeAddresses(routes, os.networkInterfaces()),
    node: { cpu: os.cpus().length, memory: os.totalmem() },
    configMaps: objects.configMaps,
    secrets: objects.secrets,
  };
}

/**
 * The pod's spec as the supervisor runs it, with what only `podns run` knows: the downward API's files resolved and
 * every subPathExpr expanded (a missing variable fails here, before anything exists; metadata.uid and the node
 * are known only here), and each persistentVolumeClaim volume given its named volume's directory (the roots).
 */
function planPodSpec(pod: PodManifest, envCtx: EnvContext, roots: Roots): PodManifest {
  const spec = expandSubPathExprs(resolveDownwardAPI(pod.spec, envCtx), envCtx);
  const volumes = spec.volumes.map((v) =>
    'persistentVolumeClaim' in v ? { ...v, persistentVolumeClaim: { ...v.persistentVolumeClaim, path: namedVolumeDir(roots, pod.metadata.namespace, v.persistentVolumeClaim.claimName) } } : v,
  );
  return { ...pod, spec: { ...spec, volumes } };
}

/**
 * Every container's process, planned before anything is created: a bad user or runAsNonRoot fails here. Env
 * sources are resolved from the file's ConfigMaps and Secrets and the node; status.podIP waits for the supervisor.
 */
function planProcesses(
  pod: PodManifest,
  uid: string,
  images: Record<string, ImageRecord>,
  envCtx: EnvContext,
  clusterDomain: string,
  warn: (line: string) => void,
): Record<string, ProcessSpec> {
  // HOSTNAME is the pod's kernel hostname (the FQDN with setHostnameAsFQDN), which fails here when too long.
  const hostname = kernelHostname(podHostname(pod.metadata.name, pod.spec.hostname), podDomain(pod.spec, pod.metadata.namespace, clusterDomain), pod.spec.setHostnameAsFQDN);
  const podLabel = `${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
  const say = (line: string) => warn(`pod "${pod.metadata.name}": ${line}`);
  return Object.fromEntries(
    [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [
      c.name,
      planProcess(pod.spec, c, images[c.name]!, hostname, { pod: podLabel, container: c.name }, envCtx, say),
    ]),
  );
}

/**
 * Where the pods' cgroups go: the host's cgroup version and mounts (under PODNS_CGROUP_ROOT, default
 * /sys/fs/cgroup), and the parent in each hierarchy, resolved here against this process's own cgroups.
 */
export function planCgroups(options: RunOptions): PodCgroupPlan {
  const host = detectCgroups(process.env.PODNS_CGROUP_ROOT ?? '/sys/fs/cgroup');
  const parent = options.cgroupParent ?? process.env.PODNS_CGROUP_PARENT ?? '/podns';
  const self = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  const pids = options.podPidsLimit ?? (process.env.PODNS_POD_PIDS_LIMIT ? Number(process.env.PODNS_POD_PIDS_LIMIT) : DEFAULT_POD_PIDS_LIMIT);
  if (!Number.isSafeInteger(pids)) throw new UserError('EINVAL', `pod pids limit must be an integer, got "${pids}"`);
  const plan: PodCgroupPlan = { host, parents: resolveCgroupParent(parent, host, self) };
  if (pids > 0) plan.pidsLimit = pids;
  return plan;
}

export async function runPods(roots: Roots, file: string, options: RunOptions, warn: (line: string) => void): Promise<string[]> {
  const { pods, warnings, configMaps, secrets } = await loadManifests(file);
  warnings.forEach(warn);
  const network = loadNetworkConfig(roots.etc);
  const plans: PodSpecFile[] = [];
  const pulled = new Map<string, Promise<ImageRecord>>();
  for (const loaded of pods) {
    const uid = loaded.metadata.uid ?? randomUuid();
    const envCtx = envContext(loaded, uid, { configMaps, secrets });
    const pod = planPodSpec(loaded, envCtx, roots);
    const images = await resolveImages(pod, imagesDir(roots), warn, roots, pulled, pullSecretAuths(pod, { configMaps, secrets }));
    plans.push({
      pod,
      uid,
      images,
      processes: planProcesses(pod, uid, images, envCtx, network.clusterDomain, warn),
      network,
      infra: infraOf(pod, options),
      ...(pod.spec.hostUsers === false ? { userNamespaceRanges: loadUserNamespaceRanges(roots.etc) } : {}),
      ...(backOffScale() !== 1 ? { backOffScale: backOffScale() } : {}),
    });
  }

  const cgroup = planCgroups(options);
  for (const plan of plans) plan.cgroup = cgroup;
  const started: string[] = [];
  for (const plan of plans) {
    await runPod(roots, plan, options);
    started.push(plan.pod.metadata.name);
  }
  return started;
}

async function runPod(roots: Roots, plan: PodSpecFile, options: RunOptions): Promise<void> {
  const { name, namespace } = plan.pod.metadata;
  const id = podId(namespace, name);
  const paths = podPaths(roots, id, `${namespace}_${name}_${plan.uid}`);
  if (options.replace && fs.existsSync(paths.runDir)) await (await import('./rm.js')).removePod(roots, namespace, name, true);

  // mkdir is the reservation: of two concurrent runs of one pod, exactly one creates the directory.
  try {
    fs.mkdirSync(paths.runDir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError('EEXIST', `pod "${name}" already exists (use --replace, or podns rm -f ${name})`);
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      fs.mkdirSync(podsRunDir(roots), { recursive: true, mode: 0o700 });
      return runPod(roots, plan, options);
    }
    throw err;
  }
  writeJsonAtomic(paths.specFile, { ...plan, paths, reservedBy: processRef(process.pid) });

  let socket: net.Socket;
  try {
    socket = await connectSupervisor(roots);
  } catch (err) {
    fs.rmSync(paths.runDir, { recursive: true, force: true });
    throw err;
  }
  socket.write(JSON.stringify({ op: 'run', runDir: paths.runDir } satisfies SupervisorRequest) + '\n');
  // Ctrl-C abandons the start: the supervisor undoes the pod (as for `podns rm -f` during a start) and we
  // return once that is done. The handler stays until then, so a second Ctrl-C cannot cut the teardown short.
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort();
  process.on('SIGINT', onInterrupt);
  try {
    const outcome = await awaitStartReport(lineSource(socket), supervisorSilenceLimitMs(), interrupt.signal);
    if (outcome.kind === 'report' && outcome.report.ok) return;
    await failedStart(roots, id, name, outcome);
  } finally {
    socket.destroy();
    process.off('SIGINT', onInterrupt);
  }
}

/** The socket's lines as awaitStartReport reads them. */
function lineSource(socket: net.Socket): ReportSource {
  const listeners: ((line: string) => void)[] = [];
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const from = text.lastIndexOf('\n') + 1;
    text += chunk;
    for (const line of text.slice(from).split('\n').slice(0, -1)) for (const l of listeners) l(line);
  });
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  return { onLine: (l) => listeners.push(l), report: closed };
}

/**
 * After anything but a good report: nothing of the pod may outlive `run`. A reported failure was undone by the
 * supervisor; after a Ctrl-C, or a supervisor that died mid-start (the next one adopted the half-started pod),
 * the pod is removed. Throws the one-line error.
 */
async function failedStart(roots: Roots, id: string, name: string, outcome: StartOutcome): Promise<never> {
  const removeIt = async () => {
    const response = await callSupervisor(roots, { op: 'remove', pod: id, force: true });
    if (!response.ok) throw new PodnsError('run.undo', `pod "${name}": the start failed and removing it failed too: ${response.error}`);
  };
  let why: string;
  let step = 'supervisor';
  switch (outcome.kind) {
    case 'report':
      why = outcome.report.error ?? 'the supervisor reported a failure without saying why';
      step = outcome.report.step ?? step;
      break;
    case 'died':
      await removeIt();
      why = `the supervisor died while starting it (see ${supervisorPaths(roots).log}); the pod was removed`;
      break;
    case 'silent':
      // Our going away is the supervisor's cue: once it runs again it abandons the start and undoes the pod.
      why = `the supervisor gave no sign of life for ${supervisorSilenceLimitMs() / 1000} s; the start was abandoned (the supervisor undoes it once it runs again)`;
      break;
    case 'interrupted':
      await removeIt();
      why = 'start interrupted (SIGINT); the pod was removed';
      step = 'run.interrupted';
  }
  throw new PodnsError(step, `pod "${name}": ${why}`);
}
