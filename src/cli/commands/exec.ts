/**
 * `podns exec [-i] [-t] POD [-c CTR] -- CMD...`: joins every namespace of the container's main process
 * directly (nsenter-style, no round trip through the shim), with the container's env, user and cwd, and
 * exits with the command's exit code.
 */
import fs from 'node:fs';
import { UserError } from '../../errors.js';
import { planExecSpawn } from '../../runtime/container-plan.js';
import { isAlive } from '../../runtime/proc.js';
import type { Roots } from '../../state/paths.js';
import { spawnProcess, watchExit } from '../../sys/native.js';
import { containerLeaf } from '../../cgroup/layout.js';
import { openCgroupDriver } from '../../cgroup/open-driver.js';
import { findPod, requireState } from '../pod-lookup.js';

export interface ExecOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

export function pickContainer(state: { name: string; containers: { name: string }[] }, container: string | undefined): string {
  if (container) {
    if (!state.containers.some((c) => c.name === container)) {
      throw new UserError('ENOCONTAINER', `pod "${state.name}" has no container "${container}" (it has: ${state.containers.map((c) => c.name).join(', ')})`);
    }
    return container;
  }
  // kubectl's default: the first container.
  return state.containers[0]!.name;
}

export async function execInPod(roots: Roots, namespace: string, name: string, argv: string[], options: ExecOptions): Promise<number> {
  if (argv.length === 0) throw new UserError('EUSAGE', 'exec: no command given (podns exec POD -- CMD ...)');
  const state = requireState(findPod(roots, namespace, name));
  const containerName = pickContainer(state, options.container);
  const container = state.containers.find((c) => c.name === containerName)!;
  if (container.status !== 'running' || !container.process || !isAlive(container.process)) {
    throw new UserError('ENOTRUNNING', `pod "${name}": container "${containerName}" is not running`);
  }
  // Without -i the command gets no stdin, as with kubectl exec.
  const stdin = options.stdin ? -1 : fs.openSync('/dev/null', 'r');
  const extraEnv = options.tty ? [`TERM=${process.env.TERM ?? 'xterm'}`] : [];
  let pid: number;
  try {
    const request = planExecSpawn(
      container.process.pid,
      container.spec,
      argv,
      [stdin, -1, -1],
      extraEnv,
      container.seccompFilterFile ? fs.readFileSync(container.seccompFilterFile) : undefined,
    );
    // Into the container's cgroups before it execs, as runc exec does: its limits and the pod's teardown cover it.
    if (state.cgroups) request.cgroupProcsFiles = openCgroupDriver(state.cgroups).procsFiles(containerLeaf(containerName));
    pid = spawnProcess(request, `exec in pod "${name}" container "${containerName}"`);
  } finally {
    if (stdin >= 0) fs.closeSync(stdin);
  }
  // The command shares our terminal and process group: Ctrl-C reaches it; we wait for its verdict.
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      process.kill(pid, sig);
    } catch {
      // exited
    }
  };
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGHUP'));
  return new Promise((resolve) => {
    watchExit(pid, (status) => resolve(status.exitCode ?? 128 + (status.signal ?? 0)));
  });
}
