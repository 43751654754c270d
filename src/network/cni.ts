/**
 * The CNI network (network.json `"mode": "cni"`): the pod is attached by the standard CNI plugins, run as
 * the CNI spec v1.0.0 says ("Execution of Network Configurations"): ADD for each plugin of the list in
 * order, each given the previous plugin's result; CHECK in order and DEL in reverse order, both given the
 * cached final ADD result. The list used is kept in the record, so DEL gets the very same config even if
 * the file in /etc/cni/net.d changed since. The record is written (through `record`) before every ADD, so a
 * teardown after a crash — by the supervisor or `podns rm -f` — still runs DEL (plugins must tolerate DEL of what
 * was never made). A hostPort another pod publishes already (in either mode) is refused first, in one line.
 */
import type { CommandRunner } from '../sys/command.js';
import type { HostPortMapping } from './bridge-plan.js';
import { loadConflist, pluginStdin, toCniPortMappings, type CniConflist } from './cni-conflist.js';
import { execPlugin } from './cni-exec.js';
import { refuseTakenHostPorts } from './hostports.js';
import type { NetworkConfig } from './network-config.js';

export interface CniNetworkRecord {
  mode: 'cni';
  /** The exact network config list used for ADD. */
  conflist: CniConflist;
  /** Where the list came from: a file in the conf dir or "podns default" (for inspect and people). */
  source: string;
  /** The bin dirs the plugins were found in, so teardown does not depend on today's network.json. */
  binDirs: string[];
  containerId: string;
  ifName: 'eth0';
  netnsPath: string;
  ip?: string;
  /** The result of the last ADD that succeeded: after setUpCni, the list's final result. */
  prevResult?: object;
  hostPorts: HostPortMapping[];
}

export async function setUpCni(
  cfg: NetworkConfig,
  runner: CommandRunner,
  libRoot: string,
  podId: string,
  netnsPath: string,
  hostPorts: HostPortMapping[],
  record: (r: CniNetworkRecord) => void,
): Promise<CniNetworkRecord> {
  // Refused before anything is made or recorded: the pod's teardown has nothing of the network to undo.
  await refuseTakenHostPorts(runner, hostPorts);
  const { conflist, source } = loadConflist(cfg, libRoot, cfg.cniRequired);
  const rec: CniNetworkRecord = { mode: 'cni', conflist, source, binDirs: [...cfg.cniBinDirs], containerId: podId, ifName: 'eth0', netnsPath, hostPorts };
  const portMappings = toCniPortMappings(hostPorts);
  for (const plugin of conflist.plugins) {
    record(rec);
    const result = await execPlugin(runner, {
      ...invocation(rec, 'ADD'),
      config: pluginStdin(conflist, plugin, { prevResult: rec.prevResult, portMappings }),
    });
    // A plugin that adds nothing of its own still has to pass prevResult on; keep the last one if it did not.
    if (result) rec.prevResult = result;
  }
  rec.ip = podIPOf(rec.prevResult);
  record(rec);
  return rec;
}

/** CHECK each plugin in order against the cached result (skipped for lists that disable it or predate 0.4.0). */
export async function checkCni(rec: CniNetworkRecord, runner: CommandRunner): Promise<void> {
  if (rec.conflist.disableCheck || !versionAtLeast(rec.conflist.cniVersion, [0, 4, 0])) return;
  const portMappings = toCniPortMappings(rec.hostPorts);
  for (const plugin of rec.conflist.plugins) {
    await execPlugin(runner, { ...invocation(rec, 'CHECK'), config: pluginStdin(rec.conflist, plugin, { prevResult: rec.prevResult, portMappings }) });
  }
}

/**
 * DEL each plugin in reverse order with the cached result. Every plugin gets its DEL even when an earlier
 * one failed (its leases and rules must go whatever happened to the veth); the first error is thrown at the end.
 */
export async function tearDownCni(rec: CniNetworkRecord, runner: CommandRunner): Promise<void> {
  const portMappings = toCniPortMappings(rec.hostPorts);
  const errors: unknown[] = [];
  for (const plugin of [...rec.conflist.plugins].reverse()) {
    await execPlugin(runner, { ...invocation(rec, 'DEL'), config: pluginStdin(rec.conflist, plugin, { prevResult: rec.prevResult, portMappings }) }).catch((err) =>
      errors.push(err),
    );
  }
  if (errors.length) throw errors[0];
}

function invocation(rec: CniNetworkRecord, command: 'ADD' | 'DEL' | 'CHECK') {
  return { command, containerId: rec.containerId, netnsPath: rec.netnsPath, ifName: rec.ifName, binDirs: rec.binDirs };
}

/**
 * The pod IP from a result: the first IPv4 of `ips` (0.3.0 and later; the spec's `ips[0]` when the list has
 * no IPv4), or `ip4.ip` of a 0.1/0.2 result; without the prefix length.
 */
export function podIPOf(result: object | undefined): string | undefined {
  const r = result as { ips?: { address?: string }[]; ip4?: { ip?: string } } | undefined;
  const addresses = (r?.ips ?? []).map((i) => i.address).filter((a): a is string => typeof a === 'string');
  const address = addresses.find((a) => !a.includes(':')) ?? addresses[0] ?? r?.ip4?.ip;
  return address?.split('/')[0];
}

function versionAtLeast(version: string, min: [number, number, number]): boolean {
  const parts = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i]!;
  }
  return true;
}
