/**
 * A preload for the run-breakdown: `NODE_OPTIONS=--import=.../trace-preload.js PODNS_BENCH_TRACE=FILE`.
 * In every Node process of a `podns run` (the CLI, and the supervisor, which inherits the environment) it notes
 * the process's start (performance.timeOrigin), the end of Node's bootstrap (this module running), the first
 * load of a few podns modules, each child_process.spawn, and the exit; at exit it appends one JSON line to
 * FILE. Never loaded by podns itself or by the bench proper.
 */
import childProcess from 'node:child_process';
import fs from 'node:fs';
import module from 'node:module';
import { performance } from 'node:perf_hooks';

export interface TraceRecord {
  role: 'cli' | 'shim';
  pid: number;
  /** Epoch ms of the process's start. */
  origin: number;
  /** [event, ms since origin]. */
  events: [string, number][];
  modules: number;
  /** ms since origin of every module load hook call, in order. */
  loads: number[];
}

const file = process.env.PODNS_BENCH_TRACE;
if (file) {
  const events: [string, number][] = [['bootstrapped', performance.now()]];
  const mark = (name: string) => events.push([name, performance.now()]);
  const watched: [RegExp, string][] = [
    [/\/dist\/cli\/main\.js$/, 'main.js'],
    [/\/commander\/.*index\.(m?js)$/, 'commander'],
    [/\/dist\/cli\/commands\/run\.js$/, 'run.js'],
    [/\/yaml\/dist\/index\.js$|\/yaml\/.*index\.js$/, 'yaml'],
    [/\/dist\/shim\/shim-main\.js$/, 'shim-main.js'],
  ];
  const seen = new Set<string>();
  let modules = 0;
  const loads: number[] = [];
  module.registerHooks({
    load(url, context, nextLoad) {
      modules++;
      loads.push(performance.now());
      for (const [re, name] of watched) {
        if (!seen.has(name) && re.test(url)) {
          seen.add(name);
          mark(`load ${name}`);
        }
      }
      return nextLoad(url, context);
    },
  });
  const spawn = childProcess.spawn;
  (childProcess as { spawn: unknown }).spawn = function (this: unknown, ...args: Parameters<typeof spawn>) {
    const argv = args[1];
    mark(`spawn ${Array.isArray(argv) ? String(argv[1] ?? '').split('/').pop() + ' ' + String(argv[2] ?? '') : String(args[0])}`);
    return (spawn as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof spawn;
  module.syncBuiltinESMExports();
  process.on('exit', () => {
    mark('exit');
    const record: TraceRecord = {
      role: process.argv[2] === 'shim' ? 'shim' : 'cli',
      pid: process.pid,
      origin: performance.timeOrigin,
      events,
      modules,
      loads,
    };
    fs.appendFileSync(file, JSON.stringify(record) + '\n');
  });
}
