#!/usr/bin/env node
/**
 * podns's entry point. The supervisor — `podns serve --detached` as the CLI starts it, or `podns serve` once it
 * has re-exec'd itself with the supervisor's V8 flags — goes straight to it without loading the CLI. Every other
 * line is read against the verb table (verbs.ts): by the fast path (argv-parse.ts) when it understands the line,
 * else by commander (program.ts), which is loaded only then; either way a verb's module is imported only when
 * that verb runs (scripts/module-graph.mjs shows what each command loads). A new verb is one entry in verbs.ts;
 * nothing here names a verb but `serve`.
 */
import type { VerbRunner } from './program.js';
import type { Cli } from './verbs.js';

// V8's code cache on disk: every podns start parses the same modules; this saves ~15 ms of each.
process.getBuiltinModule('node:module').enableCompileCache?.();

const argv = process.argv.slice(2);
if (isSupervisor(argv)) {
  try {
    const [{ resolveRoots }, { serve }] = await Promise.all([import('../state/paths.js'), import('../supervisor/serve.js')]);
    await serve(resolveRoots(rootArgument(argv)), { detached: argv.includes('--detached') });
  } catch (err) {
    process.exitCode = 1;
    await reportError(err, argv.includes('--debug'));
  }
} else {
  await runCommandLine(argv);
}

/**
 * The supervisor itself: started by the CLI (`serve --detached`, internal: fd 3 is its report channel), or
 * `podns serve` after its re-exec with the supervisor's V8 flags (the serve verb does that; `--stop`,
 * `--background` and help are the CLI's).
 */
function isSupervisor(args: string[]): boolean {
  const verb = args.find((a, i) => !a.startsWith('-') && !['--root', '-n', '--namespace'].includes(args[i - 1] ?? ''));
  if (verb !== 'serve') return false;
  if (args.includes('--detached')) return true;
  return process.execArgv.includes('--max-semi-space-size=1') && !args.some((a) => ['--stop', '--background', '--help', '-h'].includes(a));
}

/** `--root DIR` or `--root=DIR`, read before any parser loads. */
function rootArgument(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root') return args[i + 1];
    if (args[i]!.startsWith('--root=')) return args[i]!.slice('--root='.length);
  }
  return undefined;
}

async function runCommandLine(argv: string[]): Promise<void> {
  /** The verb being run (`['image', 'ls']`), once one is: a permission error names it. */
  let running: string[] | undefined;
  let debug = argv.includes('--debug');
  const asRoot = process.geteuid?.() === 0;
  try {
    const [{ parseCommandLine }, { PODNS }, { resolveRoots }] = await Promise.all([import('./argv-parse.js'), import('./verbs.js'), import('../state/paths.js')]);
    // Both parsers end here: a verb that needs root is refused before its module is even loaded.
    const runVerb: VerbRunner = async (verb, path, params, globals) => {
      running = path;
      debug ||= globals.debug === true;
      if (verb.needsRoot && !asRoot) throw (await import('./privilege.js')).rootRequired(path, verb.needsRoot, argv);
      const cli: Cli = { roots: resolveRoots(globals.root as string | undefined), namespace: globals.namespace as string, warn: (text) => process.stderr.write(`warning: ${text}\n`) };
      // What shows pods brings a dead supervisor back first: it adopts them, so what is shown is current.
      if (verb.showsPods && asRoot) await (await import('../supervisor/liveness.js')).reviveSupervisor(cli.roots);
      await verb.action!(cli, ...params);
    };
    const line = parseCommandLine(PODNS, argv);
    if (line) {
      await runVerb(line.verb, line.path, line.params, line.globals);
    } else {
      const { buildProgram } = await import('./program.js');
      await buildProgram(PODNS, runVerb).parseAsync(process.argv);
    }
  } catch (err) {
    let shown = err;
    if (running && !asRoot) {
      // Someone who is not root met root's files: say what it needs, not EACCES.
      shown = (await import('./privilege.js')).permissionDenied(err, running, argv) ?? err;
    }
    process.exitCode = 1;
    await reportError(shown, debug);
  }
}

/** One line for the user; the stack and the cause chain only with --debug. */
async function reportError(err: unknown, withStack: boolean): Promise<void> {
  const { writeStderr } = await import('./output.js');
  const message = err instanceof Error ? err.message : String(err);
  writeStderr(`podns: ${message}\n`);
  if (!withStack) return;
  let cause: unknown = err;
  while (cause) {
    if (cause instanceof Error) writeStderr(`${cause.stack ?? cause.message}\n`);
    cause = cause instanceof Error ? cause.cause : undefined;
    if (cause) writeStderr('caused by: ');
  }
}
