/**
 * A preload for the run-breakdown: `NODE_OPTIONS=--import=.../trace-preload.js PODNS_BENCH_TRACE=FILE`.
 * In the CLI process of a `podns run` it notes the process's start (performance.timeOrigin), the end of Node's
 * bootstrap (this module running), the first load of a few podns modules, each child_process.spawn, the
 * connection to the supervisor's socket, and the exit; at exit it appends one JSON line to FILE. (A supervisor
 * started by that CLI would inherit it too and write its record when it exits; the breakdown starts its own.)
 * Never loaded by podns itself or by the bench proper.
 */
import childProcess from 'node:child_process';
import fs from 'node:fs';
import module from 'node:module';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface TraceRecord {
  role: 'cli' | 'supervisor';
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
  const createConnection = net.createConnection;
  (net as { createConnection: unknown }).createConnection = function (this: unknown, ...args: unknown[]) {
    mark(`connect ${String(args[0])}`);
    return (createConnection as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof createConnection;
  module.syncBuiltinESMExports();
  process.on('exit', () => {
    mark('exit');
    const record: TraceRecord = {
      role: process.title.startsWith('podns supervisor') ? 'supervisor' : 'cli',
      pid: process.pid,
      origin: performance.timeOrigin,
      events,
      modules,
      loads,
    };
    fs.appendFileSync(file, JSON.stringify(record) + '\n');
  });
}
