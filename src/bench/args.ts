/** Command line of `npm run bench -- [--runs N] [--warmup N] [--json]`. Pure; unit-tested. */

export interface BenchArgs {
  runs: number;
  warmup: number;
  json: boolean;
  /** Keep the temp root (and print where it is) instead of deleting it. Pods are removed regardless. */
  keep: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--runs N] [--warmup N] [--json] [--keep]
  --runs N     measured iterations (default 15)
  --warmup N   iterations run first and not counted (default 2)
  --json       print the results as JSON instead of the table
  --keep       keep the temp --root directory (pods are removed anyway)
`;

function count(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
    throw new Error(`${flag} needs an integer >= ${min}, got ${value === undefined ? 'nothing' : `"${value}"`}`);
  }
  return Number(value);
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { runs: 15, warmup: 2, json: false, keep: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    switch (flag) {
      case '--runs':
        args.runs = count(flag, inline ?? argv[++i], 1);
        break;
      case '--warmup':
        args.warmup = count(flag, inline ?? argv[++i], 0);
        break;
      case '--json':
        args.json = true;
        break;
      case '--keep':
        args.keep = true;
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      default:
        throw new Error(`unknown argument "${arg}"`);
    }
  }
  return args;
}
