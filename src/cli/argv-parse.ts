/**
 * The fast path of podns's command line: parses argv against the verb table (verbs.ts) the way commander
 * does — same option scan, same handling of `--`, of global options after the verb, of `-it` and `-cname`
 * groups, of `--opt=value` — but only for lines it fully understands, so that the everyday commands start
 * without loading commander (~12 ms of every start). Anything else — help, an unknown verb or option, a
 * missing argument or value, a value a parser or a choice list refuses, an optional option value, a negative
 * number — makes it answer undefined, and commander (program.ts) parses the line and says what is wrong.
 */
import type { OptionSpec, ProgramSpec, VerbSpec } from './verbs.js';

export interface ParsedLine {
  /** The verb to run, and its path from the top (`['image', 'ls']`). */
  verb: VerbSpec;
  path: string[];
  /** What the action gets after the Cli: the arguments in their declared order, then the options object. */
  params: unknown[];
  /** The program's own options (root, debug, namespace), defaults applied. */
  globals: Record<string, unknown>;
}

/** One option as the scan needs it. */
interface Flag {
  short?: string;
  long: string;
  /** commander's attribute name: `--pod-pids-limit` → `podPidsLimit`. */
  key: string;
  takes: 'nothing' | 'value' | 'optional value';
  spec: OptionSpec;
}

/** Parses `argv` (without node and the script) for `program`; undefined: leave the line to commander. */
export function parseCommandLine(program: ProgramSpec, argv: readonly string[]): ParsedLine | undefined {
  const top: VerbSpec = { name: program.name, description: program.description, options: program.options, subcommands: program.verbs };
  const globals = initialValues(top);
  const scanned = scanOptions(argv, flagsOf(top), globals);
  if (!scanned) return undefined;
  const found = dispatch(top, scanned.operands, scanned.unknown, []);
  return found && { ...found, globals };
}

function dispatch(command: VerbSpec, operands: string[], unknown: string[], path: string[]): Omit<ParsedLine, 'globals'> | undefined {
  if (command.subcommands) {
    // As commander: a command with subcommands leaves the options it does not know to the subcommand.
    const scanned = scanOptions(unknown, flagsOf(command), {});
    if (!scanned) return undefined;
    const all = [...operands, ...scanned.operands];
    const sub = command.subcommands.find((s) => s.name === all[0]);
    return sub && dispatch(sub, all.slice(1), scanned.unknown, [...path, sub.name]);
  }
  const values = initialValues(command);
  const scanned = scanOptions(unknown, flagsOf(command), values);
  if (!scanned || scanned.unknown.length > 0 || !command.action) return undefined;
  const params = matchArguments(command, [...operands, ...scanned.operands]);
  return params && { verb: command, path, params: [...params, values] };
}

/** The action's positional parameters, as commander hands them over; undefined if they do not fit. */
function matchArguments(command: VerbSpec, operands: string[]): unknown[] | undefined {
  const params: unknown[] = [];
  let next = 0;
  for (const [name] of command.arguments ?? []) {
    const required = name.startsWith('<');
    if (name.endsWith('...>') || name.endsWith('...]')) {
      const rest = operands.slice(next);
      if (required && rest.length === 0) return undefined;
      params.push(rest);
      next = operands.length;
    } else if (next < operands.length) {
      params.push(operands[next++]);
    } else if (required) {
      return undefined;
    } else {
      params.push(undefined);
    }
  }
  return next === operands.length ? params : undefined;
}

function initialValues(command: VerbSpec): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const flag of flagsOf(command)) if (flag.spec.default !== undefined) values[flag.key] = flag.spec.default;
  return values;
}

const flagCache = new WeakMap<VerbSpec, Flag[]>();

function flagsOf(command: VerbSpec): Flag[] {
  let flags = flagCache.get(command);
  if (!flags) flagCache.set(command, (flags = (command.options ?? []).map(readFlags)));
  return flags;
}

/** `-c, --container <name>` → short `-c`, long `--container`, key `container`, takes a value. */
export function readFlags(spec: OptionSpec): Flag {
  const m = /^(?:(-\w), )?(--[a-z][\w-]*)(?: (<[^>]+>|\[[^\]]+\]))?$/.exec(spec.flags);
  if (!m) throw new Error(`verbs.ts: option flags "${spec.flags}" are not in the form "-x, --long <value>"`);
  const key = m[2]!.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const takes = m[3] === undefined ? 'nothing' : m[3].startsWith('<') ? 'value' : 'optional value';
  return { ...(m[1] ? { short: m[1] } : {}), long: m[2]!, key, takes, spec };
}

/**
 * commander's Command.parseOptions for one command: its options are taken from anywhere before `--`; the first
 * word that looks like an option it does not know sends it and everything after it to `unknown`, for a
 * subcommand to parse. undefined where commander would report an error or where the scan does not go.
 */
function scanOptions(args: readonly string[], flags: Flag[], values: Record<string, unknown>): { operands: string[]; unknown: string[] } | undefined {
  const operands: string[] = [];
  const unknown: string[] = [];
  let dest = operands;
  const find = (word: string) => flags.find((f) => f.short === word || f.long === word);
  let i = 0;
  let group: string | undefined; // the rest of `-abc` once `-a` was taken as a flag
  while (i < args.length || group !== undefined) {
    const arg = group ?? args[i++]!;
    group = undefined;
    if (arg === '--') {
      if (dest === unknown) dest.push(arg);
      dest.push(...args.slice(i));
      break;
    }
    const isOptionLike = arg.length > 1 && arg[0] === '-';
    const exact = isOptionLike ? find(arg) : undefined;
    if (exact) {
      if (exact.takes === 'optional value') return undefined;
      if (exact.takes === 'value') {
        if (i >= args.length || !assign(exact, args[i++]!, values)) return undefined;
      } else {
        values[exact.key] = true;
      }
      continue;
    }
    if (arg.length > 2 && arg[0] === '-' && arg[1] !== '-') {
      const first = find(`-${arg[1]}`);
      if (first) {
        if (first.takes === 'optional value') return undefined;
        if (first.takes === 'value') {
          if (!assign(first, arg.slice(2), values)) return undefined;
        } else {
          values[first.key] = true;
          group = `-${arg.slice(2)}`;
        }
        continue;
      }
    }
    if (/^--[^=]+=/.test(arg)) {
      const withValue = find(arg.slice(0, arg.indexOf('=')));
      if (withValue?.takes === 'optional value') return undefined;
      if (withValue?.takes === 'value') {
        if (!assign(withValue, arg.slice(arg.indexOf('=') + 1), values)) return undefined;
        continue;
      }
    }
    if (dest === operands && isOptionLike) dest = unknown;
    dest.push(arg);
  }
  return { operands, unknown };
}

/** Sets an option's value as commander would; false where commander would refuse it (a choice, a parser). */
function assign(flag: Flag, text: string, values: Record<string, unknown>): boolean {
  if (flag.spec.choices && !flag.spec.choices.includes(text)) return false;
  if (!flag.spec.parse) {
    values[flag.key] = text;
    return true;
  }
  try {
    values[flag.key] = flag.spec.parse(text);
    return true;
  } catch {
    return false;
  }
}
