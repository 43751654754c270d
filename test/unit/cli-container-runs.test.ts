/**
 * Following a container's runs from the pod manager's record (status.json) and its per-run CRI logs
 * (`run --attach`, `logs -f`): every run in order, a quick restart not skipped, the end when it will not come
 * back or the supervisor is gone. A temp dir stands in for the pod's run and log directories; this test process
 * plays the live supervisor.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followContainerRuns, runIsOver } from '../../src/cli/container-runs.js';
import { processRef } from '../../src/runtime/proc.js';
import type { ContainerStatusRecord, PodStatusRecord } from '../../src/state/pod-state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `ok` for up to 5 s (the follower polls every 200 ms). */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await sleep(50);
  expect(ok()).toBe(true);
}

describe('following a container across its runs', () => {
  let dir: string;
  const live = processRef(process.pid)!;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-runs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const logOf = (run: number) => path.join(dir, 'app', `${run}.log`);
  const writeLog = (run: number, ...lines: string[]) => {
    fs.mkdirSync(path.dirname(logOf(run)), { recursive: true });
    fs.appendFileSync(logOf(run), lines.map((l) => `2025-01-01T00:00:00.000000000Z stdout F ${l}\n`).join(''));
  };
  const setState = (c: Partial<ContainerStatusRecord>, supervisor = live) => {
    const container = { name: 'app', status: 'running', restartCount: 0, logPath: logOf(c.restartCount ?? 0), ...c };
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ supervisor, containers: [container] } as unknown as PodStatusRecord));
  };
  const follow = () => {
    const out: string[] = [];
    let ended = false;
    const done = followContainerRuns(dir, 'app', { out: (text) => out.push(text) }).then(() => (ended = true));
    return { out, done, ended: () => ended };
  };

  it('prints every run in order, also one that was started and ended between two polls, and ends when no restart is pending', async () => {
    writeLog(0, 'run 1');
    setState({ restartCount: 0 });
    const f = follow();
    await until(() => f.out.join('') === 'run 1\n');
    setState({ restartCount: 0, status: 'exited', restartPending: true });
    await sleep(300);
    expect(f.ended()).toBe(false);
    // Two restarts at once: run 2 came and went before the follower looked again.
    writeLog(1, 'run 2');
    writeLog(2, 'run 3');
    setState({ restartCount: 2, status: 'running' });
    await until(() => f.out.join('') === 'run 1\nrun 2\nrun 3\n');
    writeLog(2, 'run 3 again');
    setState({ restartCount: 2, status: 'exited' });
    await f.done;
    expect(f.out.join('')).toBe('run 1\nrun 2\nrun 3\nrun 3 again\n');
  });

  it('waits for a container that has not started yet (its pod is initializing)', async () => {
    setState({ status: 'created' });
    const f = follow();
    await sleep(300);
    expect(f.ended()).toBe(false);
    writeLog(0, 'up');
    setState({ status: 'exited' });
    await f.done;
    expect(f.out.join('')).toBe('up\n');
  });

  it('passes over a run whose log was already removed, and ends with the supervisor', async () => {
    writeLog(0, 'first');
    setState({ restartCount: 0 });
    const f = follow();
    await until(() => f.out.join('') === 'first\n');
    // Two runs later: 1.log is gone already (kubelet keeps the current and the previous run only).
    writeLog(2, 'third');
    setState({ restartCount: 2 });
    await until(() => f.out.join('') === 'first\nthird\n');
    // The supervisor died (the recorded process is not this one any more): the follower reads to the end and stops.
    writeLog(2, 'last words');
    setState({ restartCount: 2, restartPending: true }, { pid: live.pid, startTime: live.startTime + 1 });
    await f.done;
    expect(f.out.join('')).toBe('first\nthird\nlast words\n');
  });

  it('a run is over once the supervisor recorded its exit, started a newer run, or is gone', () => {
    setState({ restartCount: 3 });
    expect(runIsOver(dir, 'app', 3)()).toBe(false);
    expect(runIsOver(dir, 'app', 2)()).toBe(true);
    setState({ restartCount: 3, status: 'exited' });
    expect(runIsOver(dir, 'app', 3)()).toBe(true);
    setState({ restartCount: 3 }, { pid: live.pid, startTime: live.startTime + 1 });
    expect(runIsOver(dir, 'app', 3)()).toBe(true);
    fs.rmSync(path.join(dir, 'status.json'));
    expect(runIsOver(dir, 'app', 3)()).toBe(true);
  });
});
