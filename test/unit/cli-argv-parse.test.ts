import { Command } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, readFlags } from '../../src/cli/argv-parse.js';
import { buildProgram } from '../../src/cli/program.js';
import { PODNS, type OptionSpec, type VerbSpec } from '../../src/cli/verbs.js';

type Outcome = { path: string[]; params: unknown[]; globals: Record<string, unknown> } | 'error';

/** What commander makes of a line, from the same table: the verb and what its action would get, or an error. */
async function commanderParse(argv: string[]): Promise<Outcome> {
  let outcome: Outcome = 'error';
  const program = buildProgram(PODNS, async (_verb, path, params, globals) => {
    outcome = { path, params, globals: { ...globals } };
  });
  const quiet = (command: Command): void => {
    command.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    command.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(['node', 'podns', ...argv]);
  } catch {
    return 'error';
  }
  return outcome;
}

function fastParse(argv: string[]): Outcome | undefined {
  const line = parseCommandLine(PODNS, argv);
  return line && { path: line.path, params: line.params, globals: line.globals };
}

describe('the fast path reads a command line as commander does', () => {
  it.each([
    [['ps'], ['ps'], [{ output: 'table' }], { namespace: 'default' }],
    [['--root', '/r', 'ps', '-o', 'wide'], ['ps'], [{ output: 'wide' }], { root: '/r', namespace: 'default' }],
    [['ps', '--root=/r', '-nkube', '--debug'], ['ps'], [{ output: 'table' }], { root: '/r', namespace: 'kube', debug: true }],
    [['exec', '-it', 'web', '--', 'sh', '-c', 'ls -l'], ['exec'], ['web', ['sh', '-c', 'ls -l'], { stdin: true, tty: true }], { namespace: 'default' }],
    [['exec', 'web', '-cnginx', '--', 'ls', '--root', 'x'], ['exec'], ['web', ['ls', '--root', 'x'], { container: 'nginx' }], { namespace: 'default' }],
    [['logs', 'web', '--tail=5', '-f'], ['logs'], ['web', { tail: 5, follow: true }], { namespace: 'default' }],
    [['rm', 'a', '-f', 'b'], ['rm'], [['a', 'b'], { force: true }], { namespace: 'default' }],
    [['image', 'ls'], ['image', 'ls'], [{}], { namespace: 'default' }],
    [['serve', '--stop'], ['serve'], [{ stop: true }], { namespace: 'default' }],
    [['events'], ['events'], [undefined, {}], { namespace: 'default' }],
  ])('%j', async (argv, path, params, globals) => {
    const fast = fastParse(argv);
    expect(fast).toEqual({ path, params, globals });
    expect(await commanderParse(argv)).toEqual(fast);
  });

  it.each([
    [['--help']],
    [['ps', '-h']],
    [['help', 'ps']],
    [[]],
    [['bogus']],
    [['ps', 'extra']],
    [['ps', '-o', 'bogus']],
    [['logs', 'x', '--tail', '-1']],
    [['logs', 'x', '-fz']],
    [['exec', 'x', 'true', '-l']],
    [['exec', 'x']],
    [['run', '--wait', 'pod.yaml']],
    [['image']],
    [['stop', 'x', '-t']],
    [['--debug=yes', 'ps']],
  ])('leaves %j to commander', (argv) => {
    expect(fastParse(argv)).toBeUndefined();
  });

  it('agrees with commander on every line it accepts (random lines built from the table)', async () => {
    const leaves = (verbs: readonly VerbSpec[], path: string[] = []): [string[], VerbSpec][] =>
      verbs.flatMap((v) => (v.subcommands ? leaves(v.subcommands, [...path, v.name]) : [[[...path, v.name], v] as [string[], VerbSpec]]));
    const flagWords = (options: readonly OptionSpec[] = []) =>
      options.flatMap((o) => {
        const f = readFlags(o);
        const value = o.choices?.[0] ?? '5';
        const spelled = [f.long, ...(f.short ? [f.short] : [])];
        if (f.takes === 'nothing') return [...spelled.map((w) => [w]), ...(f.short ? [[`${f.short}${f.short.slice(1)}`]] : [])];
        return [...spelled.map((w) => [w, value]), [`${f.long}=${value}`], ...(f.short ? [[`${f.short}${value}`]] : []), [f.long]];
      });
    const globals = flagWords(PODNS.options);
    const junk = [['--'], ['-'], ['-1'], ['-h'], ['--bogus'], ['-x'], ['-it'], ['bogus'], ['5'], ['--tail=x']];
    const line = fc.constantFrom(...leaves(PODNS.verbs)).chain(([path, verb]) => {
      const operand = fc.constantFrom(['web'], ['x'], ['sh'], ['-c'], ['ls -l']);
      const word = fc.oneof(
        { arbitrary: fc.constantFrom(...flagWords(verb.options).concat([['x']])), weight: 4 },
        { arbitrary: fc.constantFrom(...globals), weight: 2 },
        { arbitrary: operand, weight: 3 },
        { arbitrary: fc.constantFrom(...junk), weight: 1 },
      );
      return fc.tuple(fc.array(fc.constantFrom(...globals), { maxLength: 2 }), fc.array(word, { maxLength: 6 })).map(([before, after]) => [...before.flat(), ...path, ...after.flat()]);
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(line, async (argv) => {
        const fast = fastParse(argv);
        if (!fast) return;
        accepted++;
        expect(await commanderParse(argv)).toEqual(fast);
      }),
      { numRuns: 3000 },
    );
    // The property says something only if the fast path took a good share of the lines.
    expect(accepted).toBeGreaterThan(500);
  });
});
