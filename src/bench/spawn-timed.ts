/** Spawning a command and timing it, process.hrtime from just before the spawn to its exit. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Done {
  ms: number;
  /** hrtime (ns) just before the spawn. */
  start: bigint;
  /** hrtime (ns) of the exit. */
  end: bigint;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Children not yet exited, so a signal handler can stop them. */
export const live = new Set<ChildProcess>();

/** Spawns argv and resolves when it has exited and its pipes are closed (or 1 s after its exit). */
export function timed(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Done> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let exit: { end: bigint; code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      clearTimeout(timer);
      live.delete(child);
      resolve({ ms: Number(exit.end - start) / 1e6, start, ...exit, stdout, stderr });
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      settled = true;
      reject(new Error(`cannot run ${argv[0]}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      exit = { end: process.hrtime.bigint(), code, signal };
      // A grandchild may hold our pipes; the exit is what we time, the close only completes the output.
      setTimeout(finish, 1000).unref();
    });
    child.on('close', finish);
  });
}

/** "argv: exit N: last lines of stderr". */
export function describe(argv: string[], r: Done): string {
  const status = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
  return `${argv.join(' ')}: ${status}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
}
