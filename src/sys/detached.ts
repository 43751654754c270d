/**
 * Starts a long-lived helper (the shim) detached from the caller: its own session, stdout/stderr appended to
 * a log file, and a pipe on fd 3 on which it reports whether it started. The caller reads that report and
 * leaves; the helper lives on.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export interface DetachedStart {
  pid: number;
  /** Everything the helper wrote on fd 3 before closing it (or exiting). */
  report: Promise<string>;
}

export function startDetached(argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): DetachedStart {
  const log = fs.openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log, 'pipe'], env });
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    const report = new Promise<string>((resolve) => {
      let text = '';
      pipe.setEncoding('utf8');
      pipe.on('data', (chunk: string) => (text += chunk));
      pipe.on('end', () => resolve(text));
      pipe.on('error', () => resolve(text));
    });
    report.finally(() => child.unref());
    return { pid: child.pid ?? -1, report };
  } finally {
    fs.closeSync(log);
  }
}
