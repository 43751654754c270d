/**
 * The supervisor's bridge cache: once the bridge and podns's nft table are known to exist, a pod's network is
 * two `ip -batch` runs; when something removed the bridge meanwhile (`podns gc` removes an idle one), the
 * failing step says so and the bridge is made again before the step is retried.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError } from '../../../src/errors.js';
import { setUpPodNetwork, type BridgeCache } from '../../../src/network/bridge-network.js';
import { loadNetworkConfig } from '../../../src/network/network-config.js';
import { RecordingRunner } from '../../../src/sys/command.js';

const lib = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-bridge-cache-'));
afterAll(() => fs.rmSync(lib, { recursive: true, force: true }));

const verbs = (calls: string[][]) => calls.map((argv) => argv.filter((a) => a !== '-').join(' '));

describe('a pod network with the bridge cache', () => {
  const cache: BridgeCache = new Map();
  let bridgeGone = false;
  const runner = new RecordingRunner((argv) => {
    if (argv.join(' ') === 'ip -batch -' && bridgeGone) {
      bridgeGone = false;
      return new CommandError('network.ip', argv, 1, 'Cannot find device "podns0"\nCommand failed -:2');
    }
    if (argv[1] === '-j') return { stdout: '[{"mtu":1500}]' };
    return {};
  });
  const cfg = loadNetworkConfig(lib, {});
  const start = (id: string) => setUpPodNetwork(cfg, runner, lib, id, id, [], () => {}, cache);

  it('checks the bridge and the table for the first pod only', async () => {
    await start('a');
    expect(verbs(runner.calls.splice(0))).toEqual(['ip -j link show dev podns0', 'nft list table ip podns', 'ip -batch', 'ip -n a -batch']);
    await start('b');
    expect(verbs(runner.calls.splice(0))).toEqual(['ip -batch', 'ip -n b -batch']);
  });

  it('makes the bridge again when it is gone, and retries the step', async () => {
    bridgeGone = true;
    await start('c');
    expect(verbs(runner.calls.splice(0))).toEqual(['ip -batch', 'ip -j link show dev podns0', 'nft list table ip podns', 'ip -batch', 'ip -n c -batch']);
  });
});
