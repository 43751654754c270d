/**
 * The one place podns runs external programs (`tar`, `ip`, `nft`, ...). Everything else receives a
 * CommandRunner, so unit tests can pass a recording fake and assert the planned argv in order.
 */
import type { Readable } from 'node:stream';
import { CommandError } from '../errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
  /**
   * Streamed into the command's stdin instead of `input` (a layer into `tar -x`). If it errors, the command is
   * killed and run() rejects with that error once the command has exited; run() resolves only when the
   * command exited 0 and the stream ended.
   */
  stdin?: Readable;
  env?: Record<string, string>;
  /** Step name used in the error when the command fails. */
  step?: string;
}

export interface CommandRunner {
  /** Runs argv to completion; throws CommandError on a non-zero exit or a failure to start. */
  run(argv: string[], options?: RunOptions): Promise<CommandResult>;
}

/** The real runner, on execa (imported lazily: most CLI verbs never run a command). */
export class ExecaRunner implements CommandRunner {
  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    // execa takes a stream as stdin only if it has a file descriptor; a streamed input goes the plain way.
    if (options.stdin) return new SpawnRunner().run(argv, options);
    const { execa } = await import('execa');
    const [file, ...args] = argv;
    const result = await execa(file!, args, {
      cwd: options.cwd,
      input: options.input,
      env: options.env,
      reject: false,
      stripFinalNewline: false,
    });
    const exitCode = typeof result.exitCode === 'number' ? result.exitCode : undefined;
    if (exitCode !== 0) {
      throw new CommandError(options.step ?? `run.${file}`, argv, exitCode, String(result.stderr ?? ''), {
        cause: result.cause,
      });
    }
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: 0 };
  }
}

/**
 * A runner on node:child_process, for the hot paths (`ip`, `nft` in the supervisor; `tar` in pulls and image loads):
 * execa is the general runner, but loading it costs tens of milliseconds, more than the commands themselves.
 */
export class SpawnRunner implements CommandRunner {
  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    const { spawn } = await import('node:child_process');
    const [file, ...args] = argv;
    const source = options.stdin;
    return new Promise((resolve, reject) => {
      const child = spawn(file!, args, { cwd: options.cwd, env: options.env ? { ...process.env, ...options.env } : process.env });
      let stdout = '';
      let stderr = '';
      let exit: number | null | undefined;
      let sourceError: unknown;
      let sourceEnded = source === undefined;
      // Settles once the command has exited: a failed input explains a killed command, so it wins.
      const settle = (): void => {
        if (exit === undefined) return;
        if (sourceError !== undefined) reject(sourceError);
        else if (exit !== 0) {
          source?.destroy();
          reject(new CommandError(options.step ?? `run.${file}`, argv, exit ?? undefined, stderr));
        } else if (sourceEnded) resolve({ stdout, stderr, exitCode: 0 });
      };
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => reject(new CommandError(options.step ?? `run.${file}`, argv, undefined, String(err.message), { cause: err })));
      child.on('close', (code) => {
        exit = code;
        // The command may stop reading before the input's end (tar after the end-of-archive blocks): drain it.
        source?.resume();
        settle();
      });
      // EPIPE once the command has exited without reading everything: its exit status tells what happened.
      child.stdin.on('error', () => {});
      if (source) {
        source.once('error', (err) => {
          sourceError ??= err;
          child.kill('SIGKILL');
          settle();
        });
        source.once('end', () => {
          sourceEnded = true;
          settle();
        });
        source.pipe(child.stdin);
      } else child.stdin.end(options.input ?? '');
    });
  }
}

/** A fake for unit tests: records each argv, answers from a handler. */
export class RecordingRunner implements CommandRunner {
  readonly calls: string[][] = [];
  constructor(private readonly handler: (argv: string[]) => Partial<CommandResult> | Error = () => ({})) {}
  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push(argv);
    options.stdin?.resume();
    const answer = this.handler(argv);
    if (answer instanceof Error) throw answer;
    return { stdout: answer.stdout ?? '', stderr: answer.stderr ?? '', exitCode: answer.exitCode ?? 0 };
  }
}

/** Passes every command through, telling `onCall` first (the step log of `--explain`). */
export class TracingRunner implements CommandRunner {
  constructor(
    private readonly inner: CommandRunner,
    private readonly onCall: (argv: string[], input: string | undefined) => void,
  ) {}
  run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    this.onCall(argv, typeof options.input === 'string' ? options.input : undefined);
    return this.inner.run(argv, options);
  }
}
