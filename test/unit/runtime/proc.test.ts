import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { innermostPid, isAlive, processPrivileges, processRef } from '../../../src/runtime/proc.js';
import { pauseDropSteps } from '../../../src/runtime/sandbox.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function fakeProc(entries: Record<number, { stat: string; status?: string }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-proc-'));
  made.push(root);
  for (const [pid, e] of Object.entries(entries)) {
    fs.mkdirSync(path.join(root, pid));
    fs.writeFileSync(path.join(root, pid, 'stat'), e.stat);
    if (e.status) fs.writeFileSync(path.join(root, pid, 'status'), e.status);
  }
  return root;
}
// Field 22 (starttime) is the 20th field after "pid (comm) ".
const stat = (pid: number, comm: string, state: string, start: number) =>
  `${pid} (${comm}) ${state} 1 ${Array.from({ length: 17 }, () => '0').join(' ')} ${start} 0 0\n`;

describe('proc', () => {
  it('reads the start time past a comm that holds spaces and parentheses', () => {
    const root = fakeProc({ 10: { stat: stat(10, 'a (b) c', 'S', 777) } });
    expect(processRef(10, root)).toEqual({ pid: 10, startTime: 777 });
  });
  it('a reused pid (other start time) and a zombie are not alive', () => {
    const root = fakeProc({ 10: { stat: stat(10, 'x', 'S', 5) }, 11: { stat: stat(11, 'z', 'Z', 6) } });
    expect(isAlive({ pid: 10, startTime: 5 }, root)).toBe(true);
    expect(isAlive({ pid: 10, startTime: 4 }, root)).toBe(false);
    expect(isAlive({ pid: 11, startTime: 6 }, root)).toBe(false);
    expect(isAlive({ pid: 12, startTime: 6 }, root)).toBe(false);
  });
  it('the pid inside the innermost PID namespace is the last NSpid field', () => {
    const root = fakeProc({ 10: { stat: stat(10, 'x', 'S', 1), status: 'Name:\tx\nNSpid:\t10\t3\n' } });
    expect(innermostPid(10, root)).toBe(3);
  });
  it('this process is alive by its own record', () => {
    expect(isAlive(processRef(process.pid))).toBe(true);
  });
  it("a process's privileges are its status lines for ids, capability sets, no_new_privs and seccomp, tabs as spaces", () => {
    const root = fakeProc({ 10: { stat: stat(10, 'x', 'S', 1), status: status('65535', '0000000000000000', '1', '2') } });
    expect(processPrivileges(10, root)).toEqual({
      Uid: '65535 65535 65535 65535',
      Gid: '65535 65535 65535 65535',
      Groups: '',
      CapInh: '0000000000000000',
      CapPrm: '0000000000000000',
      CapEff: '0000000000000000',
      CapBnd: '0000000000000000',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
      Seccomp: '2',
      Seccomp_filters: '1',
    });
    expect(processPrivileges(11, root)).toBeUndefined();
  });
});

/** /proc/<pid>/status, as the kernel writes it, with the fields processPrivileges reads. */
function status(uid: string, caps: string, nnp: string, seccomp: string): string {
  const ids = `${uid}\t${uid}\t${uid}\t${uid}`;
  return (
    `Name:\tpause\nState:\tS (sleeping)\nUid:\t${ids}\nGid:\t${ids}\nGroups:\t \nCapInh:\t0000000000000000\n` +
    `CapPrm:\t${caps}\nCapEff:\t${caps}\nCapBnd:\t${caps}\nCapAmb:\t0000000000000000\nNoNewPrivs:\t${nnp}\n` +
    `Seccomp:\t${seccomp}\nSeccomp_filters:\t${seccomp === '2' ? 1 : 0}\nSpeculation_Store_Bypass:\tthread vulnerable\n`
  );
}

describe("the pause's drop of its privileges in the step log", () => {
  const root = '000001fffeffffff';
  const startedWith = processPrivileges(20, fakeProc({ 20: { stat: stat(20, 'node', 'S', 1), status: status('0', root, '0', '0') } }));

  it('once /proc shows its filter: two steps, each with what it was and what it is now', async () => {
    const proc = fakeProc({ 30: { stat: stat(30, 'pause', 'S', 2), status: status('65535', '0000000000000000', '1', '2') } });
    const steps = await pauseDropSteps(30, startedWith, proc);
    expect(steps.map((s) => s.actor)).toEqual(['pause', 'pause']);
    expect(steps[0]!.what).toContain(`Uid 0 → 65535, Gid 0 → 65535, CapPrm ${root} → 0000000000000000, CapEff ${root} → 0000000000000000, CapBnd ${root} → 0000000000000000`);
    expect(steps[0]!.command).toMatch(/^setpriv .*--bounding-set=-all .*--reuid=65535 \/pause$/);
    expect(steps[1]!.what).toContain('NoNewPrivs 0 → 1, Seccomp 0 → 2, Seccomp_filters 0 → 1');
  });

  it('a pause that does not drop (another binary) is said so once the wait is over', async () => {
    const proc = fakeProc({ 31: { stat: stat(31, 'pause', 'S', 2), status: status('0', root, '0', '0') } });
    const t0 = Date.now();
    const steps = await pauseDropSteps(31, startedWith, proc, 50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
    expect(steps).toHaveLength(1);
    expect(steps[0]!.what).toBe(`the pause (pid 31) has not dropped its privileges: Uid 0 → 0, CapEff ${root} → ${root}, NoNewPrivs 0 → 0, Seccomp 0 → 0`);
  });

  it('a pause that is gone or a zombie gets no step (its death is reported elsewhere), at once', async () => {
    const proc = fakeProc({ 32: { stat: stat(32, 'pause', 'Z', 2), status: status('0', root, '0', '0') } });
    const t0 = Date.now();
    expect(await pauseDropSteps(32, startedWith, proc, 5000)).toEqual([]);
    expect(await pauseDropSteps(33, startedWith, proc, 5000)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('stopSignalNumber', async () => {
  const { stopSignalNumber } = await import('../../../src/runtime/runtime-service.js');
  it.each([
    [undefined, 15],
    ['SIGQUIT', 3],
    ['quit', 3],
    ['9', 9],
    ['SIGNOPE', 15],
  ])('%s → %d', (name, n) => expect(stopSignalNumber(name)).toBe(n));
});
