/**
 * An exec or attach session once its streams are there, whatever carries them (SPDY streams, WebSocket
 * channels): kubelet's ServeExec / ServeAttach over a CRI runtime's Exec / Attach (containerd's semantics).
 *
 * exec    the command's stdout/stderr (or terminal) go to the client, the client's stdin and terminal sizes to
 *         the command; its end of input closes the command's stdin. When the command has exited and its output
 *         is written, the status goes on the error stream (Success, or NonZeroExitCode with the code) and the
 *         connection closes. A client that goes away first gets its command killed.
 * attach  the run's output from now on to the client, its input to the container's stdin. The session ends with
 *         the run (Success), or when the client's input ends (unless stdinOnce without a tty: then the container's
 *         stdin closes and the output goes on until the run ends), or when the client goes away; the container
 *         runs on in every case.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../log.js';
import { exitStatus, internalErrorStatus, ResizeDecoder, successStatus, type Status } from './remotecommand.js';
import type { StreamingRuntime } from './streaming-runtime.js';

/** The session's streams, as the transport made them. A stream the request did not ask for is absent. */
export interface CommandStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** JSON terminal sizes, one after another. */
  resize?: Readable;
  /** Writes `status` on the error stream (as the negotiated version wants it) and closes the connection. */
  finish(status: Status): Promise<void>;
  /** Settles when the connection is gone (the client left, or finish() closed it). */
  gone: Promise<void>;
}

export interface ExecCommand {
  containerId: string;
  cmd: string[];
  tty: boolean;
}

/** What an attached client may leave unread before its session ends (the container never waits for it). */
const MAX_UNREAD_OUTPUT = 4 * 1024 * 1024;

export async function serveExec(streams: CommandStreams, runtime: StreamingRuntime, command: ExecCommand, log: Logger): Promise<void> {
  let session;
  try {
    session = await runtime.exec(command.containerId, command.cmd, { tty: command.tty, stdin: streams.stdin !== undefined });
  } catch (err) {
    const message = `error executing command in container: ${errorMessage(err)}`;
    log.info('exec failed', { container: command.containerId, error: message });
    discard(streams.stdin);
    discard(streams.resize);
    return streams.finish(internalErrorStatus(message));
  }
  log.debug('exec started', { container: command.containerId, pid: session.pid, tty: command.tty });
  let finishing = false;
  void streams.gone.then(() => {
    if (finishing) return;
    log.info('exec client went away; killing the command', { container: command.containerId, pid: session.pid });
    session.kill();
  });
  if (streams.stdin) {
    if (session.stdin) {
      const input = session.stdin;
      streams.stdin.pipe(input);
      // The command closed its stdin (EPIPE) or exited: what the client still sends is dropped, not buffered.
      input.once('close', () => {
        streams.stdin!.unpipe(input);
        streams.stdin!.resume();
      });
    } else discard(streams.stdin);
  }
  if (streams.resize) {
    const decoder = new ResizeDecoder((size) => session.resize(size.height, size.width));
    streams.resize.on('data', (chunk: Buffer) => decoder.push(chunk));
    streams.resize.on('error', () => {});
  }
  forward(session.stdout, streams.stdout);
  if (session.stderr) forward(session.stderr, streams.stderr);
  const code = await session.done;
  finishing = true;
  await Promise.all([endWritable(streams.stdout), endWritable(streams.stderr)]);
  log.debug('exec exited', { container: command.containerId, pid: session.pid, exitCode: code });
  await streams.finish(code === 0 ? successStatus() : exitStatus(command.cmd, code));
}

export async function serveAttach(streams: CommandStreams, runtime: StreamingRuntime, containerId: string, log: Logger): Promise<void> {
  let over = false;
  let settle!: (status: Status) => void;
  const result = new Promise<Status>((resolve) => (settle = resolve));
  const end = (status: Status) => {
    if (over) return;
    over = true;
    settle(status);
  };
  const write = (target: Writable | undefined, chunk: Buffer) => {
    if (over || !target || target.destroyed) return;
    if (target.writableLength > MAX_UNREAD_OUTPUT) {
      end(internalErrorStatus(`error attaching to container: the client read nothing of the last ${MAX_UNREAD_OUTPUT >> 20} MiB of output; session ended (the container runs on; its log has everything)`));
      return;
    }
    target.write(chunk);
  };
  let session;
  try {
    session = runtime.attach(containerId, { stdin: streams.stdin !== undefined }, (stream, chunk) => write(stream === 'stdout' ? streams.stdout : streams.stderr, chunk));
  } catch (err) {
    discard(streams.stdin);
    discard(streams.resize);
    return streams.finish(internalErrorStatus(`error attaching to container: ${errorMessage(err)}`));
  }
  void session.ended.then(() => end(successStatus()));
  void streams.gone.then(() => end(successStatus()));
  if (streams.stdin) {
    streams.stdin.on('data', (chunk: Buffer) => session.writeStdin(chunk));
    streams.stdin.on('error', () => {});
    streams.stdin.once('end', () => {
      // containerd's attach: stdinOnce without a terminal closes the container's stdin and the output goes on;
      // otherwise the end of the client's input ends the session.
      if (session.stdinOnce && !session.tty) session.endStdin();
      else end(successStatus());
    });
  }
  if (streams.resize) {
    const decoder = new ResizeDecoder((size) => session.resize(size.height, size.width));
    streams.resize.on('data', (chunk: Buffer) => decoder.push(chunk));
    streams.resize.on('error', () => {});
  }
  const status = await result;
  session.leave();
  discard(streams.stdin);
  await Promise.all([endWritable(streams.stdout), endWritable(streams.stderr)]);
  await streams.finish(status);
}

/** Copies a command's output to the client's stream with backpressure; with nowhere to go, it is drained. */
function forward(source: Readable, target: Writable | undefined): void {
  if (!target) return discard(source);
  source.pipe(target, { end: false });
  // A client stream that went (reset): the output is drained rather than left to fill the pipe.
  target.once('close', () => {
    source.unpipe(target);
    source.resume();
  });
}

function discard(stream: Readable | undefined): void {
  if (!stream) return;
  stream.removeAllListeners('data');
  stream.on('error', () => {});
  stream.resume();
}

/** Ends a client stream once everything written to it has gone out (FIN after the last data). */
function endWritable(stream: Writable | undefined): Promise<void> {
  if (!stream || stream.destroyed || stream.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('finish', resolve);
    stream.once('close', resolve);
    stream.end();
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
