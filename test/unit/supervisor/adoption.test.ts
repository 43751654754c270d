/**
 * What a starting supervisor does with each pod it finds on disk (decideAdoption), against a temp dir standing
 * in for /proc; and ps's word for a pod no supervisor holds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decideAdoption } from '../../../src/supervisor/adoption.js';
import { podStatus } from '../../../src/cli/commands/ps.js';
import { processRef } from '../../../src/runtime/proc.js';
import type { PodState } from '../../../src/state/pod-state.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-adoption-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
// A /proc with processes 10 (a supervisor), 20 (a pause) and 30 (a podns run), each started at tick 100 (field 22).
for (const pid of [10, 20, 30]) {
  fs.mkdirSync(path.join(root, String(pid)));
  fs.writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (x) S 1 ${Array.from({ length: 17 }, () => '0').join(' ')} 100 0 0\n`);
}
const ME = 99;

const pod = (over: Partial<PodState> = {}): PodState => ({
  id: 'p',
  name: 'p',
  namespace: 'default',
  uid: 'u',
  createdAt: '2026-01-01T00:00:00Z',
  hostname: 'p',
  phase: 'Running',
  supervisor: { pid: 10, startTime: 99 }, // pid 10 runs, but started later: another process; the supervisor is dead
  pause: { pid: 20, startTime: 100 },
  fdStore: { dev: 1, ino: 2 },
  hostMounts: [],
  shareProcessNamespace: false,
  infra: 'pause',
  containers: [],
  ...over,
});
const decide = (state: PodState | undefined, reservedBy?: { pid: number; startTime: number }) => decideAdoption({ state, reservedBy }, ME, root);

describe('decideAdoption: what a new supervisor does with a pod on disk', () => {
  it('adopts a running pod whose supervisor died (its pid names another process now) and whose pause runs', () => {
    expect(decide(pod())).toEqual({ kind: 'adopt' });
    expect(decide(pod({ phase: 'Pending' }))).toEqual({ kind: 'adopt' });
    // A pod whose containers are all done (Succeeded/Failed) keeps its sandbox until it is stopped: adopted too.
    expect(decide(pod({ phase: 'Succeeded' }))).toEqual({ kind: 'adopt' });
  });
  it('leaves a pod a live supervisor holds, a stopped one, and one already marked Unknown', () => {
    expect(decide(pod({ supervisor: { pid: 10, startTime: 100 } }))).toEqual({ kind: 'leave' });
    expect(decide(pod({ phase: 'Stopped' }))).toEqual({ kind: 'leave' });
    expect(decide(pod({ phase: 'Unknown' }))).toEqual({ kind: 'leave' });
  });
  it('without state: leaves it while the `podns run` that reserved it lives, else removes it', () => {
    expect(decide(undefined, { pid: 30, startTime: 100 })).toEqual({ kind: 'leave' });
    expect(decide(undefined, { pid: 30, startTime: 5 })).toEqual({ kind: 'remove' });
    expect(decide(undefined)).toEqual({ kind: 'remove' });
  });
  it('refuses a pod without a pause (--infra=none) and one without an fd store, saying why', () => {
    expect(decide(pod({ infra: 'none', pause: undefined }))).toEqual({ kind: 'lost', reason: expect.stringMatching(/--infra=none.*cannot be adopted$/) });
    expect(decide(pod({ fdStore: undefined }))).toEqual({ kind: 'lost', reason: expect.stringMatching(/without an fd store/) });
  });
  it('stops a pod whose pause died meanwhile (or whose pause pid names another process); leaves a finished one', () => {
    expect(decide(pod({ pause: { pid: 20, startTime: 7 } }))).toEqual({ kind: 'sandbox-died' });
    expect(decide(pod({ pause: { pid: 40, startTime: 100 } }))).toEqual({ kind: 'sandbox-died' });
    expect(decide(pod({ phase: 'Failed', pause: { pid: 40, startTime: 100 } }))).toEqual({ kind: 'leave' });
  });
});

describe('ps: NoSupervisor', () => {
  const self = processRef(process.pid)!;
  const dead = { pid: process.pid, startTime: self.startTime + 1 };
  it('a Running or Pending pod whose supervisor is dead; not one whose supervisor runs, nor a stopped one', () => {
    expect(podStatus(pod({ supervisor: dead, pause: self }))).toBe('NoSupervisor');
    expect(podStatus(pod({ phase: 'Pending', supervisor: dead, pause: self }))).toBe('NoSupervisor');
    expect(podStatus(pod({ supervisor: self, pause: self }))).toBe('Running');
    expect(podStatus(pod({ phase: 'Stopped', supervisor: dead, pause: dead }))).toBe('Stopped');
  });
  it('a pod that could not be adopted reads as its reason', () => {
    expect(podStatus(pod({ phase: 'Unknown', reason: 'SupervisorLost', supervisor: dead }))).toBe('SupervisorLost');
  });
});
