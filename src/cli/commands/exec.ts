/**
 * `podns exec [-i] [-t] POD [-c CTR] -- CMD...`: joins every namespace of the container's main process
 * directly (nsenter-style, no round trip through the supervisor), with the container's env, user and cwd, and
 * exits with the command's exit code. -t gives the command a terminal of its own, made in the container's
 * /dev/pts, relayed to ours.
 */
import { UserError } from '../../errors.js';
import { planExecSpawn } from '../../runtime/exec-plan.js';
import { isAlive } from '../../runtime/proc.js';
import type { Roots } from '../../state/paths.js';
import { spawnProcess, spawnWithTerminal, watchExit } from '../../sys/native.js';
import { cgroupProcsFiles, containerLeaf } from '../../cgroup/layout.js';
import { findContainer, findPod, requireState } from '../pod-lookup.js';
// exec is on the path of every probe a person types: what it loads is what it costs (module-graph.mjs shows
// it). Not `import fs from 'node:fs'` (that also loads fs/promises and streams); -t's modules load with -t.
const fs = process.getBuiltinModule('node:fs');

export interface ExecOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

export async function execInPod(roots: Roots, namespace: string, name: string, argv: string[], options: ExecOptions): Promise<number> {
  if (argv.length === 0) throw new UserError('EUSAGE', 'exec: no command given (podns exec POD -- CMD ...)');
  const state = requireState(findPod(roots, namespace, name));
  // A running init container (a sidecar, or one still initializing) can be entered too, as kubectl exec -c allows.
  const container = findContainer(state, options.container);
  const containerName = container.name;
  if (container.status !== 'running' || !container.process || !isAlive(container.process)) {
    throw new UserError('ENOTRUNNING', `pod "${name}": container "${containerName}" is not running`);
  }
  // kubectl's rule: -t needs a terminal on our side; without one the command runs without a terminal.
  let terminal = options.tty === true;
  if (terminal && !process.stdin.isTTY) {
    process.stderr.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
    terminal = false;
  }
  // Without -i the command gets no stdin, as with kubectl exec.
  const stdin = options.stdin || terminal ? -1 : fs.openSync('/dev/null', 'r');
  const extraEnv = terminal ? [`TERM=${process.env.TERM ?? 'xterm'}`] : [];
  let pid: number;
  let master: number | undefined;
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
    if (state.cgroups) request.cgroupProcsFiles = cgroupProcsFiles(state.cgroups, containerLeaf(containerName));
    const what = `exec in pod "${name}" container "${containerName}"`;
    if (terminal) ({ pid, master } = spawnWithTerminal(request, what));
    else pid = spawnProcess(request, what);
  } finally {
    if (stdin >= 0) fs.closeSync(stdin);
  }
  const exited = new Promise<number>((resolve) => {
    watchExit(pid, (status) => resolve(status.exitCode ?? 128 + (status.signal ?? 0)));
  });
  if (master !== undefined) return relayTerminal(master, exited, options.stdin === true);
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
  return exited;
}

/**
 * exec -t: the command has a terminal of its own in the container (as runc exec -t gives it); we copy between
 * it and ours, in raw mode, with our window size; every key, Ctrl-C included, goes to the command.
 */
async function relayTerminal(master: number, exited: Promise<number>, forwardStdin: boolean): Promise<number> {
  const [tty, { setWindowSize }, { TerminalWriter }, { startLocalTerminal }] = await Promise.all([
    import('node:tty'),
    import('../../sys/native.js'),
    import('../../runtime/terminal-writer.js'),
    import('../local-terminal.js'),
  ]);
  const output = new tty.ReadStream(master);
  const writer = new TerminalWriter(master);
  output.on('error', () => {}); // EIO: the command and everything it started closed the terminal
  output.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  const closed = new Promise<void>((resolve) => output.once('close', () => resolve()));
  output.once('close', () => writer.close());
  const local = startLocalTerminal(
    { terminal: true, forwardStdin },
    {
      input: (chunk) => writer.write(chunk),
      end: () => writer.write(Buffer.from([0x04])),
      resize: (rows, cols) => setWindowSize(master, rows, cols),
    },
  );
  try {
    const code = await exited;
    // Its output still in the terminal comes first; something it left running may hold the terminal open.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 200).unref())]);
    return code;
  } finally {
    local.restore();
    writer.close();
    output.destroy();
  }
}
