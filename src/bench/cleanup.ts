/**
 * Undoing everything a bench made under its temp --root: `podns rm -f` of every pod it started or that is
 * on disk (through the same network-namespace wrapper the bench ran podns with), then whatever that could not
 * undo (processes naming the root, netns pins of its pods, mounts below the root), then the root itself. The
 * names are unique to the bench, so all of it is the bench's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cgroupParentDirs, mountsBelow } from './leftovers.js';
import { describe, timed } from './spawn-timed.js';
import { projectPath } from '../sys/project-path.js';
import { podPaths, resolveRoots } from '../state/paths.js';

const podnsBin = projectPath('bin/podns');

export interface CleanupScope {
  root: string;
  /** Pods started and not known to be removed (those on disk are added). */
  pods: readonly string[];
  env: NodeJS.ProcessEnv;
  keep: boolean;
  /** Runs argv where podns ran (the bench's network namespace); identity by default. */
  wrap?: (argv: string[]) => string[];
  /** Pids never killed: the bench's own helpers. */
  exclude?: ReadonlySet<number>;
}

/** Returns what could not be undone (or had to be undone by force), one line each. */
export async function cleanupRoot(scope: CleanupScope): Promise<string[]> {
  const { root, env } = scope;
  const wrap = scope.wrap ?? ((argv: string[]) => argv);
  const problems: string[] = [];
  const podsDir = path.join(root, 'run', 'pods');
  const onDisk = fs.existsSync(podsDir) ? fs.readdirSync(podsDir).filter((p) => !p.startsWith('.')) : [];
  const pods = [...new Set([...scope.pods, ...onDisk])];
  // One command for all of them (a bench stopped mid-scale has a hundred); one by one if that fails.
  const rm = async (names: string[]) => {
    const argv = [podnsBin, '--root', root, 'rm', '-f', ...names];
    const r = await timed(wrap(argv), env, 30_000 + names.length * 2_000).catch((e: Error) => e);
    if (r instanceof Error) return `podns rm -f ${names.join(' ')}: ${r.message}`;
    if (r.code !== 0 && !/no such pod|not found/i.test(r.stderr)) return describe(['podns', 'rm', '-f', ...names], r);
    return undefined;
  };
  if (pods.length && (await rm(pods)) !== undefined) {
    for (const pod of pods) {
      const problem = await rm([pod]);
      if (problem) problems.push(problem);
    }
  }
  // The root's supervisor (started by the bench's first podns command) goes last: the pods would run on without it.
  const stop = await timed(wrap([podnsBin, '--root', root, 'serve', '--stop']), env, 15_000).catch((e: Error) => e);
  if (stop instanceof Error) problems.push(`podns serve --stop: ${stop.message}`);
  else if (stop.code !== 0) problems.push(describe(['podns', 'serve', '--stop'], stop));
  // Anything rm -f could not undo: processes of this root (its argv names the root, or it has a file under it
  // open, as a shim whose title replaced its argv), netns pins of our pods, mounts below the root.
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid || scope.exclude?.has(Number(entry))) continue;
    let cmdline = '';
    let files: string[] = [];
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      files = fs.readdirSync(`/proc/${entry}/fd`).map((fd) => {
        try {
          return fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
        } catch {
          return '';
        }
      });
    } catch {
      continue;
    }
    if (cmdline.includes(`${root}/`) || cmdline.includes(`${root} `) || files.some((f) => f.startsWith(`${root}/`))) {
      problems.push(`process ${entry} left (${cmdline.trim()}): killed`);
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  const roots = resolveRoots(root);
  for (const pod of pods) {
    const pin = podPaths(roots, pod, '').netnsPin;
    if (!fs.existsSync(pin)) continue;
    problems.push(`netns pin ${pin} left: removed`);
    await timed(['umount', '-l', pin], env).catch(() => undefined);
    fs.rmSync(pin, { force: true });
  }
  for (const m of mountsBelow(root)) {
    problems.push(`mount ${m} left: unmounted`);
    await timed(['umount', '-l', m], env).catch(() => undefined);
  }
  if (scope.keep) {
    process.stderr.write(`bench: kept ${root}\n`);
  } else if (mountsBelow(root).length) {
    problems.push(`${root} not deleted: still mounted below it`);
  } else {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return problems;
}

/**
 * The bench's pods get a cgroup parent of their own below the bench's own cgroup (relative, as the kernel tests
 * do), never the default /podns at the top of the host's hierarchies; it goes again at the end. Returns the
 * parent's name and its removal.
 */
export function useOwnCgroupParent(): { parent: string; remove: () => void } {
  if (process.env.PODNS_CGROUP_PARENT !== undefined) return { parent: process.env.PODNS_CGROUP_PARENT, remove: () => {} };
  const parent = `podns-bench-${process.pid}`;
  process.env.PODNS_CGROUP_PARENT = parent;
  return {
    parent,
    remove: () => {
      for (const dir of cgroupParentDirs(parent)) {
        const walk = (d: string): void => {
          for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
          fs.rmdirSync(d);
        };
        try {
          if (fs.existsSync(dir)) walk(dir);
        } catch (err) {
          process.stderr.write(`bench: could not remove cgroup ${dir}: ${(err as Error).message}\n`);
        }
      }
    },
  };
}
