/**
 * Helpers shared by the kernel test files beyond harness.ts: reading /proc on the host, building small pod
 * manifests, and checking that an error is one clean line.
 */
import fs from 'node:fs';
import { expect } from 'vitest';
import type { Podns } from './harness.js';

export const BUSYBOX = 'yauritux/busybox-curl';
export const SLEEPER = '["/bin/sh", "-c", "while true; do sleep 3600; done"]';

/** The fields of /proc/<pid>/status, or undefined when the process is gone. */
export function procStatus(pid: number): Record<string, string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** The pid as seen in the process's innermost PID namespace. */
export function innerPid(pid: number): number {
  const nspid = procStatus(pid)?.NSpid?.split(/\s+/) ?? [];
  return Number(nspid[nspid.length - 1]);
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Every live pid on the host with its state letter and parent. */
export function hostProcesses(): { pid: number; state: string; ppid: number; cmd: string }[] {
  const out: { pid: number; state: string; ppid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ pid: Number(entry), state: fields[0]!, ppid: Number(fields[1]), cmd: cmdline(Number(entry)) });
  }
  return out;
}

/** Mount points of the host (the test process's mount namespace). */
export function hostMountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter(Boolean);
}

/** A one-container busybox pod (more containers and spec lines may be added as YAML). */
export function podYaml(name: string, opts: { spec?: string; containers?: string; volumes?: string } = {}): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
${opts.spec ?? ''}  containers:
${opts.containers ?? `  - name: main\n    image: ${BUSYBOX}\n    command: ${SLEEPER}\n`}${opts.volumes ? `  volumes:\n${opts.volumes}` : ''}`;
}

/** A failure for the user: exit code 1 and exactly one stderr line, with no stack trace. */
export function expectCleanError(r: { stderr: string; exitCode: number | undefined }, pattern?: RegExp): void {
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr, 'no stack trace').not.toMatch(/^\s+at /m);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^podns: /);
  if (pattern) expect(lines[0]).toMatch(pattern);
}

/** Runs a shell command in a container; returns trimmed stdout and the exit code. */
export async function sh(podns: Podns, pod: string, container: string, script: string): Promise<{ out: string; err: string; code: number | undefined }> {
  const r = await podns.run(['exec', pod, '-c', container, '--', 'sh', '-c', script]);
  return { out: String(r.stdout).trim(), err: String(r.stderr).trim(), code: r.exitCode };
}

/** Runs podns and expects success; returns trimmed stdout. */
export async function shOk(podns: Podns, pod: string, container: string, script: string): Promise<string> {
  const r = await sh(podns, pod, container, script);
  if (r.code !== 0) throw new Error(`exec ${container}: ${script} failed (${r.code}): ${r.err}`);
  return r.out;
}

/**
 * What a removed pod left behind, checked at once: `podns rm` and `stop POD` return only after the pod's
 * processes have exited (exec-stop-rm.test.ts proves it), so mounts, pins, dirs and processes must all be gone already.
 */
export async function leaksAfterRemoval(root: string, pods: string[]): Promise<string[]> {
  const { findLeaks } = await import('./harness.js');
  return findLeaks(root, pods);
}

/** The process exists and is not a zombie (a zombie has exited; only its parent's wait is pending). */
export function isRunning(pid: number): boolean {
  const st = procStatus(pid);
  return st !== undefined && !st.State?.startsWith('Z');
}
