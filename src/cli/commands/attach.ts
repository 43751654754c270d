/**
 * `podns attach [-i] [-t] POD [-c CTR]`: kubectl attach / podman attach. Joins the running container's streams
 * through the supervisor (it holds them: src/supervisor/attach-server.ts): its output from now on, our stdin into its stdin
 * (-i, when it was started with stdin: true), our terminal's size into its terminal (tty: true). Ends with the
 * run's exit code, or 0 when detached with Ctrl-P Ctrl-Q; the container runs on after a detach.
 */
import net from 'node:net';
import { UserError } from '../../errors.js';
import { Channel, encodeFrame, FrameReader, type AttachAnswer, type AttachRequest } from '../../supervisor/attach-protocol.js';
import { connectSupervisor } from '../../supervisor/client.js';
import { podId, type Roots } from '../../state/paths.js';
import { startLocalTerminal } from '../local-terminal.js';
import { findContainer, findPod, requireState } from '../pod-lookup.js';

export interface AttachOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  /** Print kubectl's "If you don't see a command prompt" hint (on by default for -it). */
  quiet?: boolean;
}

/** Sends the request and reads the supervisor's answer line; what came after it is the start of the frame stream. */
function openAttach(socket: net.Socket, request: AttachRequest): Promise<{ socket: net.Socket; answer: AttachAnswer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const fail = (message: string) => {
      socket.destroy();
      reject(new UserError('EATTACH', message));
    };
    socket.once('error', (err: NodeJS.ErrnoException) => fail(`attach: the connection to the supervisor failed: ${err.code ?? err.message}`));
    socket.write(JSON.stringify(request) + '\n');
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const nl = buffer.indexOf(0x0a);
      if (nl < 0) return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      let answer: AttachAnswer | { ok: false; error: string };
      try {
        answer = JSON.parse(buffer.subarray(0, nl).toString('utf8'));
      } catch {
        return fail('attach: the supervisor sent an answer that is not JSON');
      }
      if (!answer.ok) return fail(answer.error);
      socket.removeAllListeners('error');
      resolve({ socket, answer, rest: buffer.subarray(nl + 1) });
    };
    const onEnd = () => fail('attach: the supervisor closed the connection without an answer (see its supervisor.log)');
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}

export async function attachToContainer(roots: Roots, namespace: string, name: string, options: AttachOptions): Promise<number> {
  const record = findPod(roots, namespace, name);
  const state = requireState(record);
  const container = findContainer(state, options.container).name;
  const connection = await connectSupervisor(roots);
  const { socket, answer, rest } = await openAttach(connection, { op: 'attach', pod: podId(namespace, name), container, stdin: options.stdin === true });

  // kubectl's rules: -t on a container without a terminal is dropped with a warning; a container with one
  // is attached as a terminal whatever was asked (its output is a terminal's).
  if (options.tty && !answer.tty) process.stderr.write(`error: Unable to use a TTY - container ${container} did not allocate one\n`);
  const terminal = answer.tty;
  if (terminal && options.stdin && process.stdin.isTTY && !options.quiet) {
    process.stderr.write("If you don't see a command prompt, try pressing enter.\n");
  }

  return new Promise<number>((resolve) => {
    let exitCode: number | undefined;
    let failure: string | undefined;
    let detached = false;
    const local = startLocalTerminal(
      { terminal, forwardStdin: options.stdin === true },
      {
        input: (chunk) => socket.write(encodeFrame(Channel.stdin, chunk)),
        end: () => socket.write(encodeFrame(Channel.stdin)),
        resize: (rows, cols) => socket.write(encodeFrame(Channel.resize, JSON.stringify({ Width: cols, Height: rows }))),
        detach: () => {
          detached = true;
          socket.end();
        },
      },
    );
    const reader = new FrameReader((channel, payload) => {
      if (channel === Channel.stdout) process.stdout.write(payload);
      else if (channel === Channel.stderr) process.stderr.write(payload);
      else if (channel === Channel.status) {
        const status = JSON.parse(payload.toString('utf8')) as { exitCode?: number; error?: string };
        exitCode = status.exitCode;
        failure = status.error;
      }
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      local.restore();
      if (detached || exitCode !== undefined) resolve(detached ? 0 : exitCode!);
      else if (failure) {
        process.stderr.write(`${failure}\n`);
        resolve(1);
      } else {
        process.stderr.write(`attach: the connection to the supervisor closed before container "${container}" of pod "${name}" ended\n`);
        resolve(1);
      }
    });
    if (rest.length) reader.push(rest);
  });
}
