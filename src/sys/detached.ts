/**
 * Starts a long-lived helper (the supervisor) detached from the caller: its own session, stdout/stderr appended to
 * a log file, and a socket on fd 3 (Node's stdio 'pipe' is a socketpair) over which the caller sends one line
 * of work and the helper answers with lines of report until it closes its end. The caller then leaves; the
 * helper lives on.
 *
 * Starting the helper before the caller knows the work lets the two Node start-ups overlap.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Duplex } from 'node:stream';

export interface DetachedHelper {
  pid: number;
  /** Sends the one line of work. */
  send(line: string): void;
  /** Closes the channel without work: the helper exits. */
  cancel(): void;
  /** Everything the helper wrote on fd 3 before closing it (or exiting). */
  report: Promise<string>;
  /** Calls `listener` with each complete line from fd 3 as it arrives (lines already received first). */
  onLine(listener: (line: string) => void): void;
  /** Resolves when the helper process has exited. */
  exited: Promise<void>;
}

export function startDetached(argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): DetachedHelper {
  const log = fs.openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log, 'pipe'], env });
    const channel = child.stdio[3] as Duplex;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const lines: string[] = [];
    const listeners: ((line: string) => void)[] = [];
    const report = new Promise<string>((resolve) => {
      let text = '';
      channel.setEncoding('utf8');
      channel.on('data', (chunk: string) => {
        const from = text.lastIndexOf('\n') + 1;
        text += chunk;
        for (const line of text.slice(from).split('\n').slice(0, -1)) {
          lines.push(line);
          for (const l of listeners) l(line);
        }
      });
      channel.on('end', () => resolve(text));
      channel.on('error', () => resolve(text));
      // fd 3 closes with the helper, and its last lines come before that EOF; the exit (which may be seen
      // first) ends the wait only should the EOF not follow, e.g. if a descendant inherited the fd.
      child.on('exit', () => setTimeout(() => resolve(text), 500));
    });
    void report.finally(() => {
      channel.destroy();
      child.unref();
    });
    void exited;
    return {
      pid: child.pid ?? -1,
      send: (line) => channel.write(`${line}\n`),
      cancel: () => channel.end(),
      report,
      onLine: (listener) => {
        lines.forEach(listener);
        listeners.push(listener);
      },
      exited,
    };
  } finally {
    fs.closeSync(log);
  }
}

