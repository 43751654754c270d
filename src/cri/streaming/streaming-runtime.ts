/**
 * What the streaming server asks of the runtime — kubelet's streaming.Runtime (Exec, Attach, PortForward) — and
 * its implementation over podns's RuntimeService. The server itself knows nothing of podns's runtime: its unit
 * tests give it a fake.
 */
import type { Duplex } from 'node:stream';
import type { Kernel } from '../../kernel/kernel.js';
import type { OutputStream } from '../../runtime/container-io.js';
import type { ExecSession } from '../../runtime/exec-session.js';
import type { RuntimeService } from '../../runtime/runtime-service.js';

export type { ExecSession };

/** A client joined to a container's run (CRI Attach). */
export interface AttachSession {
  readonly tty: boolean;
  /** The container closes its stdin when the first client that used it leaves (stdinOnce). */
  readonly stdinOnce: boolean;
  writeStdin(data: Buffer): void;
  /** The client's input ended: under stdinOnce (no tty) the container's stdin closes (EOF). */
  endStdin(): void;
  resize(rows: number, cols: number): void;
  /** The client leaves; the container runs on. */
  leave(): void;
  /** Settles when the run is over (its output drained): its exit code when known. */
  readonly ended: Promise<number | undefined>;
}

export interface StreamingRuntime {
  /** A command in the running container; rejects when it cannot be started (nothing runs then). */
  exec(containerId: string, cmd: string[], options: { tty: boolean; stdin: boolean }): Promise<ExecSession>;
  /** Joins the container's current run; throws when it does not run (or has no stdin and `stdin` is asked). */
  attach(containerId: string, options: { stdin: boolean }, output: (stream: OutputStream, chunk: Buffer) => void): AttachSession;
  /** A connection to localhost:`port` of the sandbox, as its containers see it. */
  portForward(podSandboxId: string, port: number): Promise<Duplex>;
}

export function streamingRuntimeOf(runtime: RuntimeService, kernel: Pick<Kernel, 'setWindowSize'>): StreamingRuntime {
  return {
    exec: (id, cmd, options) => runtime.exec(id, cmd, options),
    portForward: (sandboxId, port) => runtime.portForward(sandboxId, port),
    attach(id, options, output) {
      let resolveEnded!: (code: number | undefined) => void;
      const ended = new Promise<number | undefined>((resolve) => (resolveEnded = resolve));
      const { io, leave } = runtime.attach(id, { output, ended: resolveEnded }, options.stdin);
      const stdinOnce = runtime.containerStatus(id).config.stdinOnce === true;
      return {
        tty: io.terminal,
        stdinOnce,
        writeStdin: (data) => io.writeStdin(data),
        endStdin: () => io.stdinEnded(),
        resize: (rows, cols) => io.resize(rows, cols, (fd, r, c) => kernel.setWindowSize(fd, r, c)),
        leave,
        ended,
      };
    },
  };
}
