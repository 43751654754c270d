import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError } from '../../../src/errors.js';
import { collectCniGarbage, listCniLeases } from '../../../src/network/cni-garbage.js';
import { RecordingRunner, type RunOptions } from '../../../src/sys/command.js';
import { NAT_SAVE } from './cni-nat-fixture.js';

let lib: string;
beforeEach(() => {
  lib = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-cni-gc-'));
  // host-local's directory of podns's default list, as the plugin leaves it: leases, its lock, its cursor.
  const dir = path.join(lib, 'network', 'cni-ipam', 'podns');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '10.89.0.2'), 'ghost\r\neth0');
  fs.writeFileSync(path.join(dir, '10.89.0.3'), 'web\r\neth0');
  fs.writeFileSync(path.join(dir, 'last_reserved_ip.0'), '10.89.0.3');
  fs.writeFileSync(path.join(dir, 'lock'), '');
});
afterEach(() => fs.rmSync(lib, { recursive: true, force: true }));

/** Answers iptables-save with `nat` (or as a machine without iptables), and records iptables-restore's input. */
function natRunner(nat: string | undefined) {
  const restored: string[] = [];
  const runner = new RecordingRunner((argv) => {
    if (argv[0] === 'iptables-save') return nat === undefined ? new CommandError('gc.cni', argv, undefined, 'spawn iptables-save ENOENT') : { stdout: nat };
    return {};
  });
  const run = runner.run.bind(runner);
  runner.run = (argv: string[], options?: RunOptions) => {
    if (argv[0] === 'iptables-restore') restored.push(String(options?.input));
    return run(argv, options);
  };
  return { runner, restored };
}

describe('podns gc: what the CNI plugins keep for pods that are gone', () => {
  it("releases the dead pod's lease and removes its portmap and masquerade rules; live pods and other networks are left alone", async () => {
    expect(listCniLeases(lib).map((l) => [l.ip, l.containerId])).toEqual([
      ['10.89.0.2', 'ghost'],
      ['10.89.0.3', 'web'],
    ]);
    const { runner, restored } = natRunner(NAT_SAVE);
    const report: string[] = [];
    await collectCniGarbage(lib, new Set(['web']), runner, (l) => report.push(l));
    expect(report).toEqual([
      'released CNI address 10.89.0.2 of pod ghost',
      'removed the CNI nat rules of pod ghost (chains CNI-54ca471367d3650ea83ce0d4, CNI-DN-54ca471367d3650ea83ce)',
    ]);
    expect(fs.readdirSync(path.join(lib, 'network', 'cni-ipam', 'podns')).sort()).toEqual(['10.89.0.3', 'last_reserved_ip.0', 'lock']);
    expect(runner.calls.map((a) => a.join(' '))).toEqual(['iptables-save -t nat', 'iptables-restore --noflush']);
    expect(restored).toHaveLength(1);
    expect(restored[0]).toMatch(/^\*nat\n(-D [^\n]*id: \\"ghost\\"[^\n]*\n){3}-F CNI-54ca[^\n]*\n-X CNI-54ca[^\n]*\n-F CNI-DN-54ca[^\n]*\n-X CNI-DN-54ca[^\n]*\nCOMMIT\n$/);
    expect(restored[0]).not.toMatch(/web|abc|k8s/);
  });

  it('nothing of a dead pod: nothing to report, no iptables-restore', async () => {
    const { runner, restored } = natRunner(NAT_SAVE);
    const report: string[] = [];
    await collectCniGarbage(lib, new Set(['web', 'ghost']), runner, (l) => report.push(l));
    expect(report).toEqual([]);
    expect(restored).toEqual([]);
  });

  it('without iptables on the machine only the leases are looked at', async () => {
    const { runner } = natRunner(undefined);
    const report: string[] = [];
    await collectCniGarbage(lib, new Set(), runner, (l) => report.push(l));
    expect(report).toEqual(['released CNI address 10.89.0.2 of pod ghost', 'released CNI address 10.89.0.3 of pod web']);
    expect(listCniLeases(lib)).toEqual([]);
  });

  it('a kernel without nf_tables (iptables-nft cannot start) holds no rules: only the leases are looked at', async () => {
    const runner = new RecordingRunner((argv) =>
      argv[0] === 'iptables-save' ? new CommandError('gc.cni', argv, 1, 'iptables-save/1.8.9 (nf_tables) Failed to initialize nft: Protocol not supported\n') : {},
    );
    const report: string[] = [];
    await collectCniGarbage(lib, new Set(['web']), runner, (l) => report.push(l));
    expect(report).toEqual(['released CNI address 10.89.0.2 of pod ghost']);
    expect(runner.calls.map((a) => a[0])).toEqual(['iptables-save']);
  });

  it('any other iptables-save failure is an error', async () => {
    const runner = new RecordingRunner((argv) => (argv[0] === 'iptables-save' ? new CommandError('gc.cni', argv, 2, 'iptables-save: permission denied\n') : {}));
    await expect(collectCniGarbage(lib, new Set(['web']), runner, () => undefined)).rejects.toThrow(/iptables-save -t nat: exit 2: iptables-save: permission denied/);
  });
});
