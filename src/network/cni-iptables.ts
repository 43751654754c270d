/**
 * What the reference CNI plugins keep in the nat table, read from `iptables-save -t nat` (pure: text in, facts
 * out). Both tag their rules with the attachment they belong to, in a comment: portmap's jump into a pod's
 * `CNI-DN-<hash>` chain says `dnat name: "<network>" id: "<container id>"`, the bridge plugin's masquerade
 * rules (ipMasq) and the jump into its `CNI-<hash>` chain say `name: "<network>" id: "<container id>"`. From
 * these come the hostPorts portmap publishes (for podns's refusal of a taken hostPort) and the rules and chains
 * of one container (for `podns gc`, which removes them as `iptables-restore --noflush` input).
 */
import type { HostPortMapping } from './bridge-plan.js';

/** One `-A CHAIN ...` line: the chain, the rest as written (for a `-D` of the very same rule), and what it says. */
export interface NatRule {
  chain: string;
  /** Everything after `-A CHAIN `, quoting as iptables-save wrote it (iptables-restore reads it back). */
  spec: string;
  args: string[];
  target?: string;
  /** The attachment a plugin tagged the rule with. */
  owner?: { network: string; containerId: string };
}

export interface NatTable {
  chains: string[];
  rules: NatRule[];
}

/** The rules and user chains of the nat table in `iptables-save -t nat` output. */
export function parseNatTable(save: string): NatTable {
  const table: NatTable = { chains: [], rules: [] };
  let inNat = false;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) inNat = line === '*nat';
    else if (!inNat) continue;
    else if (line.startsWith(':')) table.chains.push(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) {
      const rest = line.slice(3);
      const chain = rest.split(' ')[0]!;
      const spec = rest.slice(chain.length + 1);
      const args = splitArgs(spec);
      const comment = valueOf(args, '--comment');
      const tag = comment && /(?:^|\s)name: "([^"]*)" id: "([^"]*)"/.exec(comment);
      table.rules.push({ chain, spec, args, target: valueOf(args, '-j'), ...(tag ? { owner: { network: tag[1]!, containerId: tag[2]! } } : {}) });
    }
  }
  return table;
}

/** A hostPort that portmap publishes: the DNAT rules of a `CNI-DN-` chain, with the container it is for. */
export interface PortmapPort extends Omit<HostPortMapping, 'containerPort'> {
  network: string;
  containerId: string;
}

export function portmapPorts(table: NatTable): PortmapPort[] {
  // portmap jumps from CNI-HOSTPORT-DNAT into the pod's chain; only that jump carries the comment.
  const ownerOf = new Map<string, { network: string; containerId: string }>();
  for (const r of table.rules) if (r.chain === 'CNI-HOSTPORT-DNAT' && r.target && r.owner) ownerOf.set(r.target, r.owner);
  const out: PortmapPort[] = [];
  for (const r of table.rules) {
    const owner = ownerOf.get(r.chain);
    if (!owner || r.target !== 'DNAT') continue;
    const protocol = valueOf(r.args, '-p');
    const hostPort = Number(valueOf(r.args, '--dport'));
    if ((protocol !== 'tcp' && protocol !== 'udp') || !Number.isInteger(hostPort)) continue;
    out.push({ protocol, hostPort, hostIP: (valueOf(r.args, '-d') ?? '').replace(/\/32$/, ''), ...owner });
  }
  return out;
}

/** A container's own chains (`CNI-<hash>`, `CNI-DN-<hash>`: named by the plugins from the network and id). */
const CONTAINER_CHAIN = /^CNI-(?:DN-)?[0-9a-f]{20,}$/;

/**
 * `iptables-restore --noflush` input that removes what the plugins made for the containers `isGone` picks:
 * the tagged rules in shared chains (POSTROUTING, CNI-HOSTPORT-DNAT), then the containers' own chains, flushed
 * and deleted. Undefined when there is nothing of theirs.
 */
export function planRemoveContainerRules(
  table: NatTable,
  isGone: (owner: { network: string; containerId: string }) => boolean,
): { restore: string; chainsOf: Map<string, string[]> } | undefined {
  const theirs = table.rules.filter((r) => r.owner && isGone(r.owner));
  if (theirs.length === 0) return undefined;
  /** Container id -> the chains of its own that go. */
  const chainsOf = new Map<string, Set<string>>();
  for (const r of theirs) {
    const chains = chainsOf.get(r.owner!.containerId) ?? new Set<string>();
    chainsOf.set(r.owner!.containerId, chains);
    if (r.target && CONTAINER_CHAIN.test(r.target) && table.chains.includes(r.target)) chains.add(r.target);
  }
  const own = new Set([...chainsOf.values()].flatMap((c) => [...c]));
  const lines = ['*nat'];
  // Rules inside the chains that go are flushed with them; the jumps into them go first (-X refuses a chain
  // that is still referenced).
  for (const r of theirs) if (!own.has(r.chain)) lines.push(`-D ${r.chain} ${r.spec}`);
  for (const c of own) lines.push(`-F ${c}`, `-X ${c}`);
  lines.push('COMMIT', '');
  return { restore: lines.join('\n'), chainsOf: new Map([...chainsOf].map(([id, c]) => [id, [...c]])) };
}

function valueOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  // `! -d x` negates the match: not an address the rule is for.
  if (i < 0 || args[i - 1] === '!') return undefined;
  return args[i + 1];
}

/** Splits a rule as iptables-save quotes it: words, and "double quoted" words with \" and \\ escapes. */
function splitArgs(spec: string): string[] {
  const args: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < spec.length) word += spec[++i];
      else if (ch === '"') quoted = false;
      else word += ch;
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === ' ') {
      if (inWord) args.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) args.push(word);
  return args;
}
