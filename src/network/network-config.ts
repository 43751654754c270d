/**
 * podns's network settings: `network.json` in podns's etc folder (/etc/podns, or DIR/etc under --root), with
 * environment overrides for tests. The default subnet stays clear of podman's 10.88.0.0/16.
 *
 *   { "mode": "bridge" | "cni" | "none", "bridge": "podns0", "subnet": "10.89.0.0/16", "cniConfDir": "/etc/cni/net.d",
 *     "clusterDomain": "cluster.local" }
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { formatIPv4, formatSubnet, gatewayOf, parseSubnet } from './ipv4.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

export interface NetworkConfig {
  mode: 'bridge' | 'cni' | 'none';
  bridge: string;
  subnet: string;
  gateway: string;
  /** CNI mode: where the conflist is looked for; podns's own default is used when none is there. */
  cniConfDir: string;
  cniBinDirs: string[];
  /** kubelet's --cluster-domain: a pod with a subdomain is <hostname>.<subdomain>.<namespace>.svc.<this>. */
  clusterDomain: string;
  /** CNI mode: a config file in cniConfDir is required (the CRI's sandboxes), no podns default. */
  cniRequired?: boolean;
}

export const DEFAULT_NETWORK: Omit<NetworkConfig, 'gateway'> = {
  mode: 'bridge',
  bridge: 'podns0',
  subnet: '10.89.0.0/16',
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/usr/lib/cni', '/opt/cni/bin'],
  // What kubeadm, kind and minikube configure kubelet with (kubelet's own default is empty).
  clusterDomain: 'cluster.local',
};

export function loadNetworkConfig(etcDir: string, env: NodeJS.ProcessEnv = process.env): NetworkConfig {
  const file = path.join(etcDir, 'network.json');
  let fromFile: Partial<NetworkConfig> = {};
  try {
    fromFile = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<NetworkConfig>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UserError('ECONFIG', `${file}: ${err instanceof SyntaxError ? `invalid JSON: ${err.message}` : String(err)}`);
    }
  }
  const merged = {
    ...DEFAULT_NETWORK,
    ...fromFile,
    ...(env.PODNS_NETWORK_MODE ? { mode: env.PODNS_NETWORK_MODE as NetworkConfig['mode'] } : {}),
    ...(env.PODNS_BRIDGE ? { bridge: env.PODNS_BRIDGE } : {}),
    ...(env.PODNS_SUBNET ? { subnet: env.PODNS_SUBNET } : {}),
  };
  if (!['bridge', 'cni', 'none'].includes(merged.mode)) throw new UserError('ECONFIG', `${file}: mode must be bridge, cni or none, not "${merged.mode}"`);
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(merged.bridge)) throw new UserError('ECONFIG', `${file}: bridge "${merged.bridge}" is not a valid interface name`);
  const subnet = parseSubnet(merged.subnet);
  if (!subnet) throw new UserError('ECONFIG', `${file}: subnet "${merged.subnet}" is not an IPv4 CIDR with a prefix between /8 and /30`);
  return { ...merged, subnet: formatSubnet(subnet), gateway: formatIPv4(gatewayOf(subnet)) };
}
