/**
 * The CRI endpoint's settings: `cri.json` in podns's etc folder (/etc/podns, or DIR/etc under --root), all
 * optional. The network follows containerd's CRI plugin: the first CNI config in the conf dir, the plugins in
 * the bin dirs.
 *
 *   { "cniConfDir": "/etc/cni/net.d", "cniBinDirs": ["/opt/cni/bin"], "clusterDomain": "cluster.local" }
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { DEFAULT_NETWORK, type NetworkConfig } from '../network/network-config.js';

export interface CriSettings {
  cniConfDir: string;
  cniBinDirs: string[];
}

export const DEFAULT_CRI_SETTINGS: CriSettings = { cniConfDir: '/etc/cni/net.d', cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'] };

export function loadCriSettings(etcDir: string): CriSettings {
  const file = path.join(etcDir, 'cri.json');
  let fromFile: Partial<CriSettings> = {};
  try {
    fromFile = JSON.parse(process.getBuiltinModule('node:fs').readFileSync(file, 'utf8')) as Partial<CriSettings>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError('ECONFIG', `${file}: ${err instanceof SyntaxError ? `invalid JSON: ${err.message}` : String(err)}`);
  }
  const settings = { ...DEFAULT_CRI_SETTINGS, ...fromFile };
  if (typeof settings.cniConfDir !== 'string' || !Array.isArray(settings.cniBinDirs)) throw new UserError('ECONFIG', `${file}: cniConfDir must be a path and cniBinDirs a list of paths`);
  return settings;
}

/** The network config of a CRI sandbox: CNI, with a config file required. */
export function criNetwork(settings: CriSettings): NetworkConfig {
  return { ...DEFAULT_NETWORK, gateway: '', mode: 'cni', cniConfDir: settings.cniConfDir, cniBinDirs: settings.cniBinDirs, cniRequired: true };
}
