#!/usr/bin/env node
/**
 * podns's entry point. `podns shim` goes straight to the shim without loading the CLI (its start-up is on
 * the critical path of every `podns run`). Every other line is read against the verb table (verbs.ts): by the
 * fast path (argv-parse.ts) when it understands the line, else by commander (program.ts), which is loaded only
 * then; either way a verb's module is imported only when that verb runs (scripts/module-graph.mjs shows what
 * each command loads). A new verb is one entry in verbs.ts; nothing here names a verb but `shim`.
 */
import type { VerbRunner } from './program.js';
import type { Cli } from './verbs.js';

// V8's code cache on disk: every podns start parses the same modules; this saves ~15 ms of each.
process.getBuiltinModule('node:module').enableCompileCache?.();

const argv = process.argv.slice(2);
if (argv[0] === 'shim') {
  process.title = 'podns shim';
  const { runShim } = await import('../shim/shim-main.js');
  await runShim(argv.slice(1));
} else {
  await runCommandLine(argv);
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
