/**
 * CRI ExecSync: a command run in a running container, from the supervisor — what kubelet uses for exec lifecycle
 * hooks and exec probes. The same spawn as `podns exec` (planExecSpawn: the container's namespaces, user, cwd,
 * env and confinement, its saved seccomp program), into the container's cgroup, with no stdin and its output
 * collected (for the hook's event message, kubelet's 10 KiB).
 */
import fs from 'node:fs';
import net from 'node:net';
import { PodnsError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import { planExecSpawn } from './container-plan.js';
import type { ProcessSpec, ProcessRef } from '../state/pod-state.js';

/** An exec that ran past its timeout (and was SIGKILLed); `code` is what probes.ts recognises. */
export class ExecTimeout extends PodnsError {
  readonly code = 'ETIMEDOUT';
}

/** kubelet keeps this much of an exec's output (pkg/kubelet/util/ioutils LimitWriter, maxRespBodyLength 10 KiB). */
const MAX_OUTPUT = 10 * 1024;

export interface ExecOptions {
  /** The container's cgroup.procs files (CgroupDriver.procsFiles): the exec joins them before it execs. */
  cgroupProcsFiles?: string[];
  /** Called once with stdout and stderr together, at most 10 KiB. */
  output?: (text: string) => void;
  /** CRI ExecSync: called once with stdout and stderr apart, each at most `maxBytes`. */
  streams?: { maxBytes: number; done: (stdout: Buffer, stderr: Buffer) => void };
}

/** Reads a pipe's read end, keeping at most `max` bytes; settles when the pipe closes. */
function collect(fd: number, max: number): { bytes: () => Buffer; drained: Promise<void>; destroy: () => void } {
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = new net.Socket({ fd, readable: true, writable: false });
  reader.on('data', (b: Buffer) => {
    if (size < max) chunks.push(b.subarray(0, max - size));
    size += b.length;
  });
  reader.on('error', () => {});
  const drained = new Promise<void>((resolve) => reader.once('close', () => resolve()));
  return { bytes: () => Buffer.concat(chunks), drained, destroy: () => reader.destroy() };
}

/** The running container an exec goes into: its main process, its process spec, its seccomp program. */
export interface ExecTarget {
  name: string;
  process: ProcessRef;
  spec: ProcessSpec;
  seccompFilter?: Buffer;
}

/**
 * Runs `argv` in the container and resolves with its exit code (128 + signal when killed). Past `timeoutMs`
 * the command is SIGKILLed and the promise rejects with ExecTimeout (code ETIMEDOUT); it rejects too when the
 * spawn fails (the container is gone).
 */
export async function execSync(kernel: Kernel, target: ExecTarget, argv: string[], timeoutMs: number, options: ExecOptions = {}): Promise<number> {
  const devNull = fs.openSync('/dev/null', 'r');
  const [outRead, outWrite] = kernel.pipe();
  // Apart only when asked (CRI ExecSync); hooks and probes read both in one.
  const [errRead, errWrite] = options.streams ? kernel.pipe() : [outRead, outWrite];
  let pid: number;
  try {
    const request = planExecSpawn(target.process.pid, target.spec, argv, [devNull, outWrite, errWrite], [], target.seccompFilter);
    if (options.cgroupProcsFiles) request.cgroupProcsFiles = options.cgroupProcsFiles;
    pid = await kernel.spawn(request, `exec in container "${target.name}"`);
  } catch (err) {
    fs.closeSync(outRead);
    if (errRead !== outRead) fs.closeSync(errRead);
    throw err;
  } finally {
    fs.closeSync(outWrite);
    if (errWrite !== outWrite) fs.closeSync(errWrite);
    fs.closeSync(devNull);
  }
  const max = options.streams?.maxBytes ?? MAX_OUTPUT;
  const out = collect(outRead, max);
  const err = errRead !== outRead ? collect(errRead, max) : undefined;
  let timedOut = false;
  const exited = new Promise<number>((resolve, reject) => {
    try {
      kernel.watchExit(pid, (status) => resolve(status.exitCode ?? 128 + (status.signal ?? 0)));
    } catch (e) {
      kernel.killAndReap(pid);
      reject(e);
    }
  });
  // 0: no timeout (CRI's ExecSync), else SIGKILL once it has passed.
  const timer = timeoutMs > 0 ? setTimeout(() => {
    timedOut = true;
    kernel.signal(pid, 'SIGKILL');
  }, timeoutMs) : undefined;
  try {
    const code = await exited;
    // A child the command left behind may hold the pipe: do not wait for it long.
    await Promise.race([Promise.all([out.drained, err?.drained]), new Promise((r) => setTimeout(r, 200).unref())]);
    out.destroy();
    err?.destroy();
    if (options.streams) options.streams.done(out.bytes(), err!.bytes());
    else options.output?.(out.bytes().toString('utf8'));
    if (timedOut) throw new ExecTimeout('runtime.exec', `command ${JSON.stringify(argv)} in container "${target.name}" timed out after ${timeoutMs / 1000} s`);
    return code;
  } finally {
    clearTimeout(timer);
  }
}
