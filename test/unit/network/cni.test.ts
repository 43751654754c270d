import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError, PodnsError } from '../../../src/errors.js';
import { defaultConflist, loadConflist, parseConflist, pluginStdin } from '../../../src/network/cni-conflist.js';
import { CniPluginError, PLUGIN_STDOUT_MARKER, pluginArgv } from '../../../src/network/cni-exec.js';
import { checkCni, podIPOf, setUpCni, tearDownCni, type CniNetworkRecord } from '../../../src/network/cni.js';
import type { NetworkConfig } from '../../../src/network/network-config.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../../src/sys/command.js';
import { NAT_SAVE } from './cni-nat-fixture.js';

interface Call {
  plugin: string;
  argv: string[];
  env: Record<string, string>;
  stdin: Record<string, unknown>;
}

/**
 * Records argv, env and stdin of each plugin run; answers from `answer` (a result object, nothing, or an Error).
 * The reads of what is published already (nft, iptables-save) go to `reads`, answered from `published`:
 * by default no nft table and an empty nat table.
 */
class CniRecordingRunner implements CommandRunner {
  readonly calls: Call[] = [];
  readonly reads: string[][] = [];
  constructor(
    private readonly answer: (c: Call) => object | undefined | Error = () => undefined,
    private readonly published: { nft?: string; nat?: string } = {},
  ) {}
  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    if (argv[0] === 'nft' || argv[0] === 'iptables-save') {
      this.reads.push(argv);
      const out = argv[0] === 'nft' ? this.published.nft : (this.published.nat ?? '*nat\nCOMMIT\n');
      if (out === undefined) throw new CommandError('network.hostPort', argv, 1, 'Error: No such file or directory\nlist table ip podns\n');
      return { stdout: out, stderr: '', exitCode: 0 };
    }
    const call: Call = { plugin: path.basename(argv[3]!), argv, env: options.env ?? {}, stdin: JSON.parse(String(options.input)) as Record<string, unknown> };
    this.calls.push(call);
    const a = this.answer(call);
    if (a instanceof Error) throw a;
    return { stdout: a ? JSON.stringify(a) : '', stderr: '', exitCode: 0 };
  }
}

/** What a failing plugin looks like through the sh wrapper: exit 1, its JSON on stderr after the marker. */
function pluginError(argv: string[], json: object, log = ''): CommandError {
  return new CommandError('network.cni.add', argv, 1, `${log}\n${PLUGIN_STDOUT_MARKER}\n${JSON.stringify(json, null, 2)}\n`);
}

let tmp: string;
let cfg: NetworkConfig;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-cni-'));
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  for (const p of ['bridge', 'portmap', 'tuning']) fs.writeFileSync(path.join(bin, p), '#!/bin/sh\n', { mode: 0o755 });
  cfg = {
    mode: 'cni',
    bridge: 'podns0',
    subnet: '10.89.0.0/16',
    gateway: '10.89.0.1',
    cniConfDir: path.join(tmp, 'net.d'),
    cniBinDirs: [path.join(tmp, 'missing'), bin],
  };
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const bridgeResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'podns0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/p' }],
  ips: [{ address: '10.89.0.2/16', gateway: '10.89.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
};
const portmapResult = { ...bridgeResult, dns: {} };
const hostPorts = [
  { protocol: 'tcp' as const, hostPort: 8080, hostIP: '', containerPort: 80 },
  { protocol: 'udp' as const, hostPort: 5353, hostIP: '127.0.0.1', containerPort: 53 },
];

describe('conflist discovery', () => {
  it("podns's default when the conf dir is missing or empty: bridge (gateway, masq, hairpin, host-local under lib) and portmap", () => {
    expect(loadConflist(cfg, '/var/lib/podns')).toEqual({ conflist: defaultConflist(cfg, '/var/lib/podns'), source: 'podns default' });
    fs.mkdirSync(cfg.cniConfDir);
    fs.writeFileSync(path.join(cfg.cniConfDir, 'README'), 'not a config');
    const { conflist } = loadConflist(cfg, '/var/lib/podns');
    expect(conflist).toEqual({
      cniVersion: '1.0.0',
      name: 'podns',
      plugins: [
        {
          type: 'bridge',
          bridge: 'podns0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '10.89.0.0/16', gateway: '10.89.0.1' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: '/var/lib/podns/network/cni-ipam',
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
  });

  it('the first config file in lexical order wins, .conflist or .conf', () => {
    fs.mkdirSync(cfg.cniConfDir);
    fs.writeFileSync(path.join(cfg.cniConfDir, '20-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'b', plugins: [{ type: 'bridge' }] }));
    fs.writeFileSync(path.join(cfg.cniConfDir, '10-a.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'a', type: 'bridge', bridge: 'cni0' }));
    const { conflist, source } = loadConflist(cfg, '/lib');
    expect(source).toBe(path.join(cfg.cniConfDir, '10-a.conf'));
    // A single .conf becomes a one-plugin list with its name and version.
    expect(conflist).toEqual({ cniVersion: '0.4.0', name: 'a', plugins: [{ cniVersion: '0.4.0', name: 'a', type: 'bridge', bridge: 'cni0' }] });
    fs.rmSync(path.join(cfg.cniConfDir, '10-a.conf'));
    expect(loadConflist(cfg, '/lib').conflist.name).toBe('b');
  });

  it('a broken config file is an error naming the file and what is wrong', () => {
    expect(() => parseConflist('/etc/cni/net.d/10.conflist', '{')).toThrow(/^CNI config \/etc\/cni\/net.d\/10.conflist: invalid JSON: /);
    expect(() => parseConflist('x.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [] }))).toThrow('x.conflist: "plugins" is missing or empty');
    expect(() => parseConflist('x.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: '../sh' }] }))).toThrow(
      'x.conflist: plugins[0]: type "../sh" is not a plugin name',
    );
    expect(() => parseConflist('x.conf', JSON.stringify({ name: 'n', type: 'bridge' }))).toThrow('x.conf: "cniVersion" is missing');
  });
});

describe('plugin config injection', () => {
  it('name and cniVersion from the list, prevResult, runtimeConfig only for declared capabilities; the list is not changed', () => {
    const list = defaultConflist(cfg, '/lib');
    const before = structuredClone(list);
    const mappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
    const bridge = pluginStdin(list, list.plugins[0]!, { portMappings: mappings });
    expect(bridge).toMatchObject({ type: 'bridge', name: 'podns', cniVersion: '1.0.0' });
    expect(bridge).not.toHaveProperty('prevResult');
    expect(bridge).not.toHaveProperty('runtimeConfig');
    const portmap = pluginStdin(list, list.plugins[1]!, { prevResult: bridgeResult, portMappings: mappings });
    expect(portmap).toEqual({
      type: 'portmap',
      capabilities: { portMappings: true },
      snat: true,
      name: 'podns',
      cniVersion: '1.0.0',
      prevResult: bridgeResult,
      runtimeConfig: { portMappings: mappings },
    });
    expect(list).toEqual(before);
  });
});

describe('setUpCni / checkCni / tearDownCni', () => {
  const answers = (c: Call) => 
    c.env.CNI_COMMAND !== 'ADD' ? undefined : c.plugin === 'bridge' ? bridgeResult : c.plugin === 'portmap' ? portmapResult : undefined;

  it('ADD runs the plugins in list order with the CNI_* environment, each given the previous result; the pod IP comes from the result', async () => {
    const runner = new CniRecordingRunner(answers);
    const records: CniNetworkRecord[] = [];
    const rec = await setUpCni(cfg, runner, '/lib', 'default_web', '/run/netns/default_web', hostPorts, (r) => records.push(structuredClone(r)));
    expect(runner.calls.map((c) => [c.env.CNI_COMMAND, c.plugin])).toEqual([
      ['ADD', 'bridge'],
      ['ADD', 'portmap'],
    ]);
    expect(runner.calls[0]!.argv).toEqual(pluginArgv(path.join(tmp, 'bin', 'bridge')));
    expect(runner.calls[0]!.env).toEqual({
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'default_web',
      CNI_NETNS: '/run/netns/default_web',
      CNI_IFNAME: 'eth0',
      CNI_PATH: cfg.cniBinDirs.join(':'),
    });
    expect(runner.calls[0]!.stdin).not.toHaveProperty('prevResult');
    expect(runner.calls[1]!.stdin.prevResult).toEqual(bridgeResult);
    expect(runner.calls[1]!.stdin.runtimeConfig).toEqual({
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      ],
    });
    expect(rec).toMatchObject({ mode: 'cni', containerId: 'default_web', ifName: 'eth0', ip: '10.89.0.2', prevResult: portmapResult, hostPorts });
    // Recorded before each ADD (the first before anything ran), and once more with the final result.
    expect(records.map((r) => r.prevResult)).toEqual([undefined, bridgeResult, portmapResult]);
    expect(records[0]!.conflist).toEqual(defaultConflist(cfg, '/lib'));
  });

  it('DEL runs in reverse order with the recorded list and the final result, even after the file changed', async () => {
    fs.mkdirSync(cfg.cniConfDir);
    const file = path.join(cfg.cniConfDir, '10-x.conflist');
    const list = { cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'bridge', bridge: 'x0' }, { type: 'tuning' }, { type: 'portmap', capabilities: { portMappings: true } }] };
    fs.writeFileSync(file, JSON.stringify(list));
    const runner = new CniRecordingRunner(answers);
    const rec = await setUpCni(cfg, runner, '/lib', 'p', '/run/netns/p', hostPorts, () => undefined);
    fs.writeFileSync(file, JSON.stringify({ ...list, name: 'changed' }));
    const adds = runner.calls.splice(0);
    await tearDownCni(JSON.parse(JSON.stringify(rec)) as CniNetworkRecord, runner);
    expect(runner.calls.map((c) => [c.env.CNI_COMMAND, c.plugin])).toEqual([
      ['DEL', 'portmap'],
      ['DEL', 'tuning'],
      ['DEL', 'bridge'],
    ]);
    for (const c of runner.calls) {
      expect(c.stdin).toMatchObject({ name: 'x', cniVersion: '1.0.0', prevResult: portmapResult });
      expect(c.env).toMatchObject({ CNI_CONTAINERID: 'p', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0' });
    }
    expect(runner.calls[0]!.stdin.runtimeConfig).toEqual({ portMappings: expect.any(Array) });
    // The tuning plugin printed nothing: portmap was given the bridge's result.
    expect(adds.find((c) => c.plugin === 'portmap')!.stdin.prevResult).toEqual(bridgeResult);
  });

  it('CHECK runs in order with the cached result; not at all with disableCheck', async () => {
    const runner = new CniRecordingRunner(answers);
    const rec = await setUpCni(cfg, runner, '/lib', 'p', '/run/netns/p', [], () => undefined);
    runner.calls.length = 0;
    await checkCni(rec, runner);
    expect(runner.calls.map((c) => [c.env.CNI_COMMAND, c.plugin, c.stdin.prevResult])).toEqual([
      ['CHECK', 'bridge', portmapResult],
      ['CHECK', 'portmap', portmapResult],
    ]);
    runner.calls.length = 0;
    await checkCni({ ...rec, conflist: { ...rec.conflist, disableCheck: true } }, runner);
    await checkCni({ ...rec, conflist: { ...rec.conflist, cniVersion: '0.3.1' } }, runner);
    expect(runner.calls).toEqual([]);
  });

  it("a plugin's error JSON becomes one line; ADD stops there and the record still allows DEL", async () => {
    const runner = new CniRecordingRunner((c) =>
      c.plugin === 'portmap' ? pluginError(c.argv, { cniVersion: '1.0.0', code: 999, msg: 'failed to set up\nport 8080', details: 'iptables: exit 4' }, 'log line') : answers(c),
    );
    const records: CniNetworkRecord[] = [];
    const err = await setUpCni(cfg, runner, '/lib', 'p', '/run/netns/p', hostPorts, (r) => records.push(structuredClone(r))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    expect((err as CniPluginError).message).toBe('cni plugin portmap: failed to set up port 8080 (iptables: exit 4)');
    expect((err as CniPluginError).cniCode).toBe(999);
    expect((err as CniPluginError).step).toBe('network.cni.add');
    expect(records.at(-1)!.prevResult).toEqual(bridgeResult);
  });

  it('errors without the JSON: no details, a non-JSON stdout, a plugin missing from every bin dir', async () => {
    const noDetails = new CniRecordingRunner((c) => pluginError(c.argv, { code: 11, msg: 'try again later' }));
    await expect(setUpCni(cfg, noDetails, '/lib', 'p', '/n', [], () => undefined)).rejects.toThrow(/^cni plugin bridge: try again later$/);
    const crashed = new CniRecordingRunner((c) => new CommandError('s', c.argv, 2, `panic: boom\n${PLUGIN_STDOUT_MARKER}\n\n`));
    await expect(setUpCni(cfg, crashed, '/lib', 'p', '/n', [], () => undefined)).rejects.toThrow('cni plugin bridge: ADD failed (exit 2): panic: boom');
    fs.rmSync(path.join(tmp, 'bin', 'portmap'));
    const ok = new CniRecordingRunner(answers);
    await expect(setUpCni(cfg, ok, '/lib', 'p', '/n', [], () => undefined)).rejects.toThrow(`cni plugin portmap: not found in ${cfg.cniBinDirs.join(', ')}`);
  });

  it('DEL goes on through every plugin when one fails, and throws the first error', async () => {
    const runner = new CniRecordingRunner((c) => (c.env.CNI_COMMAND === 'DEL' && c.plugin === 'portmap' ? pluginError(c.argv, { code: 7, msg: 'bad' }) : answers(c)));
    const rec = await setUpCni(cfg, runner, '/lib', 'p', '/n', [], () => undefined);
    runner.calls.length = 0;
    await expect(tearDownCni(rec, runner)).rejects.toThrow('cni plugin portmap: bad');
    expect(runner.calls.map((c) => c.plugin)).toEqual(['portmap', 'bridge']);
  });

  it('a hostPort published already, by portmap or by bridge mode, is refused in one line before anything is recorded or run', async () => {
    const nft = JSON.stringify({ nftables: [{ map: { name: 'hostports_ip', elem: [[{ concat: ['127.0.0.1', 'tcp', 8082] }, { concat: ['10.89.0.9', 80] }]] } }] });
    const refused = async (wanted: typeof hostPorts) => {
      const runner = new CniRecordingRunner(answers, { nft, nat: NAT_SAVE });
      const records: CniNetworkRecord[] = [];
      const err = await setUpCni(cfg, runner, '/lib', 'p', '/n', wanted, (r) => records.push(r)).catch((e: unknown) => e as Error);
      expect(runner.calls, 'no plugin ran').toEqual([]);
      expect(records, 'nothing recorded').toEqual([]);
      return err;
    };
    // 8080/tcp on every address is ghost's (portmap); 127.0.0.1:5353/udp too; 8082/tcp on 127.0.0.1 is a bridge-mode pod's.
    const err = await refused([
      { protocol: 'tcp', hostPort: 8080, hostIP: '10.0.0.1', containerPort: 80 },
      { protocol: 'udp', hostPort: 5353, hostIP: '', containerPort: 53 },
      { protocol: 'tcp', hostPort: 8082, hostIP: '', containerPort: 80 },
      { protocol: 'tcp', hostPort: 5353, hostIP: '', containerPort: 53 },
    ]);
    expect(err).toBeInstanceOf(PodnsError);
    expect((err as PodnsError).step).toBe('network.hostPort');
    expect((err as Error).message).toBe(
      'hostPort 10.0.0.1:8080/TCP (CNI portmap, container "ghost"), 5353/UDP (CNI portmap, container "ghost"), 8082/TCP (nft table ip podns, to 10.89.0.9): already published by another pod',
    );
    // Another address, protocol or port is free.
    const runner = new CniRecordingRunner(answers, { nft, nat: NAT_SAVE });
    const free = [
      { protocol: 'udp' as const, hostPort: 5353, hostIP: '10.0.0.1', containerPort: 53 },
      { protocol: 'udp' as const, hostPort: 8080, hostIP: '', containerPort: 80 },
      { protocol: 'tcp' as const, hostPort: 8082, hostIP: '10.0.0.1', containerPort: 80 },
    ];
    await setUpCni(cfg, runner, '/lib', 'p', '/n', free, () => undefined);
    expect(runner.calls.map((c) => c.plugin)).toEqual(['bridge', 'portmap']);
    expect(runner.reads).toEqual([['nft', '-j', 'list', 'table', 'ip', 'podns'], ['iptables-save', '-t', 'nat']]);
    // Without hostPorts there is nothing to look up.
    const none = new CniRecordingRunner(answers);
    await setUpCni(cfg, none, '/lib', 'p', '/n', [], () => undefined);
    expect(none.reads).toEqual([]);
  });

  it('the pod IP: the first IPv4 of ips, the 0.2.0 ip4 field, nothing without a result', () => {
    expect(podIPOf({ ips: [{ address: 'fd00::2/64' }, { address: '10.1.2.3/24' }] })).toBe('10.1.2.3');
    expect(podIPOf({ ips: [{ address: 'fd00::2/64' }] })).toBe('fd00::2');
    expect(podIPOf({ ip4: { ip: '10.0.0.9/8' } })).toBe('10.0.0.9');
    expect(podIPOf(undefined)).toBeUndefined();
  });
});
