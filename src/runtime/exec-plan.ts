/**
 * Plans an exec: a process that joins every namespace of a running container, with its environment, user,
 * working directory and confinement. Kept apart from container-plan.ts (which re-exports it, and takes the
 * default PATH and env lookup from here) so that `podns exec` loads this and the confinement rules only, not
 * the planner of mounts, volumes, users and environments a container start needs.
 */
import { securityFor } from '../security/confinement.js';
import type { ProcessSpec } from '../state/pod-state.js';
import type { SpawnRequest } from '../sys/native.js';

/** The PATH a process gets when its environment has none (Docker's and containerd's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function envValue(env: string[], name: string): string | undefined {
  const prefix = `${name}=`;
  return env.findLast((e) => e.startsWith(prefix))?.slice(prefix.length);
}

/** exec: every namespace of the running container, its environment, user and working directory. */
export function planExecSpawn(
  containerPid: number,
  proc: ProcessSpec,
  argv: string[],
  stdio: [number, number, number],
  extraEnv: string[] = [],
  seccompFilter?: Buffer,
): SpawnRequest {
  const ns = (kind: string) => `/proc/${containerPid}/ns/${kind}`;
  const env = [...proc.env, ...extraEnv];
  return {
    // The user namespace only for a pod that has its own (joining one's own namespace again is EINVAL); the
    // addon joins it last, after the mount namespace, which host root made and still owns.
    joinNamespaces: { ipc: ns('ipc'), uts: ns('uts'), net: ns('net'), pid: ns('pid'), cgroup: ns('cgroup'), mnt: ns('mnt'), ...(proc.userNamespace ? { user: ns('user') } : {}) },
    cloneFlags: 0,
    cwd: proc.cwd,
    user: proc.user,
    stdio,
    path: argv[0],
    searchPath: envValue(env, 'PATH') ?? DEFAULT_PATH,
    argv,
    env,
    // The same confinement as the container's own process (runc exec takes the container's process spec).
    security: securityFor(proc.confinement, proc.user.uid, seccompFilter),
  };
}
