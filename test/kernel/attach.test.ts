/**
 * stdin, tty and attach against the real kernel: the Kubernetes docs' share-process-namespace example (attach
 * to a shell container with a terminal and see the other container's processes and root), a terminal made in
 * the container's own devpts that follows our window size, Ctrl-P Ctrl-Q detaching, the exit code of the run,
 * stdin pipes with and without stdinOnce, one-line refusals, `exec -t` with a terminal of its own, and what
 * a terminal container writes landing in its log as stdout.
 * Terminal sessions run under script(1), which gives the client a pty of its own, as a user's terminal would.
 * Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, inspect, kernelSkip, podName, podnsBin, sleep, waitFor, type Podns } from './harness.js';
import { BUSYBOX, leaksAfterRemoval } from './support.js';

process.env.PODNS_BACKOFF_SCALE = '0.01';

interface Ctr {
  name: string;
  status: string;
  restartCount: number;
  logPath: string;
  process?: { pid: number };
  reason?: string;
}

/** A podns command on a terminal of its own (script -e: script exits with the command's code), 40x120. */
class TerminalClient {
  output = '';
  readonly done: ResultPromise;

  constructor(podns: Podns, args: string[]) {
    const quoted = [podnsBin, '--root', podns.root, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.done = execa('script', ['-e', '-q', '-c', `stty rows 40 cols 120; exec ${quoted}`, '/dev/null'], {
      env: { PODNS_NETWORK_MODE: 'none' },
      reject: false,
      timeout: 30_000,
    });
    this.done.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  send(text: string): void {
    this.done.stdin!.write(text);
  }

  /** Waits until the output matches; returns the match. */
  async expect(pattern: RegExp, what = String(pattern)): Promise<RegExpMatchArray> {
    return waitFor(() => this.output.match(pattern), 10_000, `${what} in ${JSON.stringify(this.output.slice(-400))}`);
  }

  async exitCode(): Promise<number | undefined> {
    this.done.stdin!.end();
    return (await this.done).exitCode;
  }
}

describe.skipIf(kernelSkip)('attach, stdin and tty', () => {
  let podns: Podns;
  const docs = podName('att-docs');
  const io = podName('att-io');
  const ctr = async (pod: string, name: string) => ((await inspect(podns, pod)) as unknown as { containers: Ctr[] }).containers.find((c) => c.name === name)!;

  beforeAll(async () => {
    podns = await createPodns();
    // https://kubernetes.io/docs/tasks/configure-pod-container/share-process-namespace/ (the shell without a
    // command: the image's sh is what `kubectl attach -it nginx -c shell` talks to).
    await podns.ok([
      'run',
      podns.writeManifest(
        docs,
        `apiVersion: v1
kind: Pod
metadata: {name: ${docs}}
spec:
  shareProcessNamespace: true
  containers:
  - name: nginx
    image: nginx
  - name: shell
    image: ${BUSYBOX}
    securityContext:
      capabilities:
        add: [SYS_PTRACE]
    stdin: true
    tty: true
`,
      ),
    ]);
    await podns.ok([
      'run',
      podns.writeManifest(
        io,
        `apiVersion: v1
kind: Pod
metadata: {name: ${io}}
spec:
  restartPolicy: OnFailure
  containers:
  - name: once
    image: ${BUSYBOX}
    command: ["cat"]
    stdin: true
    stdinOnce: true
  - name: reader
    image: ${BUSYBOX}
    command: ["sh", "-c", "while read line; do echo \\"got $line\\"; done; echo eof"]
    stdin: true
  - name: plain
    image: ${BUSYBOX}
    command: ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]
`,
      ),
    ]);
  });
  afterAll(async () => {
    for (const p of [docs, io]) await podns?.run(['rm', '-f', p]);
    await podns?.dispose();
  });

  it("the docs' example: attach -it to the shell sees nginx's processes and root; the terminal is the container's own", async () => {
    const t = new TerminalClient(podns, ['attach', '-it', docs, '-c', 'shell']);
    await t.expect(/try pressing enter/);
    t.send('ps ax\n');
    const [, nginx] = await t.expect(/^ +(\d+) +\w+ +nginx: master process/m);
    expect(t.output).toMatch(/^ +1 +65535 +\/pause\r?$/m); // the pause, uid 65535 once it dropped root
    // SYS_PTRACE: another container's root, through the shared PID namespace.
    t.send(`ls /proc/${nginx}/root/usr/sbin/nginx; tty; stty size; echo TERM=$TERM\n`);
    await t.expect(/^TERM=xterm\r?$/m);
    expect(t.output).toMatch(new RegExp(`^/proc/${nginx}/root/usr/sbin/nginx\r?$`, 'm'));
    expect(t.output).toMatch(/^\/dev\/pts\/0\r?$/m);
    // Our window size, sent by the client, is the container terminal's.
    expect(t.output).toMatch(/^40 120\r?$/m);
    // One \r per line: our terminal does no output processing of its own in raw mode.
    expect(t.output).not.toMatch(/\r\r\n/);
    const shell = await ctr(docs, 'shell');
    t.send('\x10\x11'); // Ctrl-P Ctrl-Q
    expect(await t.exitCode()).toBe(0);
    const after = await ctr(docs, 'shell');
    expect(after.status).toBe('running');
    expect(after.process!.pid).toBe(shell.process!.pid);
  });

  it('a second attach reaches the same shell; exit ends the session with its code and the container restarts', async () => {
    const t = new TerminalClient(podns, ['attach', '-it', docs, '-c', 'shell']);
    await t.expect(/try pressing enter/);
    t.send('echo marker-$((6*7))\n');
    await t.expect(/marker-42/);
    t.send('exit 7\n');
    expect(await t.exitCode()).toBe(7);
    // restartPolicy Always: the shell comes back (after the scaled back-off), with a new terminal.
    await waitFor(async () => (await ctr(docs, 'shell')).restartCount === 1 && (await ctr(docs, 'shell')).status === 'running', 10_000, 'the restart');
    // The terminal's output is the log's stdout, one record per line, the \r of the terminal's \r\n dropped.
    const log = fs.readFileSync((await ctr(docs, 'shell')).logPath.replace(/1\.log$/, '0.log'), 'utf8');
    expect(log).toMatch(/ stdout F marker-42\n/);
    expect(log).not.toMatch(/ stderr /);
  });

  it('stdinOnce: piped input reaches cat, which sees EOF when it ends; the session ends with the exit code', async () => {
    const r = await podns.run(['attach', '-i', io, '-c', 'once'], { input: 'one\ntwo\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('one\ntwo'); // execa drops the final newline
    await waitFor(async () => (await ctr(io, 'once')).status === 'exited', 5000, 'cat to exit');
    expect((await ctr(io, 'once')).reason).toBe('Completed');
    expect(await podns.ok(['logs', io, '-c', 'once'])).toBe('one\ntwo');
  });

  it("without stdinOnce the container's stdin stays open across sessions", async () => {
    const first = execa(podnsBin, ['--root', podns.root, 'attach', '-i', io, '-c', 'reader'], { env: { PODNS_NETWORK_MODE: 'none' }, reject: false });
    let out = '';
    first.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    first.stdin!.end('a\n');
    await waitFor(() => out.includes('got a'), 5000, 'got a');
    // Our stdin ended; the session stays (the container's stdin is not ours to close) until we leave.
    let ended = false;
    void first.finally(() => (ended = true));
    await sleep(200);
    expect(ended).toBe(false);
    first.kill('SIGINT');
    await first;
    const second = await podns.run(['attach', '-i', io, '-c', 'reader'], { input: 'b\n', timeout: 1500 });
    expect(second.stdout).toContain('got b');
    expect(second.stdout).not.toContain('eof');
    expect((await ctr(io, 'reader')).status).toBe('running');
  });

  it('attach without -i streams output only; -i without stdin: true and attaching an exited container are refused in one line', async () => {
    const watcher = execa(podnsBin, ['--root', podns.root, 'attach', io, '-c', 'plain'], { env: { PODNS_NETWORK_MODE: 'none' }, reject: false });
    let out = '';
    watcher.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.split('tick').length > 2, 5000, 'ticks');
    watcher.kill('SIGINT');
    await watcher;

    const noStdin = await podns.fails(['attach', '-i', io, '-c', 'plain']);
    expect(noStdin.stderr.trim().split('\n')).toHaveLength(1);
    expect(noStdin.stderr).toMatch(/container "plain" .* was not started with stdin: true/);
    const exited = await podns.fails(['attach', io, '-c', 'once']);
    expect(exited.stderr.trim().split('\n')).toHaveLength(1);
    expect(exited.stderr).toMatch(/container "once" of pod .* is not running \(Completed\)/);
    const missing = await podns.fails(['attach', io, '-c', 'nope']);
    expect(missing.stderr).toMatch(/has no container "nope"/);
  });

  it('-t on a container without a terminal warns as kubectl does and attaches without one', async () => {
    const t = new TerminalClient(podns, ['attach', '-t', io, '-c', 'plain']);
    await t.expect(/Unable to use a TTY - container plain did not allocate one/);
    await t.expect(/tick/);
    t.send('\x03'); // no raw mode: Ctrl-C interrupts our client
    expect([0, 130]).toContain(await t.exitCode());
    expect((await ctr(io, 'plain')).status).toBe('running');
  });

  it('exec -it gives the command a terminal in the container, sized as ours; its exit code comes back', async () => {
    const t = new TerminalClient(podns, ['exec', '-it', io, '-c', 'plain', '--', 'sh']);
    t.send('tty; stty size; echo TERM=$TERM\n');
    await t.expect(/^TERM=\w+\r?$/m);
    expect(t.output).toMatch(/^\/dev\/pts\/\d+\r?$/m);
    expect(t.output).toMatch(/^40 120\r?$/m);
    t.send('exit 5\n');
    expect(await t.exitCode()).toBe(5);
    // Without a terminal on our side, -t is dropped with kubectl's warning.
    const r = await podns.run(['exec', '-t', io, '-c', 'plain', '--', 'tty']);
    expect(r.stderr).toMatch(/Unable to use a TTY - input is not a terminal/);
    expect(r.stdout.trim()).toBe('not a tty');
  });

  it('a client that stops reading is cut off after 4 MiB; the container and its log go on', async () => {
    const loud = podName('att-loud');
    await podns.ok(['run', podns.writeManifest(loud, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${loud}}\nspec:\n  containers:\n  - name: loud\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "sleep 0.5; yes 0123456789abcdef | head -c 20000000; echo; echo done; exec sleep 3600"]\n`)]);
    const socket = net.createConnection(path.join(podns.root, 'run', 'podns.sock'));
    socket.write(JSON.stringify({ op: 'attach', pod: loud, container: 'loud', stdin: false }) + '\n');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // never read while the container writes
    await waitFor(async () => (await podns.ok(['logs', loud, '--tail', '1'])) === 'done', 20_000, 'all output in the log');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    const got = Buffer.concat(chunks);
    expect(got.length).toBeLessThan(8 * 1024 * 1024);
    expect(got.subarray(-200).toString()).toMatch(/"error":"attach: the client read nothing of the last 4 MiB/);
    expect((await ctr(loud, 'loud')).status).toBe('running');
    await podns.ok(['rm', '-f', loud]);
  });

  it('rm -f leaves nothing of the pods, their terminals and pipes', async () => {
    await podns.ok(['rm', '-f', docs]);
    await podns.ok(['rm', '-f', io]);
    expect(await leaksAfterRemoval(podns.root, [docs, io])).toEqual([]);
  });
});
