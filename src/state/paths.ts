/**
 * Where podns keeps things. Three roots, as kubelet and containerd split them: runtime state on tmpfs (gone at
 * reboot, like the processes it describes), persistent data (images, volumes, container upper dirs), logs.
 * `--root DIR` or PODNS_ROOT puts all three under one directory, so test instances run side by side.
 */
import path from 'node:path';

export interface Roots {
  /** The directory given by --root or PODNS_ROOT, if any (the supervisor is started with it). */
  base?: string;
  run: string;
  lib: string;
  log: string;
  /** Configuration (registries.json, auth.json): `/etc/podns`, or DIR/etc under --root. */
  etc: string;
}

export function resolveRoots(root?: string): Roots {
  const base = root ?? process.env.PODNS_ROOT;
  if (base) {
    const abs = path.resolve(base);
    return { base: abs, run: path.join(abs, 'run'), lib: path.join(abs, 'lib'), log: path.join(abs, 'log'), etc: path.join(abs, 'etc') };
  }
  return { run: '/run/podns', lib: '/var/lib/podns', log: '/var/log/podns', etc: '/etc/podns' };
}

/** Everything of one pod, named. */
export interface PodPaths {
  id: string;
  runDir: string;
  /** The pod manager's record (status.json); the runtime's are sandbox.json and containers/ beside it. */
  statusFile: string;
  specFile: string;
  eventsFile: string;
  /** The step log of `--explain`. */
  stepsFile: string;
  pauseRoot: string;
  libDir: string;
  etcDir: string;
  shmDir: string;
  volumesDir: string;
  containersDir: string;
  logDir: string;
  netnsPin: string;
  /** podns's data root: Localhost seccomp profiles live in its seccomp/ folder. */
  libRoot: string;
}

export function podId(namespace: string, name: string): string {
  return namespace === 'default' ? name : `${namespace}_${name}`;
}

export function podPaths(roots: Roots, id: string, logDirName: string): PodPaths {
  const runDir = path.join(roots.run, 'pods', id);
  const libDir = path.join(roots.lib, 'pods', id);
  return {
    id,
    runDir,
    statusFile: path.join(runDir, 'status.json'),
    specFile: path.join(runDir, 'spec.json'),
    eventsFile: path.join(runDir, 'events.jsonl'),
    stepsFile: path.join(runDir, 'steps.jsonl'),
    pauseRoot: path.join(runDir, 'pause-root'),
    libDir,
    etcDir: path.join(libDir, 'etc'),
    shmDir: path.join(libDir, 'shm'),
    volumesDir: path.join(libDir, 'volumes'),
    containersDir: path.join(libDir, 'containers'),
    logDir: path.join(roots.log, 'pods', logDirName),
    netnsPin: netnsPinPath(roots, id),
    libRoot: roots.lib,
  };
}

/** A sandbox kubelet made over the CRI: podns's run and data directories by its id, kubelet's log directory. */
export function criSandboxPaths(roots: Roots, id: string, logDirectory: string): PodPaths {
  return { ...podPaths(roots, id, id), logDir: logDirectory };
}

/** Where `ip netns` looks for names, whatever podns's root is. */
export const NETNS_DIR = '/run/netns';

/**
 * The name of a pod's network namespace pin in /run/netns: `podns-<8 hex of the root>-<pod id>`, e.g.
 * `podns-3f1c09a2-web` (what `ip netns list` shows). /run/netns is one directory for the whole host, so the
 * root's hash keeps two roots' pods of one name apart (`--root A` and `--root B` may both run `web`), and the
 * pod id says which pod it is. A name stays within NAME_MAX: an id too long for it (a namespace and a name may
 * have 63 + 253 characters) keeps its start and ends in a hash of the whole id.
 * Pods started before this naming keep their `/run/netns/<id>`: the pin is recorded (spec.json's paths and
 * sandbox.json), and every teardown and adoption reads the record, never this function.
 */
export function netnsPinName(roots: Pick<Roots, 'run'>, id: string): string {
  const prefix = netnsPinPrefix(roots);
  if (prefix.length + id.length <= NAME_MAX) return prefix + id;
  return `${prefix}${id.slice(0, NAME_MAX - prefix.length - 9)}-${fnv1a(id)}`;
}

/** What every pin of this root's pods begins with (`podns gc` recognises its own pins by it). */
export function netnsPinPrefix(roots: Pick<Roots, 'run'>): string {
  return `podns-${fnv1a(roots.run)}-`;
}

export function netnsPinPath(roots: Pick<Roots, 'run'>, id: string): string {
  return path.join(NETNS_DIR, netnsPinName(roots, id));
}

const NAME_MAX = 255;

/**
 * 32-bit FNV-1a, as 8 hex digits: enough to tell the few roots of one host apart, and no node:crypto (~5 ms of
 * a CLI start) on `podns run`'s path.
 */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export function podsRunDir(roots: Roots): string {
  return path.join(roots.run, 'pods');
}

/** Named volumes (persistentVolumeClaim): <lib>/volumes/<namespace>/<claimName>, kept across pods. */
export function namedVolumesDir(roots: Roots): string {
  return path.join(roots.lib, 'volumes');
}

export function namedVolumeDir(roots: Roots, namespace: string, claimName: string): string {
  return path.join(namedVolumesDir(roots), namespace, claimName);
}

export function imagesDir(roots: Roots): string {
  return path.join(roots.lib, 'images');
}

/** The supervisor of a root (one process for all its pods): its control socket, pid/lock file and log. */
export interface SupervisorPaths {
  /** JSON-lines control socket (root-only: the run root is 0700). */
  socket: string;
  /** `<pid> <starttime>`, created with O_EXCL: the lock that makes the supervisor one per root. */
  pidFile: string;
  log: string;
  /** The CRI v1 endpoint (gRPC), for kubelet and crictl: /run/podns/cri.sock for the default root. */
  criSocket: string;
}

export function supervisorPaths(roots: Roots): SupervisorPaths {
  return {
    socket: path.join(roots.run, 'podns.sock'),
    pidFile: path.join(roots.run, 'supervisor.pid'),
    log: path.join(roots.run, 'supervisor.log'),
    criSocket: path.join(roots.run, 'cri.sock'),
  };
}
