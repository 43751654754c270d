/**
 * `podns gc`: finds what podns made and nothing owns any more, and removes it — pods whose supervisor and
 * processes are all gone (torn down from their state, like `rm -f`), address leases of pods that no longer
 * exist, pod veths on the bridge that belong to no pod, published ports that point at no leased address, what
 * the CNI plugins keep for pods that no longer exist (network/cni-garbage.ts), and the bridge with podns's nft
 * table once no pod uses them, and this root's network namespace pins (`podns-<root hash>-*` in /run/netns) of
 * pods that no longer exist. Other pins there are left alone: `ip netns add` makes the same kind of file, another
 * root's pods have pins of their own, and a pod of an earlier podns (pinned as /run/netns/<id>) is removed from
 * its record like any other. User namespace ranges (/run/podns-userns) this root leased for pods that no longer
 * exist go back too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { collectCniGarbage } from '../network/cni-garbage.js';
import { listLeases, releaseAddress } from '../network/ipam.js';
import type { NetworkConfig } from '../network/network-config.js';
import { NFT_TABLE, vethName } from '../network/bridge-plan.js';
import { hostPortElements } from '../network/hostports.js';
import { NETNS_DIR, netnsPinName, netnsPinPrefix, podsRunDir, type Roots } from '../state/paths.js';
import type { CommandRunner } from '../sys/command.js';
import type { Kernel } from '../kernel/kernel.js';
import { isAlive } from '../runtime/proc.js';
import { unpinNetworkNamespace } from '../runtime/sandbox.js';
import { releaseOrphanRanges, USERNS_LEASE_DIR, USERNS_SIZE } from '../runtime/userns-ranges.js';
import { readJsonIfExists } from '../state/atomic-file.js';
import type { PodPaths } from '../state/paths.js';
import { podProcessPids, removePodFromDisk } from './pod-teardown.js';
import { readPodStatus } from './pod-view.js';

export async function collectGarbage(
  roots: Roots,
  cfg: NetworkConfig,
  kernel: Pick<Kernel, 'signal' | 'umount'>,
  runner: CommandRunner,
  report: (line: string) => void,
): Promise<void> {
  const podsDir = podsRunDir(roots);
  const ids = fs.existsSync(podsDir) ? fs.readdirSync(podsDir) : [];
  const live = new Set<string>();
  for (const id of ids) {
    const file = path.join(podsDir, id);
    const spec = readJsonIfExists<{ paths: PodPaths }>(path.join(file, 'spec.json'));
    const state = spec && readPodStatus(spec.paths.runDir);
    if (!spec || !state) {
      live.add(id); // being created, or not ours to judge
      continue;
    }
    const orphaned = state.phase !== 'Stopped' && !isAlive(state.supervisor) && podProcessPids(spec.paths.runDir).length === 0;
    if (orphaned) {
      await removePodFromDisk(kernel, spec.paths, runner);
      report(`removed pod ${state.name} (its supervisor and processes were gone)`);
    } else {
      live.add(id);
    }
  }

  removeOrphanPins(roots, kernel, report);
  const podsNow = () => new Set(fs.existsSync(podsDir) ? fs.readdirSync(podsDir) : []);
  const leaseDir = process.env.PODNS_USERNS_LEASE_DIR ?? USERNS_LEASE_DIR;
  for (const base of releaseOrphanRanges(leaseDir, roots.run, (id) => podsNow().has(id))) {
    report(`released user namespace range ${base}-${base + USERNS_SIZE - 1} (${leaseDir}/${base}: its pod is gone)`);
  }

  // CNI mode's plugin state of pods gone without a record (whatever the mode now: it may have been switched).
  await collectCniGarbage(roots.lib, live, runner, report);

  const leases = listLeases(roots.lib, cfg.bridge);
  for (const lease of leases) {
    if (live.has(lease.podId)) continue;
    releaseAddress(roots.lib, cfg.bridge, lease.ip, lease.podId);
    report(`released address ${lease.ip} of pod ${lease.podId}`);
  }
  const leased = new Set(leases.filter((l) => live.has(l.podId)).map((l) => l.ip));

  const bridgeExists = (await runner.run(['ip', 'link', 'show', 'dev', cfg.bridge]).catch(() => undefined)) !== undefined;
  if (bridgeExists) {
    const ours = new Set([...live].map(vethName));
    const { stdout } = await runner.run(['ip', '-j', 'link', 'show', 'master', cfg.bridge]);
    for (const link of JSON.parse(stdout || '[]') as { ifname: string }[]) {
      if (!/^pn[0-9a-f]{12}$/.test(link.ifname) || ours.has(link.ifname)) continue;
      await runner.run(['ip', 'link', 'del', link.ifname]).catch(() => undefined);
      report(`deleted veth ${link.ifname} (no pod)`);
    }
  }

  const table = await runner.run(['nft', '-j', 'list', 'table', 'ip', NFT_TABLE]).catch(() => undefined);
  if (table) {
    for (const m of hostPortElements(table.stdout)) {
      if (leased.has(m.podIP)) continue;
      await runner.run(['nft', 'delete', 'element', 'ip', NFT_TABLE, m.map, `{ ${m.key} }`]).catch(() => undefined);
      report(`unpublished port ${m.key} (pointed at ${m.podIP}, which no pod has)`);
    }
  }

  if (live.size === 0) {
    if (table) {
      await runner.run(['nft', 'delete', 'table', 'ip', NFT_TABLE]);
      report(`deleted nft table ip ${NFT_TABLE}`);
    }
    if (bridgeExists) {
      await runner.run(['ip', 'link', 'del', cfg.bridge]);
      report(`deleted bridge ${cfg.bridge}`);
    }
  }
}

/**
 * This root's pins whose pod has no run directory. The directory is listed again here, not taken from above: a
 * `podns run` makes its run directory before its pin (and a removal drops the pin before the directory), so a
 * pod started meanwhile is seen and its pin kept.
 */
function removeOrphanPins(roots: Roots, kernel: Pick<Kernel, 'umount'>, report: (line: string) => void): void {
  const prefix = netnsPinPrefix(roots);
  const pins = fs.existsSync(NETNS_DIR) ? fs.readdirSync(NETNS_DIR).filter((name) => name.startsWith(prefix)) : [];
  if (pins.length === 0) return;
  const podsDir = podsRunDir(roots);
  const owned = new Set((fs.existsSync(podsDir) ? fs.readdirSync(podsDir) : []).map((id) => netnsPinName(roots, id)));
  for (const name of pins) {
    if (owned.has(name)) continue;
    unpinNetworkNamespace(kernel, path.join(NETNS_DIR, name));
    report(`removed network namespace pin ${path.join(NETNS_DIR, name)} (no pod)`);
  }
}
