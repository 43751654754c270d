/**
 * The supervisor's side of `podns attach`: joins a connection to a running container's streams
 * (attach-protocol.ts). Output from the attach on goes to the client as stdout/stderr frames; stdin and resize
 * frames go to the container; when the run ends the client gets its exit code and the connection closes. A
 * client that goes away leaves the container running (under stdinOnce its stdin is closed).
 */
import type net from 'node:net';
import { setWindowSize } from '../sys/native.js';
import type { AttachListener, ContainerIO } from '../runtime/container-io.js';
import { Channel, encodeFrame, FrameReader, type AttachAnswer, type AttachRequest } from './attach-protocol.js';

/**
 * Output a client has not read yet, at most. A client that stops reading (a suspended terminal) must neither
 * hold up the container, whose output keeps flowing to the log, nor grow the supervisor without bound: past
 * this the session ends with an error.
 */
const MAX_UNREAD_OUTPUT = 4 * 1024 * 1024;

/** Joins the container's run (throws when it does not run): its IO and the session's leave function. */
export type JoinRun = (listener: AttachListener) => { io: ContainerIO; leave: () => void };

export function serveAttach(socket: net.Socket, join: JoinRun, request: AttachRequest, leftover: Buffer): void {
  let over = false;
  const finish = (status: { exitCode?: number; error?: string }) => {
    over = true;
    socket.end(encodeFrame(Channel.status, JSON.stringify(status)));
  };
  const { io, leave } = join({
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
  });
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
  if (leftover.length) onData(leftover);
}
