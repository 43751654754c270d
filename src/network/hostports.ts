/**
 * Which hostPorts are published in this network namespace, whichever mode published them: bridge mode as
 * elements of the maps in podns's nft table (`ip podns`), CNI mode through the portmap plugin's DNAT chains
 * (read back with cni-iptables.ts). Bridge mode needs no look: `create element` refuses a key that exists.
 * CNI mode asks before its ADD, because portmap adds a second DNAT for a port already taken without a word,
 * and the rule that comes first keeps the traffic.
 */
import { CommandError, PodnsError } from '../errors.js';
import type { CommandRunner } from '../sys/command.js';
import { NFT_TABLE, type HostPortMapping } from './bridge-plan.js';
import { parseNatTable, portmapPorts } from './cni-iptables.js';

/** An element of podns's hostport maps, as `nft delete element` keys it, and what it publishes. */
export interface HostPortElement {
  map: string;
  key: string;
  podIP: string;
  mapping: Omit<HostPortMapping, 'containerPort'>;
}

/** The elements of podns's hostport maps from `nft -j list table ip podns` output. */
export function hostPortElements(json: string): HostPortElement[] {
  const out: HostPortElement[] = [];
  const doc = JSON.parse(json) as { nftables: { map?: { name: string; elem?: unknown[] } }[] };
  for (const item of doc.nftables) {
    const map = item.map;
    if (!map?.elem || !map.name.startsWith('hostports')) continue;
    for (const elem of map.elem as [{ concat: unknown[] }, { concat: unknown[] }][]) {
      const key = elem[0].concat.map(String);
      // hostports: proto . port; hostports_ip: address . proto . port.
      const [hostIP, protocol, port] = key.length === 3 ? key : ['', ...key];
      out.push({
        map: map.name,
        key: key.join(' . '),
        podIP: String(elem[1].concat[0]),
        mapping: { protocol: protocol as 'tcp' | 'udp', hostPort: Number(port), hostIP: hostIP! },
      });
    }
  }
  return out;
}

/** A published hostPort and who publishes it, in words. */
export interface PublishedPort extends Omit<HostPortMapping, 'containerPort'> {
  by: string;
}

/**
 * Every hostPort published here, by either mode. A table or tool that is not there publishes nothing (no nft
 * table: no bridge-mode pod ran here; no iptables-save: portmap, which needs iptables, cannot have run).
 */
export async function publishedHostPorts(runner: CommandRunner): Promise<PublishedPort[]> {
  const out: PublishedPort[] = [];
  const nft = await readIfPresent(runner, ['nft', '-j', 'list', 'table', 'ip', NFT_TABLE], 'network.hostPort');
  if (nft) {
    for (const e of hostPortElements(nft)) out.push({ ...e.mapping, by: `nft table ip ${NFT_TABLE}, to ${e.podIP}` });
  }
  const nat = await readIfPresent(runner, ['iptables-save', '-t', 'nat'], 'network.hostPort');
  if (nat) {
    for (const p of portmapPorts(parseNatTable(nat))) {
      out.push({ protocol: p.protocol, hostPort: p.hostPort, hostIP: p.hostIP, by: `CNI portmap, container "${p.containerId}"` });
    }
  }
  return out;
}

/** Whether two mappings claim the same port: same protocol and port, and one of them on every address or both on one. */
export function samePort(a: Omit<HostPortMapping, 'containerPort'>, b: Omit<HostPortMapping, 'containerPort'>): boolean {
  const anyAddress = (ip: string) => ip === '' || ip === '0.0.0.0';
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (anyAddress(a.hostIP) || anyAddress(b.hostIP) || a.hostIP === b.hostIP);
}

/** Throws, in one line, when any of `wanted` is published already (as bridge mode words it). */
export async function refuseTakenHostPorts(runner: CommandRunner, wanted: HostPortMapping[]): Promise<void> {
  if (wanted.length === 0) return;
  const published = await publishedHostPorts(runner);
  const taken = wanted.flatMap((m) => {
    const by = published.find((p) => samePort(m, p));
    return by ? [`${m.hostIP ? `${m.hostIP}:` : ''}${m.hostPort}/${m.protocol.toUpperCase()} (${by.by})`] : [];
  });
  if (taken.length) throw new PodnsError('network.hostPort', `hostPort ${taken.join(', ')}: already published by another pod`);
}

/** The command's output; undefined when the tool or the table is not there (any other failure is thrown). */
export async function readIfPresent(runner: CommandRunner, argv: string[], step: string): Promise<string | undefined> {
  try {
    return (await runner.run(argv, { step })).stdout;
  } catch (err) {
    // Not started (ENOENT), or "No such file or directory": nft's word for a missing table, and nsenter's
    // for a missing program; or "Protocol not supported": a kernel without nf_tables, which can hold no table.
    if (err instanceof CommandError && (err.exitCode === undefined || /No such file or directory|Protocol not supported/.test(err.stderr))) return undefined;
    throw err;
  }
}
