/**
 * Undoing everything a bench made under its temp --root: `podns rm -f` of every pod it started or that is
 * on disk, then whatever that could not undo (processes naming the root, netns pins of its pods, mounts below
 * the root), then the root itself. The names are unique to the bench, so all of it is the bench's own.
 */
import fs from 'node:fs';
import { detectCgroups, parseProcCgroup, resolveCgroupParent } from '../cgroup/layout.js';
import path from 'node:path';
import { describe, timed } from './spawn-timed.js';
import { projectPath } from '../sys/project-path.js';

const podnsBin = projectPath('bin/podns');

/** Returns what could not be undone (or had to be undone by force), one line each. */
export async function cleanupRoot(root: string, known: string[], env: NodeJS.ProcessEnv, keep: boolean): Promise<string[]> {
  const problems: string[] = [];
  const podsDir = path.join(root, 'run', 'pods');
  const onDisk = fs.existsSync(podsDir) ? fs.readdirSync(podsDir) : [];
  const pods = [...new Set([...known, ...onDisk])];
  for (const pod of pods) {
    const r = await timed([podnsBin, '--root', root, 'rm', '-f', pod], env, 30_000).catch((e: Error) => e);
    if (r instanceof Error) problems.push(`podns rm -f ${pod}: ${r.message}`);
    else if (r.code !== 0 && !/no such pod|not found/i.test(r.stderr)) problems.push(describe(['podns', 'rm', '-f', pod], r));
  }
  // Anything rm -f could not undo: processes of this root (the shim's argv names its run dir), netns pins
  // of our pods, mounts below the root. All of them are this bench's own: the names are unique to it.
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmdline.includes(`${root}/`)) {
      problems.push(`process ${entry} left (${cmdline.trim()}): killed`);
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const pod of pods) {
    const pin = `/run/netns/${pod}`;
    if (!fs.existsSync(pin)) continue;
    problems.push(`netns pin ${pin} left: removed`);
    await timed(['umount', '-l', pin], env).catch(() => undefined);
    fs.rmSync(pin, { force: true });
  }
  const mountsBelow = () =>
    fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === root || m.startsWith(`${root}/`))
      .sort((a, b) => b.length - a.length);
  for (const m of mountsBelow()) {
    problems.push(`mount ${m} left: unmounted`);
    await timed(['umount', '-l', m], env).catch(() => undefined);
  }
  if (keep) {
    process.stderr.write(`bench: kept ${root}\n`);
  } else if (mountsBelow().length) {
    problems.push(`${root} not deleted: still mounted below it`);
  } else {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return problems;
}

/**
 * The bench's pods get a cgroup parent of their own below the bench's own cgroup (relative, as the kernel tests
 * do), never the default /podns at the top of the host's hierarchies; it goes again at the end.
 */
export function useOwnCgroupParent(): () => void {
  if (process.env.PODNS_CGROUP_PARENT !== undefined) return () => {};
  const parent = `podns-bench-${process.pid}`;
  process.env.PODNS_CGROUP_PARENT = parent;
  return () => {
    const host = detectCgroups(process.env.PODNS_CGROUP_ROOT ?? '/sys/fs/cgroup');
    const parents = resolveCgroupParent(parent, host, parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8')));
    for (const [hierarchy, rel] of Object.entries(parents)) {
      const dir = path.join(host.mounts[hierarchy]!, rel);
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
  };
}
