/** `podns stats`: CPU % from two samples of the cgroups' CPU time, working-set memory against the limit. */
import { describe, expect, it } from 'vitest';
import { formatBytes, statsRows, statsTable } from '../../src/cli/commands/stats.js';
import type { CgroupStats } from '../../src/cgroup/driver.js';
import type { PodState } from '../../src/state/pod-state.js';

const pod = { id: 'web', name: 'web', namespace: 'default', containers: [{ name: 'nginx' }, { name: 'gone' }] } as unknown as PodState;
const stats = (cpuUsageNs: number, memoryWorkingSet: number, memoryLimit?: number): CgroupStats => ({
  cpuUsageNs,
  memoryWorkingSet,
  memoryUsage: memoryWorkingSet,
  ...(memoryLimit !== undefined ? { memoryLimit } : {}),
  pids: 2,
  oomKills: 0,
});

describe('podns stats', () => {
  it('CPU % is CPU time over wall time between two samples (100% = one core); rows only for live cgroups', () => {
    const before = { at: 0, stats: new Map([['web/', stats(0, 0)], ['web/nginx', stats(0, 0)]]) };
    const after = { at: 1000, stats: new Map([['web/', stats(500e6, 3 * 2 ** 20)], ['web/nginx', stats(200e6, 2 * 2 ** 20, 32 * 2 ** 20)]]) };
    const rows = statsRows([pod], before, after);
    expect(rows).toEqual([
      { pod: 'web', cpuPercent: 50, memory: 3 * 2 ** 20, pids: 2, oomKills: 0 },
      { pod: 'web', container: 'nginx', cpuPercent: 20, memory: 2 * 2 ** 20, memoryLimit: 32 * 2 ** 20, pids: 2, oomKills: 0 },
    ]);
    expect(statsTable(rows)).toBe(
      'POD  CONTAINER  CPU %   MEM USAGE / LIMIT  MEM %  PIDS\n' +
        'web  (pod)      50.00%  3.00MiB / -        -      2\n' +
        'web  nginx      20.00%  2.00MiB / 32.0MiB  6.25%  2\n',
    );
  });

  it('formats bytes in binary units', () => {
    expect([512, 1536, 64 * 2 ** 20, 3 * 2 ** 30].map(formatBytes)).toEqual(['512B', '1.50KiB', '64.0MiB', '3.00GiB']);
  });
});
