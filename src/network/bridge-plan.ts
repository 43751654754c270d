/**
 * Pure planners for the bridge network: the `ip -batch` lines and the nft script that set a pod up, as
 * plain text a person can read (and `--explain` can show) and unit tests can compare. Nothing here runs.
 */
import crypto from 'node:crypto';
import type { NetworkConfig } from './network-config.js';

export interface HostPortMapping {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  /** Empty for every local address. */
  hostIP: string;
  containerPort: number;
}

/** The host end of a pod's veth pair: `pn` + a hash of the pod id (15 characters is the kernel's limit). */
export function vethName(podId: string): string {
  return `pn${crypto.createHash('sha256').update(podId).digest('hex').slice(0, 12)}`;
}

export function planBridge(cfg: NetworkConfig): string[] {
  const prefix = cfg.subnet.split('/')[1];
  return [`link add name ${cfg.bridge} type bridge`, `addr add ${cfg.gateway}/${prefix} dev ${cfg.bridge}`, `link set ${cfg.bridge} up`];
}

/** Host side: the veth pair, its pod end created straight inside the pinned netns and named eth0. */
export function planHostLinks(cfg: NetworkConfig, veth: string, netnsName: string, mtu: number): string[] {
  return [
    `link add name ${veth} mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${netnsName}`,
    `link set ${veth} master ${cfg.bridge} up`,
  ];
}

/** Pod side, run with `ip -n <netns>`: address, link up, default route through the bridge. */
export function planPodLinks(cfg: NetworkConfig, ip: string): string[] {
  const prefix = cfg.subnet.split('/')[1];
  return [`addr add ${ip}/${prefix} dev eth0`, 'link set eth0 up', `route add default via ${cfg.gateway} dev eth0`];
}

export const NFT_TABLE = 'podns';

/**
 * podns's own nftables table: hostPort DNAT from maps (one element per published port, so a port can be
 * taken once only: `create element` fails on a duplicate), for traffic arriving from outside (prerouting)
 * and from the host itself (output, including 127.0.0.1); masquerade of DNATed traffic into the bridge (so
 * replies come back through us) and of the pods' egress.
 */
export function planNftTable(cfg: NetworkConfig): string {
  return `table ip ${NFT_TABLE} {
  map hostports { type inet_proto . inet_service : ipv4_addr . inet_service; }
  map hostports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @hostports_ip
    fib daddr type local dnat ip to meta l4proto . th dport map @hostports
  }
  chain output {
    type nat hook output priority -100; policy accept;
    fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @hostports_ip
    fib daddr type local dnat ip to meta l4proto . th dport map @hostports
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${cfg.bridge}" ct status dnat masquerade
    ip saddr ${cfg.subnet} oifname != "${cfg.bridge}" masquerade
  }
}
`;
}

function element(m: HostPortMapping, podIP: string): string {
  return m.hostIP
    ? `hostports_ip { ${m.hostIP} . ${m.protocol} . ${m.hostPort} : ${podIP} . ${m.containerPort} }`
    : `hostports { ${m.protocol} . ${m.hostPort} : ${podIP} . ${m.containerPort} }`;
}

export function planAddHostPorts(mappings: HostPortMapping[], podIP: string): string {
  return mappings.map((m) => `create element ip ${NFT_TABLE} ${element(m, podIP)}\n`).join('');
}

export function planDeleteHostPorts(mappings: HostPortMapping[]): string {
  return mappings
    .map((m) =>
      m.hostIP
        ? `delete element ip ${NFT_TABLE} hostports_ip { ${m.hostIP} . ${m.protocol} . ${m.hostPort} }\n`
        : `delete element ip ${NFT_TABLE} hostports { ${m.protocol} . ${m.hostPort} }\n`,
    )
    .join('');
}
