import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  classifyProcesses,
  inCgroupParent,
  measureSupervision,
  readProcFacts,
  readSupervisorPid,
  scanSupervision,
  type ProcFacts,
} from '../../../src/bench/supervision.js';

const ROOT = '/tmp/podns-bench-AbC123';
const PARENT = 'podns-bench-4242';
const NODE = '/opt/podns/node/bin/node';
const PAUSE_CGROUP = `8:pids:/${PARENT}/p1/pause\n6:freezer:/${PARENT}/p1/pause\n1:name=systemd:/\n`;
const scope = { root: ROOT, cgroupParent: PARENT, exclude: new Set<number>() };
const proc = (pid: number, exe: string, argv: string[], extra: Partial<ProcFacts> = {}): ProcFacts => ({ pid, exe, argv, cgroup: '0::/\n', ...extra });

describe('classifyProcesses', () => {
  it('finds per-pod shims by the files they hold under the root when their title replaced their argv', () => {
    const scan = classifyProcesses(
      [
        proc(10, NODE, ['podns shim p1'], { openFiles: ['/dev/null', `${ROOT}/run/pods/p1/shim.log`] }),
        proc(11, NODE, ['podns shim p2'], { openFiles: [`${ROOT}/log/pods/x/nginx/0.log`] }),
        proc(12, '/work/wt/build/Release/pause', ['/pause'], { cgroup: PAUSE_CGROUP }),
      ],
      scope,
    );
    expect(scan).toEqual({ model: 'per-pod shims', supervisors: [], shims: [10, 11], otherNode: [], pauses: [12] });
  });
  it('finds the supervisor by its pid file, by its title, or by its command line naming the root', () => {
    expect(classifyProcesses([proc(20, NODE, ['podns supervisor'])], { ...scope, supervisorPid: 20 }).supervisors).toEqual([20]);
    expect(classifyProcesses([proc(21, NODE, ['podns supervisor'], { openFiles: [`${ROOT}/run/podns.sock`] })], scope)).toMatchObject({ model: 'supervisor', supervisors: [21] });
    const argv = [NODE, '/work/wt/dist/cli/main.js', '--root', ROOT, 'serve'];
    expect(classifyProcesses([proc(22, NODE, argv, { openFiles: [] })], scope)).toMatchObject({ model: 'supervisor', supervisors: [22] });
  });
  it('counts a shim whose argv is still its own (before it sets its title)', () => {
    const argv = [NODE, '/work/wt/dist/cli/main.js', 'shim', `${ROOT}/run/pods/p1/shim.log`];
    expect(classifyProcesses([proc(23, NODE, argv, { openFiles: [] })], scope).shims).toEqual([23]);
  });
  it('leaves out Node processes of other roots (a longer name with the same prefix too), the excluded, and pauses of other cgroups', () => {
    const scan = classifyProcesses(
      [
        proc(30, NODE, ['podns shim q'], { openFiles: [`${ROOT}x/run/pods/q/shim.log`] }),
        proc(31, NODE, [NODE, '/x/dist/cli/main.js', '--root', `${ROOT}2`, 'serve'], { openFiles: [] }),
        proc(32, NODE, ['podns shim p1'], { openFiles: [`${ROOT}/run/pods/p1/shim.log`] }),
        proc(33, '/usr/bin/pause', ['/pause'], { cgroup: '8:pids:/podns/other/pause\n' }),
        proc(34, '/usr/sbin/nginx', ['nginx'], { cgroup: PAUSE_CGROUP }),
      ],
      { ...scope, exclude: new Set([32]) },
    );
    expect(scan).toEqual({ model: 'none running', supervisors: [], shims: [], otherNode: [], pauses: [] });
  });
  it('reports a Node process of the root it cannot place as unrecognised, not as a shim', () => {
    const scan = classifyProcesses([proc(40, NODE, [NODE, '/w/dist/cli/main.js', '--root', ROOT, 'ps'], { openFiles: [] })], scope);
    expect(scan).toMatchObject({ model: 'unrecognised podns processes', otherNode: [40] });
  });
});

describe('inCgroupParent', () => {
  it('matches the parent as a whole path segment, given with or without slashes', () => {
    expect(inCgroupParent(PAUSE_CGROUP, PARENT)).toBe(true);
    expect(inCgroupParent(PAUSE_CGROUP, `/${PARENT}/`)).toBe(true);
    expect(inCgroupParent(`8:pids:/${PARENT}0/p1/pause\n`, PARENT)).toBe(false);
  });
});

describe('reading a proc tree', () => {
  let procRoot: string;
  const write = (pid: number, files: Record<string, string>, links: Record<string, string> = {}) => {
    const dir = path.join(procRoot, String(pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, name));
  };
  const stat = (pid: number, start: number) => `${pid} (node) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 0 0\n`;
  const rollup = (rss: number, pss: number) => `00400000-7ff [rollup]\nRss: ${rss} kB\nPss: ${pss} kB\n`;

  beforeEach(() => {
    procRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-proc-'));
    // A shim with its title set (the rest of the old argv area blank), its pause, an unrelated process.
    write(100, { cmdline: 'podns shim p1                    \0', cgroup: '0::/\n', stat: stat(100, 5000), smaps_rollup: rollup(60000, 30000) }, { exe: NODE, 'fd/1': `${ROOT}/run/pods/p1/shim.log` });
    write(101, { cmdline: '/pause\0', cgroup: PAUSE_CGROUP, stat: stat(101, 5001), smaps_rollup: rollup(700, 100) }, { exe: '/w/build/Release/pause' });
    write(102, { cmdline: 'bash\0', cgroup: '0::/\n', stat: stat(102, 10) }, { exe: '/bin/bash' });
  });
  afterEach(() => fs.rmSync(procRoot, { recursive: true, force: true }));

  it('reads argv (title trimmed), exe, cgroup, and the open files of Node processes only', () => {
    expect(readProcFacts(100, procRoot)).toEqual({ pid: 100, exe: NODE, argv: ['podns shim p1'], cgroup: '0::/\n', openFiles: [`${ROOT}/run/pods/p1/shim.log`] });
    expect(readProcFacts(102, procRoot)?.openFiles).toBeUndefined();
    expect(readProcFacts(999, procRoot)).toBeUndefined();
  });

  it('scans the tree and sums RSS and PSS by kind', () => {
    const runDir = path.join(procRoot, 'no-run-dir');
    const scan = scanSupervision({ ...scope, runDir }, procRoot);
    expect(scan).toEqual({ model: 'per-pod shims', supervisors: [], shims: [100], otherNode: [], pauses: [101] });
    const m = measureSupervision(scan, procRoot);
    expect(m).toMatchObject({ rssKb: 60700, pssKb: 30100, vanished: 0 });
    expect(m.byKind.shims).toEqual({ n: 1, rssKb: 60000, pssKb: 30000 });
    expect(m.byKind.pauses).toEqual({ n: 1, rssKb: 700, pssKb: 100 });
  });

  it('counts a process that exited before its memory was read as vanished, not as zero', () => {
    const m = measureSupervision({ model: 'per-pod shims', supervisors: [], shims: [100, 555], otherNode: [], pauses: [] }, procRoot);
    expect(m).toMatchObject({ pssKb: 30000, vanished: 1 });
    expect(m.byKind.shims.n).toBe(1);
  });

  it('trusts supervisor.pid only while that process runs with the recorded start time', () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-run-'));
    try {
      expect(readSupervisorPid(runDir, procRoot)).toBeUndefined();
      fs.writeFileSync(path.join(runDir, 'supervisor.pid'), '100 5000\n');
      expect(readSupervisorPid(runDir, procRoot)).toBe(100);
      fs.writeFileSync(path.join(runDir, 'supervisor.pid'), '100 4999\n');
      expect(readSupervisorPid(runDir, procRoot)).toBeUndefined();
      fs.writeFileSync(path.join(runDir, 'supervisor.pid'), 'garbage\n');
      expect(readSupervisorPid(runDir, procRoot)).toBeUndefined();
      fs.writeFileSync(path.join(runDir, 'supervisor.pid'), '100 5000\n');
      expect(scanSupervision({ ...scope, runDir }, procRoot)).toMatchObject({ model: 'supervisor', supervisors: [100], shims: [] });
    } finally {
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });
});
