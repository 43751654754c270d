import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planAddHostPorts, planBridge, planDeleteHostPorts, planHostLinks, planPodLinks, vethName } from '../../../src/network/bridge-plan.js';
import { allocateAddress, listLeases, releaseAddress } from '../../../src/network/ipam.js';
import { formatIPv4, parseIPv4, parseSubnet, podAddresses } from '../../../src/network/ipv4.js';
import { loadNetworkConfig } from '../../../src/network/network-config.js';
import { hostPortElements } from '../../../src/network/hostports.js';

const made: string[] = [];
const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-net-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

describe('ipv4', () => {
  it('parses and formats addresses and subnets', () => {
    expect(formatIPv4(parseIPv4('10.89.3.7')!)).toBe('10.89.3.7');
    expect(parseIPv4('10.89.3.256')).toBeUndefined();
    expect(parseIPv4('10.89.3')).toBeUndefined();
    const s = parseSubnet('10.89.3.7/16')!;
    expect(formatIPv4(s.base)).toBe('10.89.0.0');
    const { first, last } = podAddresses(s);
    expect([formatIPv4(first), formatIPv4(last)]).toEqual(['10.89.0.2', '10.89.255.254']);
    expect(parseSubnet('10.0.0.0/31')).toBeUndefined();
  });
});

describe('network config', () => {
  it('defaults to the podns0 bridge on 10.89.0.0/16, clear of podman', () => {
    expect(loadNetworkConfig(tmp(), {})).toMatchObject({ mode: 'bridge', bridge: 'podns0', subnet: '10.89.0.0/16', gateway: '10.89.0.1' });
  });
  it('reads network.json, and the environment overrides it', () => {
    const etc = tmp();
    fs.writeFileSync(path.join(etc, 'network.json'), JSON.stringify({ subnet: '10.70.1.0/24', bridge: 'br9' }));
    expect(loadNetworkConfig(etc, {})).toMatchObject({ bridge: 'br9', subnet: '10.70.1.0/24', gateway: '10.70.1.1' });
    expect(loadNetworkConfig(etc, { PODNS_NETWORK_MODE: 'none' }).mode).toBe('none');
  });
  it('refuses a bad subnet or mode in one line naming the file', () => {
    const etc = tmp();
    fs.writeFileSync(path.join(etc, 'network.json'), JSON.stringify({ subnet: '10.70.1.0' }));
    expect(() => loadNetworkConfig(etc, {})).toThrow(`${etc}/network.json: subnet "10.70.1.0" is not an IPv4 CIDR`);
    fs.writeFileSync(path.join(etc, 'network.json'), '{');
    expect(() => loadNetworkConfig(etc, {})).toThrow(/invalid JSON/);
  });
});

describe('IPAM', () => {
  it('hands out each address once, releases only its own lease, and says when the subnet is full', () => {
    const lib = tmp();
    const a = allocateAddress(lib, 'br0', '10.1.2.0/29', 'pod-a');
    const b = allocateAddress(lib, 'br0', '10.1.2.0/29', 'pod-b');
    expect([a, b]).toEqual(['10.1.2.2', '10.1.2.3']);
    for (const p of ['c', 'd', 'e']) allocateAddress(lib, 'br0', '10.1.2.0/29', `pod-${p}`);
    expect(() => allocateAddress(lib, 'br0', '10.1.2.0/29', 'pod-g')).toThrow('no free address in 10.1.2.0/29 on bridge br0: all 5 are leased');
    releaseAddress(lib, 'br0', a, 'pod-someone-else');
    expect(listLeases(lib, 'br0').map((l) => l.ip)).toContain(a);
    releaseAddress(lib, 'br0', a, 'pod-a');
    expect(allocateAddress(lib, 'br0', '10.1.2.0/29', 'pod-h')).toBe(a);
  });
});

describe('bridge planners', () => {
  const cfg = loadNetworkConfig(tmp(), {});
  it('name veths pn + 12 hex digits, stable per pod', () => {
    expect(vethName('web')).toMatch(/^pn[0-9a-f]{12}$/);
    expect(vethName('web')).toBe(vethName('web'));
    expect(vethName('web')).not.toBe(vethName('web2'));
  });
  it('plan the ip commands a person could type', () => {
    expect(planBridge(cfg)).toEqual(['link add name podns0 type bridge', 'addr add 10.89.0.1/16 dev podns0', 'link set podns0 up']);
    expect(planHostLinks(cfg, 'pnabc', 'web', 1500)).toEqual([
      'link add name pnabc mtu 1500 type veth peer name eth0 mtu 1500 netns web',
      'link set pnabc master podns0 up',
    ]);
    expect(planPodLinks(cfg, '10.89.0.5')).toEqual(['addr add 10.89.0.5/16 dev eth0', 'link set eth0 up', 'route add default via 10.89.0.1 dev eth0']);
  });
  it('plan hostPorts as nft map elements, with or without a hostIP', () => {
    const ports = [
      { protocol: 'tcp' as const, hostPort: 8080, hostIP: '', containerPort: 80 },
      { protocol: 'udp' as const, hostPort: 5353, hostIP: '127.0.0.1', containerPort: 53 },
    ];
    expect(planAddHostPorts(ports, '10.89.0.5')).toBe(
      'create element ip podns hostports { tcp . 8080 : 10.89.0.5 . 80 }\ncreate element ip podns hostports_ip { 127.0.0.1 . udp . 5353 : 10.89.0.5 . 53 }\n',
    );
    expect(planDeleteHostPorts(ports)).toBe('delete element ip podns hostports { tcp . 8080 }\ndelete element ip podns hostports_ip { 127.0.0.1 . udp . 5353 }\n');
  });
  it('gc reads the published ports back from nft -j', () => {
    const json = JSON.stringify({
      nftables: [
        { table: { family: 'ip', name: 'podns' } },
        { map: { name: 'hostports', elem: [[{ concat: ['tcp', 8080] }, { concat: ['10.89.0.3', 80] }]] } },
        { map: { name: 'hostports_ip', elem: [[{ concat: ['127.0.0.1', 'udp', 53] }, { concat: ['10.89.0.4', 53] }]] } },
      ],
    });
    expect(hostPortElements(json)).toEqual([
      { map: 'hostports', key: 'tcp . 8080', podIP: '10.89.0.3', mapping: { protocol: 'tcp', hostPort: 8080, hostIP: '' } },
      { map: 'hostports_ip', key: '127.0.0.1 . udp . 53', podIP: '10.89.0.4', mapping: { protocol: 'udp', hostPort: 53, hostIP: '127.0.0.1' } },
    ]);
  });
});
