/**
 * `podns gc` for CNI mode: what the plugins keep for a pod that no longer exists, when no record of it is
 * left to run DEL from (its state went with /run, or was removed by hand). A pod whose state is still there
 * is torn down from its record by garbage.ts, DEL and all; this is what remains after that.
 *
 * Only what is podns's own is touched: host-local's leases in podns's IPAM directory (`<lib>/network/cni-ipam`,
 * which only podns's default list uses), and the nat rules and chains the plugins tagged with podns's default
 * network name (portmap's hostPort DNAT, the bridge plugin's masquerade; cni-iptables.ts). A user's own list
 * may share its network name and address directory with other runtimes (containerd reads /etc/cni/net.d too),
 * so its leftovers are collected only through the pods' records. As bridge mode's gc does, this takes one
 * podns root per network namespace for granted.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CommandRunner } from '../sys/command.js';
import { cniIpamDir, DEFAULT_CNI_NETWORK } from './cni-conflist.js';
import { parseNatTable, planRemoveContainerRules } from './cni-iptables.js';
import { readIfPresent } from './hostports.js';

/** A host-local lease: the file named by the address, holding `<container id>\r\n<ifname>`. */
interface Lease {
  file: string;
  ip: string;
  containerId: string;
}

export async function collectCniGarbage(libRoot: string, live: Set<string>, runner: CommandRunner, report: (line: string) => void): Promise<void> {
  for (const lease of listCniLeases(libRoot)) {
    if (live.has(lease.containerId)) continue;
    fs.rmSync(lease.file, { force: true });
    report(`released CNI address ${lease.ip} of pod ${lease.containerId}`);
  }

  // No iptables here: portmap and the bridge plugin's masquerade, which need it, cannot have left anything.
  const save = await readIfPresent(runner, ['iptables-save', '-t', 'nat'], 'gc.cni');
  if (save === undefined) return;
  const plan = planRemoveContainerRules(parseNatTable(save), (o) => o.network === DEFAULT_CNI_NETWORK && !live.has(o.containerId));
  if (!plan) return;
  await runner.run(['iptables-restore', '--noflush'], { input: plan.restore, step: 'gc.cni' });
  for (const [id, chains] of plan.chainsOf) {
    report(`removed the CNI nat rules of pod ${id}${chains.length ? ` (chains ${chains.join(', ')})` : ''}`);
  }
}

/** Every lease in podns's own host-local directory, of every network that keeps its addresses there. */
export function listCniLeases(libRoot: string): Lease[] {
  const out: Lease[] = [];
  const root = cniIpamDir(libRoot);
  for (const network of readdirOrNothing(root)) {
    const dir = path.join(root, network);
    // host-local keeps `lock` and `last_reserved_ip.<range>` beside the leases; a lease is named by its address.
    for (const name of readdirOrNothing(dir).filter((n) => /^[0-9.]+$|:/.test(n))) {
      const file = path.join(dir, name);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      out.push({ file, ip: name, containerId: text.split(/\r?\n/)[0]!.trim() });
    }
  }
  return out;
}

function readdirOrNothing(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
