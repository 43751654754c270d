/** Command line of `npm run bench`. Pure; unit-tested in test/unit/bench/args.test.ts. */

/** The parts of the bench, in the order they run. */
export const PARTS = ['seed', 'scale', 'pull', 'network', 'cri'] as const;
export type Part = (typeof PARTS)[number];
export type NetworkMode = 'bridge' | 'none';

export interface BenchArgs {
  runs: number;
  warmup: number;
  /** podns's network mode for the bench's pods; bridge is podns's default. */
  network: NetworkMode;
  /** How many copies of the pod the scale part starts one after another (memory is read at 1, 10 and this many). */
  pods: number;
  /** How many different pods the scale part starts at once. */
  concurrent: number;
  parts: Part[];
  json: boolean;
  /** Keep the temp root (and print where it is) instead of deleting it. Pods are removed regardless. */
  keep: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --runs N          measured iterations of each timing (default 15)
  --warmup N        seed iterations run first and not counted (default 2)
  --network MODE    bridge (podns's default; in a network namespace of the bench's own) or none
  --pods N          the scale part: N copies of the pod, started one after another (default 100);
                    memory is read with 1, 10 and N pods, and ps is timed with N pods; the cri part
                    relists N sandboxes
  --concurrent N    the scale part: N different pods started at once (default 20)
  --only LIST       run only these parts (comma-separated: ${PARTS.join(', ')})
  --skip LIST       run every part but these
  --quick           --runs 5 --warmup 1 --pods 10: skips the 100-pod figures (a few minutes less)
  --json            print the results as JSON instead of the tables
  --keep            keep the temp --root directory (pods are removed anyway)
`;

function count(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
    throw new Error(`${flag} needs an integer >= ${min}, got ${value === undefined ? 'nothing' : `"${value}"`}`);
  }
  return Number(value);
}

function partList(flag: string, value: string | undefined): Part[] {
  const names = (value ?? '').split(',').filter(Boolean);
  if (!names.length) throw new Error(`${flag} needs a comma-separated list of parts (${PARTS.join(', ')})`);
  for (const n of names) if (!(PARTS as readonly string[]).includes(n)) throw new Error(`${flag}: unknown part "${n}" (parts: ${PARTS.join(', ')})`);
  return names as Part[];
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { runs: 15, warmup: 2, network: 'bridge', pods: 100, concurrent: 20, parts: [...PARTS], json: false, keep: false, help: false };
  // Explicit counts win over --quick, whatever their order on the line.
  const explicit = new Set<string>();
  let quick = false;
  let only: Part[] | undefined;
  let skip: Part[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--runs':
        args.runs = count(flag, value(), 1);
        explicit.add('runs');
        break;
      case '--warmup':
        args.warmup = count(flag, value(), 0);
        explicit.add('warmup');
        break;
      case '--pods':
        args.pods = count(flag, value(), 1);
        explicit.add('pods');
        break;
      case '--concurrent':
        args.concurrent = count(flag, value(), 1);
        break;
      case '--network': {
        const mode = value();
        if (mode !== 'bridge' && mode !== 'none') throw new Error(`--network is bridge or none, got ${mode === undefined ? 'nothing' : `"${mode}"`}`);
        args.network = mode;
        break;
      }
      case '--only':
        only = partList(flag, value());
        break;
      case '--skip':
        skip = partList(flag, value());
        break;
      case '--quick':
        quick = true;
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
  if (quick) {
    if (!explicit.has('runs')) args.runs = 5;
    if (!explicit.has('warmup')) args.warmup = 1;
    if (!explicit.has('pods')) args.pods = 10;
  }
  args.parts = PARTS.filter((p) => (only ?? PARTS).includes(p) && !skip.includes(p));
  if (!args.parts.length) throw new Error('--only/--skip leave no part to run');
  return args;
}
