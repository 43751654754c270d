/**
 * The CRI endpoint's settings: `cri.json` in podns's etc folder (/etc/podns, or DIR/etc under --root), all
 * optional. The network follows containerd's CRI plugin: the first CNI config in the conf dir, the plugins in
 * the bin dirs. The streaming server (Exec, Attach, PortForward's URLs) follows containerd's stream_server_address
 * and stream_server_port: 127.0.0.1 and a port the kernel picks; its tokens live a minute (kubelet's and
 * containerd's, not configurable there; tests shorten it here).
 *
 *   { "cniConfDir": "/etc/cni/net.d", "cniBinDirs": ["/opt/cni/bin"],
 *     "streamServerAddress": "127.0.0.1", "streamServerPort": 0, "streamTokenTtlMs": 60000 }
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { DEFAULT_NETWORK, type NetworkConfig } from '../network/network-config.js';

export interface CriSettings {
  cniConfDir: string;
  cniBinDirs: string[];
  streamServerAddress: string;
  /** 0: the kernel's choice. */
  streamServerPort: number;
  streamTokenTtlMs: number;
}

export const DEFAULT_CRI_SETTINGS: CriSettings = {
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
  streamServerAddress: '127.0.0.1',
  streamServerPort: 0,
  streamTokenTtlMs: 60_000,
};

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
  if (typeof settings.streamServerAddress !== 'string' || !settings.streamServerAddress) throw new UserError('ECONFIG', `${file}: streamServerAddress must be an IP address`);
  if (!Number.isInteger(settings.streamServerPort) || settings.streamServerPort < 0 || settings.streamServerPort > 65535) {
    throw new UserError('ECONFIG', `${file}: streamServerPort must be a port (0 to 65535), not ${JSON.stringify(settings.streamServerPort)}`);
  }
  if (!Number.isInteger(settings.streamTokenTtlMs) || settings.streamTokenTtlMs <= 0) throw new UserError('ECONFIG', `${file}: streamTokenTtlMs must be a positive number of milliseconds`);
  return settings;
}

/** The network config of a CRI sandbox: CNI, with a config file required. */
export function criNetwork(settings: CriSettings): NetworkConfig {
  return { ...DEFAULT_NETWORK, gateway: '', mode: 'cni', cniConfDir: settings.cniConfDir, cniBinDirs: settings.cniBinDirs, cniRequired: true };
}
