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
    // `ip netns` looks in /run/netns whatever podns's root is; the id keeps two namespaces' pods apart.
    netnsPin: path.join('/run/netns', id),
    libRoot: roots.lib,
  };
}

/** A sandbox kubelet made over the CRI: podns's run and data directories by its id, kubelet's log directory. */
export function criSandboxPaths(roots: Roots, id: string, logDirectory: string): PodPaths {
  return { ...podPaths(roots, id, id), logDir: logDirectory };
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
