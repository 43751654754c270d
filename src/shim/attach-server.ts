/**
 * The shim's side of `podns attach`: joins a connection to a running container's streams (attach-protocol.ts).
 * Output from the attach on goes to the client as stdout/stderr frames; stdin and resize frames go to the
 * container; when the run ends the client gets its exit code and the connection closes. A client that goes
 * away leaves the container running (under stdinOnce its stdin is closed).
 */
import type net from 'node:net';
import { setWindowSize } from '../sys/native.js';
import { Channel, encodeFrame, FrameReader, type AttachAnswer, type AttachRequest } from './attach-protocol.js';
import type { PodSupervisor } from './pod-supervisor.js';

/**
 * Output a client has not read yet, at most. A client that stops reading (a suspended terminal) must neither
 * hold up the container, whose output keeps flowing to the log, nor grow the shim without bound: past this the
 * session ends with an error.
 */
const MAX_UNREAD_OUTPUT = 4 * 1024 * 1024;

export function serveAttach(socket: net.Socket, supervisor: PodSupervisor, request: AttachRequest, leftover: Buffer): void {
  let joined: ReturnType<PodSupervisor['attach']>;
  let over = false;
  const finish = (status: { exitCode?: number; error?: string }) => {
    over = true;
    socket.end(encodeFrame(Channel.status, JSON.stringify(status)));
  };
  try {
    joined = supervisor.attach(
      request.container,
      {
        output: (stream, chunk) => {
          if (over) return;
          if (socket.writableLength > MAX_UNREAD_OUTPUT) {
            finish({ error: `attach: the client read nothing of the last ${MAX_UNREAD_OUTPUT >> 20} MiB of output; session ended (the container runs on; its log has everything)` });
            return;
          }
          socket.write(encodeFrame(stream === 'stdout' ? Channel.stdout : Channel.stderr, chunk));
        },
        ended: (exitCode) => {
          if (!over) finish(exitCode === undefined ? {} : { exitCode });
        },
      },
      request.stdin,
    );
  } catch (err) {
    socket.end(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }) + '\n');
    return;
  }
  const { io, leave } = joined;
  const answer: AttachAnswer = { ok: true, container: request.container, tty: io.terminal, stdin: io.stdinOpen };
  socket.write(JSON.stringify(answer) + '\n');
  const reader = new FrameReader((channel, payload) => {
    if (channel === Channel.stdin) {
      if (!request.stdin) return;
      if (payload.length === 0) io.stdinEnded();
      else io.writeStdin(payload);
    } else if (channel === Channel.resize) {
      const size = JSON.parse(payload.toString('utf8')) as { Width?: number; Height?: number };
      io.resize(Number(size.Height), Number(size.Width), setWindowSize);
    }
  });
  const onData = (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch {
      socket.destroy();
    }
  };
  socket.on('data', onData);
  socket.on('close', leave);
  socket.on('error', () => {});
  if (leftover.length) onData(leftover);
}
