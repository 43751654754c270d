/** `podns run FILE`: validate, resolve images, reserve the name, start the shim, wait for its word. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { PodnsError, UserError } from '../../errors.js';
import { ImageStore } from '../../image/image-store.js';
import { formatImageReference, parseImageReference } from '../../image/reference.js';
import type { ImageRecord } from '../../image/types.js';
import { loadManifests, type LoadedManifests } from '../../manifest/load-manifest.js';
import { pullSecretAuths } from '../../manifest/config-refs.js';
import type { PodManifest } from '../../manifest/types.js';
import { writeJsonAtomic } from '../../state/atomic-file.js';
import { namedVolumeDir, imagesDir, podId, podPaths, type PodPaths, type Roots } from '../../state/paths.js';
import { readPodState, type Infra, type PodSpecFile, type ProcessSpec } from '../../state/pod-state.js';
import { planProcess } from '../../runtime/container-plan.js';
import { resolveDownwardAPI } from '../../runtime/downward-api.js';
import { nodeAddresses, type EnvContext } from '../../runtime/env.js';
import { expandSubPathExprs } from '../../runtime/subpath-expr.js';
import { kernelHostname, podDomain, podHostname } from '../../runtime/pod-files.js';
import { loadNetworkConfig } from '../../network/network-config.js';
import { SpawnRunner } from '../../sys/command.js';
import { takeShim, type StartedShim } from '../early-shim.js';
import { awaitStartReport, shimSilenceLimitMs, type StartOutcome } from '../start-wait.js';
import { detectCgroups, parseProcCgroup, resolveCgroupParent } from '../../cgroup/layout.js';
import { DEFAULT_POD_PIDS_LIMIT } from '../../cgroup/resources.js';
import type { PodCgroupPlan } from '../../state/pod-state.js';

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
  store: ImageStore,
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
    const local = await store.get(c.image);
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
      pulling = import('../../image/pull.js').then(({ pullImage }) => pullImage(store, c.image, { etcDir: roots.etc, pullSecrets })).then((r) => r.record);
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
 * The pod's spec as the shim runs it, with what only `podns run` knows: the downward API's files resolved and
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
 * sources are resolved from the file's ConfigMaps and Secrets and the node; status.podIP waits for the shim.
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
  let early: StartedShim | undefined = takeShim(roots);
  try {
    const { pods, warnings, configMaps, secrets } = await loadManifests(file);
    warnings.forEach(warn);
    const store = new ImageStore(imagesDir(roots), new SpawnRunner());
    const network = loadNetworkConfig(roots.etc);
    const plans: PodSpecFile[] = [];
    const pulled = new Map<string, Promise<ImageRecord>>();
    for (const loaded of pods) {
      const uid = loaded.metadata.uid ?? randomUUID();
      const envCtx = envContext(loaded, uid, { configMaps, secrets });
      const pod = planPodSpec(loaded, envCtx, roots);
      const images = await resolveImages(pod, store, warn, roots, pulled, pullSecretAuths(pod, { configMaps, secrets }));
      plans.push({ pod, uid, images, processes: planProcesses(pod, uid, images, envCtx, network.clusterDomain, warn), network, infra: infraOf(pod, options) });
    }

    const cgroup = planCgroups(options);
    for (const plan of plans) plan.cgroup = cgroup;
    const started: string[] = [];
    for (const plan of plans) {
      const shim = early ?? takeShim(roots);
      early = undefined;
      await runPod(roots, plan, options, shim);
      started.push(plan.pod.metadata.name);
    }
    return started;
  } finally {
    if (early) {
      early.shim.cancel();
      await early.shim.report;
      fs.rmSync(early.log, { force: true });
    }
  }
}

async function runPod(roots: Roots, plan: PodSpecFile, options: RunOptions, started: StartedShim): Promise<void> {
  const { name, namespace } = plan.pod.metadata;
  const id = podId(namespace, name);
  const paths = podPaths(roots, id, `${namespace}_${name}_${plan.uid}`);
  if (options.replace && fs.existsSync(paths.runDir)) await (await import('./rm.js')).removePod(roots, namespace, name, true);

  // mkdir is the reservation: of two concurrent runs of one pod, exactly one creates the directory.
  try {
    fs.mkdirSync(paths.runDir, { mode: 0o700 });
  } catch (err) {
    started.shim.cancel();
    await started.shim.report;
    fs.rmSync(started.log, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError('EEXIST', `pod "${name}" already exists (use --replace, or podns rm -f ${name})`);
    }
    throw err;
  }
  writeJsonAtomic(paths.specFile, { ...plan, paths });

  started.shim.send(paths.runDir);
  // Ctrl-C abandons the start: the shim (in its own session, so the terminal's SIGINT does not reach it) is
  // killed and the pod undone from its state, as after a stuck shim. The handler stays until that is done, so
  // a second Ctrl-C cannot cut the teardown short.
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort();
  process.on('SIGINT', onInterrupt);
  try {
    const outcome = await awaitStartReport(started.shim, shimSilenceLimitMs(), interrupt.signal);
    if (outcome.kind === 'report' && outcome.report.ok) return;
    await undoFailedStart(paths, started, outcome, name);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** After anything but a good report: nothing of the pod may outlive `run`. Throws the one-line error. */
async function undoFailedStart(paths: PodPaths, started: StartedShim, outcome: StartOutcome, name: string): Promise<never> {
  if (outcome.kind === 'silent' || outcome.kind === 'interrupted') {
    try {
      process.kill(started.shim.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  // A shim exits right after reporting a failure; wait for it, so that nothing of the pod outlives `run`.
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([started.shim.exited, new Promise((r) => (waited = setTimeout(r, 5000)))]);
  clearTimeout(waited);

  // The shim undoes a failed start itself; if it died without a word (or was killed), undo from the state on disk.
  const shimLog = fs.existsSync(paths.shimLog) ? fs.readFileSync(paths.shimLog, 'utf8') : '';
  const state = readPodState(paths.stateFile);
  if (fs.existsSync(paths.runDir)) {
    if (state) await (await import('../../runtime/pod-teardown.js')).teardownPod(state, paths);
    else for (const dir of [paths.runDir, paths.libDir, paths.logDir]) fs.rmSync(dir, { recursive: true, force: true });
  }
  const report = outcome.kind === 'report' ? outcome.report : undefined;
  let why: string;
  switch (outcome.kind) {
    case 'report':
      why = outcome.report.error ?? 'the shim reported a failure without saying why';
      break;
    case 'died':
      why = `shim exited without reporting (log: ${shimLog.trim().split('\n').pop() || 'empty'})`;
      break;
    case 'silent':
      why = `the shim gave no sign of life for ${shimSilenceLimitMs() / 1000} s; the start was abandoned and the pod removed`;
      break;
    case 'interrupted':
      why = 'start interrupted (SIGINT); the pod was removed';
  }
  const error = new PodnsError(report?.step ?? (outcome.kind === 'interrupted' ? 'run.interrupted' : 'shim'), `pod "${name}": ${why}`);
  if (report?.stack) error.stack = report.stack;
  throw error;
}
