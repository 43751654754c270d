/**
 * CNI network configuration: which network config list a pod gets (the first file in the conf dir, or
 * podns's own default), and the exact JSON each plugin receives on stdin (CNI spec v1.0.0, section
 * "Execution of Network Configurations": `name` and `cniVersion` from the list, `prevResult`, and the
 * `runtimeConfig` keys the plugin declared in `capabilities`). Pure apart from reading the conf dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PodnsError } from '../errors.js';
import type { HostPortMapping } from './bridge-plan.js';
import type { NetworkConfig } from './network-config.js';

/** One plugin's entry in a network config list; everything but `type` is passed through untouched. */
export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConflist {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: CniPluginConf[];
  [key: string]: unknown;
}

/** Where host-local keeps its leases in podns's default list: `<lib>/network/cni-ipam/<network name>/<ip>`. */
export function cniIpamDir(libRoot: string): string {
  return path.join(libRoot, 'network', 'cni-ipam');
}

/** The name of podns's default list: the plugins tag their state with it (host-local's directory, nat rule comments). */
export const DEFAULT_CNI_NETWORK = 'podns';

/**
 * podns's default list: the same pod IP behaviour as bridge mode (bridge, subnet, gateway from network.json),
 * built from the reference plugins. No `loopback` plugin: the pause brings the pod's `lo` up itself before it
 * execs (see sandbox.ts), so there is nothing left for it to do.
 */
export function defaultConflist(cfg: NetworkConfig, libRoot: string): CniConflist {
  return {
    cniVersion: '1.0.0',
    name: DEFAULT_CNI_NETWORK,
    plugins: [
      {
        type: 'bridge',
        bridge: cfg.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: cfg.subnet, gateway: cfg.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: cniIpamDir(libRoot),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** The extensions libcni reads; a `.conf`/`.json` holds a single plugin's config. */
const CONF_EXTENSIONS = ['.conflist', '.conf', '.json'];

/** The first config file in `dir` in lexical order (as containerd and CRI-O pick their default network), if any. */
export function cniConfFile(dir: string): string | undefined {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PodnsError('network.cni', `read CNI config dir "${dir}": ${(err as Error).message}`, { cause: err });
    }
  }
  const file = names.filter((n) => CONF_EXTENSIONS.includes(path.extname(n))).sort()[0];
  return file === undefined ? undefined : path.join(dir, file);
}

/**
 * The list a new pod gets: cniConfFile's, a single `.conf` wrapped into a list as libcni's ConfListFromConf does;
 * podns's default when the directory has none (or does not exist), unless `required` (the CRI: kubelet's
 * network must be configured, as containerd wants it).
 */
export function loadConflist(cfg: NetworkConfig, libRoot: string, required = false): { conflist: CniConflist; source: string } {
  const full = cniConfFile(cfg.cniConfDir);
  if (full === undefined) {
    if (required) throw new PodnsError('network.cni', `no CNI network config in ${cfg.cniConfDir} (NetworkReady is false until there is one)`);
    return { conflist: defaultConflist(cfg, libRoot), source: 'podns default' };
  }
  return { conflist: parseConflist(full, fs.readFileSync(full, 'utf8')), source: full };
}

/** Parses a `.conflist` or a single-plugin `.conf` (wrapped into a one-plugin list). */
export function parseConflist(file: string, text: string): CniConflist {
  const bad = (why: string) => new PodnsError('network.cni', `CNI config ${file}: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad(`invalid JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object');
  const obj = json as Record<string, unknown>;
  const list: Record<string, unknown> =
    path.extname(file) === '.conflist'
      ? obj
      : // libcni: the list takes the conf's name and cniVersion, the conf itself is the only plugin.
        { cniVersion: obj.cniVersion, name: obj.name, plugins: [obj] };
  if (typeof list.name !== 'string' || !list.name) throw bad('"name" is missing');
  if (typeof list.cniVersion !== 'string' || !list.cniVersion) throw bad('"cniVersion" is missing');
  if (!Array.isArray(list.plugins) || list.plugins.length === 0) throw bad('"plugins" is missing or empty');
  list.plugins.forEach((p, i) => {
    if (!p || typeof p !== 'object' || typeof (p as CniPluginConf).type !== 'string' || !(p as CniPluginConf).type) throw bad(`plugins[${i}]: "type" is missing`);
    if (!/^[A-Za-z0-9_.-]+$/.test((p as CniPluginConf).type)) throw bad(`plugins[${i}]: type "${(p as CniPluginConf).type}" is not a plugin name`);
  });
  return list as CniConflist;
}

/** runtimeConfig.portMappings as the portmap plugin reads it (CNI CONVENTIONS.md, "Port mappings"). */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

export function toCniPortMappings(hostPorts: HostPortMapping[]): CniPortMapping[] {
  return hostPorts.map((m) => ({
    hostPort: m.hostPort,
    containerPort: m.containerPort,
    protocol: m.protocol,
    // Empty means every local address: portmap wants the key absent then.
    ...(m.hostIP ? { hostIP: m.hostIP } : {}),
  }));
}

/**
 * The config one plugin gets on stdin: its own entry, `name` and `cniVersion` from the list, `prevResult`
 * when there is one, and `runtimeConfig` with only the capabilities it declared (spec: "Deriving
 * runtimeConfig"). The list's entry is copied, never changed.
 */
export function pluginStdin(
  list: CniConflist,
  plugin: CniPluginConf,
  args: { prevResult?: object; portMappings: CniPortMapping[] },
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...structuredClone(plugin), name: list.name, cniVersion: list.cniVersion };
  if (args.prevResult !== undefined) conf.prevResult = args.prevResult;
  else delete conf.prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  if (plugin.capabilities?.portMappings) runtimeConfig.portMappings = args.portMappings;
  if (Object.keys(runtimeConfig).length) conf.runtimeConfig = { ...((conf.runtimeConfig as object | undefined) ?? {}), ...runtimeConfig };
  return conf;
}
