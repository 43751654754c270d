/**
 * The one place podns runs external programs (`tar`, `ip`, `nft`, ...). Everything else receives a
 * CommandRunner, so unit tests can pass a recording fake and assert the planned argv in order.
 */
import { CommandError } from '../errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
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
 * A runner on node:child_process, for the hot paths of a pod start (`ip`, `nft` in the shim): execa is the
 * general runner, but loading it costs tens of milliseconds, more than the commands themselves.
 */
export class SpawnRunner implements CommandRunner {
  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    const { spawn } = await import('node:child_process');
    const [file, ...args] = argv;
    return new Promise((resolve, reject) => {
      const child = spawn(file!, args, { cwd: options.cwd, env: options.env ? { ...process.env, ...options.env } : process.env });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => reject(new CommandError(options.step ?? `run.${file}`, argv, undefined, String(err.message), { cause: err })));
      child.on('close', (code) => {
        if (code === 0) resolve({ stdout, stderr, exitCode: 0 });
        else reject(new CommandError(options.step ?? `run.${file}`, argv, code ?? undefined, stderr));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
    });
  }
}

/** A fake for unit tests: records each argv, answers from a handler. */
export class RecordingRunner implements CommandRunner {
  readonly calls: string[][] = [];
  constructor(private readonly handler: (argv: string[]) => Partial<CommandResult> | Error = () => ({})) {}
  async run(argv: string[]): Promise<CommandResult> {
    this.calls.push(argv);
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
