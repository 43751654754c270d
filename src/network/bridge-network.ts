/**
 * The bridge network, carried out: the host bridge (created on first use), one veth pair per pod with its
 * pod end as eth0 in the pinned netns, an address from IPAM, a default route, and hostPorts as elements of
 * podns's nftables maps. Every object is recorded (through `record`) before it is made, so teardown — by the
 * supervisor, or from the records after it died — removes exactly what exists. All through `ip` and `nft`.
 *
 * A long-running caller passes a BridgeCache: once the bridge and the table are known to exist, a pod's start
 * is two `ip -batch` runs (and one `nft` with hostPorts) instead of four or five; should something have removed
 * them meanwhile (`podns gc` removes an idle bridge), the failing step says so, and they are made again.
 */
import fs from 'node:fs';
import { PodnsError, CommandError } from '../errors.js';
import type { CommandRunner } from '../sys/command.js';
import { allocateAddress, releaseAddress } from './ipam.js';
import type { NetworkConfig } from './network-config.js';
import {
  planAddHostPorts,
  planBridge,
  planDeleteHostPorts,
  planHostLinks,
  planNftTable,
  planPodLinks,
  vethName,
  NFT_TABLE,
  type HostPortMapping,
} from './bridge-plan.js';

export interface BridgeNetworkRecord {
  mode: 'bridge';
  bridge: string;
  subnet: string;
  gateway: string;
  ip?: string;
  veth?: string;
  hostPorts: HostPortMapping[];
}

async function ipBatch(runner: CommandRunner, lines: string[], netns?: string): Promise<void> {
  await runner.run(['ip', ...(netns ? ['-n', netns] : []), '-batch', '-'], { input: lines.join('\n') + '\n', step: 'network.ip' });
}

async function linkMtu(runner: CommandRunner, name: string): Promise<number | undefined> {
  try {
    const { stdout } = await runner.run(['ip', '-j', 'link', 'show', 'dev', name], { step: 'network.ip' });
    return (JSON.parse(stdout) as { mtu: number }[])[0]?.mtu;
  } catch {
    return undefined;
  }
}

/**
 * The bridge and podns's nft table, made once per host (network namespace). Two `podns run`s may race here:
 * the loser's `ip link add` or `create table` fails with "exists", and it goes on with what the winner made.
 */
async function ensureBridge(cfg: NetworkConfig, runner: CommandRunner): Promise<number> {
  let mtu = await linkMtu(runner, cfg.bridge);
  if (mtu === undefined) {
    try {
      await ipBatch(runner, planBridge(cfg));
    } catch (err) {
      if (!(err instanceof CommandError) || !/File exists|already assigned/.test(err.stderr)) throw err;
    }
    mtu = (await linkMtu(runner, cfg.bridge)) ?? 1500;
    // hostPorts reached through 127.0.0.1 leave with a loopback source: route_localnet lets them out of the
    // bridge, and forwarding carries DNATed traffic from other hosts (what CNI's bridge and portmap set).
    writeSysctl(`/proc/sys/net/ipv4/conf/${cfg.bridge}/route_localnet`, '1');
    writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
  }
  try {
    await runner.run(['nft', 'list', 'table', 'ip', NFT_TABLE], { step: 'network.nft' });
  } catch {
    try {
      await runner.run(['nft', '-f', '-'], { input: planNftTable(cfg), step: 'network.nft' });
    } catch (err) {
      if (!(err instanceof CommandError) || !/File exists/.test(err.stderr)) throw err;
    }
  }
  return mtu;
}

function writeSysctl(path: string, value: string): void {
  try {
    fs.writeFileSync(path, value);
  } catch (err) {
    throw new PodnsError('network.sysctl', `write ${path}: ${(err as Error).message}`);
  }
}

/** What a long-running caller knows to exist: the bridge (with its MTU) and podns's nft table, by bridge name. */
export type BridgeCache = Map<string, { mtu: number }>;

/** A step failed because the bridge or the table it needs is not there (any more). */
function missingBridge(err: unknown, bridge: string): boolean {
  return err instanceof CommandError && (err.stderr.includes(`Cannot find device "${bridge}"`) || /No such file or directory/.test(err.stderr));
}

export async function setUpPodNetwork(
  cfg: NetworkConfig,
  runner: CommandRunner,
  libRoot: string,
  podId: string,
  netnsName: string,
  hostPorts: HostPortMapping[],
  record: (r: BridgeNetworkRecord) => void,
  cache: BridgeCache = new Map(),
): Promise<BridgeNetworkRecord> {
  const rec: BridgeNetworkRecord = { mode: 'bridge', bridge: cfg.bridge, subnet: cfg.subnet, gateway: cfg.gateway, hostPorts: [] };
  /** With the bridge and table the cache knows of (or made now); once more after making them again when gone. */
  const withBridge = async (step: (mtu: number) => Promise<void>): Promise<void> => {
    const known = cache.get(cfg.bridge);
    const mtu = known?.mtu ?? (await ensureBridge(cfg, runner));
    cache.set(cfg.bridge, { mtu });
    try {
      await step(mtu);
    } catch (err) {
      if (!known || !missingBridge(err, cfg.bridge)) throw err;
      cache.delete(cfg.bridge);
      const again = await ensureBridge(cfg, runner);
      cache.set(cfg.bridge, { mtu: again });
      await step(again);
    }
  };
  rec.ip = allocateAddress(libRoot, cfg.bridge, cfg.subnet, podId);
  rec.veth = vethName(podId);
  record(rec);
  await withBridge((mtu) => ipBatch(runner, planHostLinks(cfg, rec.veth!, netnsName, mtu)));
  await ipBatch(runner, planPodLinks(cfg, rec.ip), netnsName);
  if (hostPorts.length) {
    rec.hostPorts = hostPorts;
    record(rec);
    try {
      // One transaction: either every port of the pod is published or none is.
      await withBridge(() => runner.run(['nft', '-f', '-'], { input: planAddHostPorts(hostPorts, rec.ip!), step: 'network.nft' }).then(() => undefined));
    } catch (err) {
      rec.hostPorts = [];
      record(rec);
      if (err instanceof CommandError && /File exists/.test(err.stderr)) {
        const list = hostPorts.map((m) => `${m.hostIP ? `${m.hostIP}:` : ''}${m.hostPort}/${m.protocol.toUpperCase()}`).join(', ');
        throw new PodnsError('network.hostPort', `hostPort ${list}: already published by another pod`);
      }
      throw err;
    }
  }
  return rec;
}

/** Removes what the record says exists; missing pieces are fine (idempotent). */
export async function tearDownPodNetwork(rec: BridgeNetworkRecord, runner: CommandRunner, libRoot: string, podId: string): Promise<void> {
  const errors: unknown[] = [];
  if (rec.hostPorts.length) {
    // Element by element, so one already gone does not keep the others.
    for (const m of rec.hostPorts) {
      await runner.run(['nft', '-f', '-'], { input: planDeleteHostPorts([m]), step: 'network.nft' }).catch(() => undefined);
    }
  }
  if (rec.veth) {
    // Deleting one end deletes the pair (and the pod's eth0 goes with its netns anyway).
    await runner.run(['ip', 'link', 'del', rec.veth], { step: 'network.ip' }).catch((err) => {
      if (!(err instanceof CommandError && /Cannot find device/.test(err.stderr))) errors.push(err);
    });
  }
  if (rec.ip) releaseAddress(libRoot, rec.bridge, rec.ip, podId);
  if (errors.length) throw errors[0];
}

/** The hostPorts a pod's containers publish, deduplicated as nft keys them. */
export function hostPortsOf(containers: { ports: { containerPort: number; protocol: string; hostPort?: number; hostIP?: string }[] }[]): HostPortMapping[] {
  return containers.flatMap((c) =>
    c.ports
      .filter((p) => p.hostPort !== undefined)
      .map((p) => ({ protocol: p.protocol.toLowerCase() as 'tcp' | 'udp', hostPort: p.hostPort!, hostIP: p.hostIP ?? '', containerPort: p.containerPort })),
  );
}
