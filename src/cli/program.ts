/**
 * The commander program, built from the verb table (verbs.ts): help, usage errors and every command line the
 * fast path (argv-parse.ts) leaves alone. Loaded only then: commander costs ~12 ms of start-up.
 */
import { Command, Option } from 'commander';
import type { OptionSpec, ProgramSpec, VerbSpec } from './verbs.js';

/**
 * `run(verb, path, params, globals)` runs a verb's action once commander has parsed its line, as main.ts runs it
 * for the fast path.
 */
export type VerbRunner = (verb: VerbSpec, path: string[], params: unknown[], globals: Record<string, unknown>) => Promise<void>;

export function buildProgram(spec: ProgramSpec, run: VerbRunner): Command {
  const program = new Command(spec.name).description(spec.description).configureOutput({ outputError: (str, write) => write(str) });
  for (const option of spec.options) program.addOption(optionOf(option));
  for (const verb of spec.verbs) addVerb(program, verb, [], run, () => program.opts());
  return program;
}

function addVerb(parent: Command, verb: VerbSpec, path: string[], run: VerbRunner, globals: () => Record<string, unknown>): void {
  const command = parent.command(verb.name).description(verb.description);
  for (const [name, description] of verb.arguments ?? []) command.argument(name, description);
  for (const option of verb.options ?? []) command.addOption(optionOf(option));
  for (const sub of verb.subcommands ?? []) addVerb(command, sub, [...path, verb.name], run, globals);
  // commander calls an action with the arguments, the options and the command: the table's actions take the first two.
  if (verb.action) command.action((...params: unknown[]) => run(verb, [...path, verb.name], params.slice(0, -1), globals()));
}

function optionOf(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description);
  if (spec.choices) option.choices(spec.choices);
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.parse) option.argParser(spec.parse);
  return option;
}
