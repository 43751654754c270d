import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { takeoverRefusal } from '../../../src/shim/takeover.js';
import { podStatus } from '../../../src/cli/commands/ps.js';
import { processRef } from '../../../src/runtime/proc.js';
import type { PodState } from '../../../src/state/pod-state.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-takeover-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
// A /proc with a running shim (pid 10) and pause (pid 20), each started at tick 100 (field 22).
for (const pid of [10, 20]) {
  fs.mkdirSync(path.join(root, String(pid)));
  fs.writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (x) S 1 ${Array.from({ length: 17 }, () => '0').join(' ')} 100 0 0\n`);
}

const pod = (over: Partial<PodState> = {}): PodState => ({
  id: 'p',
  name: 'p',
  namespace: 'default',
  uid: 'u',
  createdAt: '2026-01-01T00:00:00Z',
  hostname: 'p',
  phase: 'Running',
  shim: { pid: 10, startTime: 99 }, // pid 10 runs, but started later: another process, the shim is dead
  pause: { pid: 20, startTime: 100 },
  fdStore: { dev: 1, ino: 2 },
  hostMounts: [],
  shareProcessNamespace: false,
  infra: 'pause',
  containers: [],
  ...over,
});

describe('takeoverRefusal: which pods a new shim may take over', () => {
  it('a running pod whose shim died (its pid now names another process) and whose pause runs: yes', () => {
    expect(takeoverRefusal(pod(), root)).toBeUndefined();
  });
  it('not while its shim runs', () => {
    expect(takeoverRefusal(pod({ shim: { pid: 10, startTime: 100 } }), root)).toBe('its shim is running (pid 10): nothing to recover');
  });
  it('not a stopped pod', () => {
    expect(takeoverRefusal(pod({ phase: 'Stopped' }), root)).toMatch(/^it is stopped: nothing to take over \(podns rm p\)$/);
  });
  it('not without a pause (--infra=none): nothing held the output', () => {
    expect(takeoverRefusal(pod({ infra: 'none', pause: undefined }), root)).toMatch(/--infra=none.*cannot be taken over; remove it with podns rm -f p$/);
  });
  it('not when the pause is gone, or its pid names another process', () => {
    expect(takeoverRefusal(pod({ pause: { pid: 20, startTime: 7 } }), root)).toMatch(/^its pause is gone .*podns rm -f p$/);
    expect(takeoverRefusal(pod({ pause: { pid: 30, startTime: 100 } }), root)).toMatch(/^its pause is gone/);
  });
  it('not a pod started without an fd store', () => {
    expect(takeoverRefusal(pod({ fdStore: undefined }), root)).toMatch(/without an fd store/);
  });
});

describe('ps: ShimDead', () => {
  const self = processRef(process.pid)!;
  const dead = { pid: process.pid, startTime: self.startTime + 1 };
  it('a Running or Pending pod whose shim is dead; not one whose shim runs, nor a stopped one', () => {
    expect(podStatus(pod({ shim: dead, pause: self }))).toBe('ShimDead');
    expect(podStatus(pod({ phase: 'Pending', shim: dead, pause: self }))).toBe('ShimDead');
    expect(podStatus(pod({ shim: self, pause: self }))).toBe('Running');
    expect(podStatus(pod({ phase: 'Stopped', shim: dead, pause: dead }))).toBe('Stopped');
  });
});
