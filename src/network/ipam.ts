/**
 * IP address management: one lease file per address, `<lib>/network/<bridge>/leases/<ip>`, holding the pod id.
 * Creating the file with O_EXCL is the allocation, so two `podns run`s at once can never get the same address
 * and no lock is needed. Released at teardown; `podns gc` releases leases whose pod is gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PodnsError } from '../errors.js';
import { formatIPv4, parseSubnet, podAddresses } from './ipv4.js';

export function leasesDir(libRoot: string, bridge: string): string {
  return path.join(libRoot, 'network', bridge, 'leases');
}

export function allocateAddress(libRoot: string, bridge: string, subnetCidr: string, podId: string): string {
  const subnet = parseSubnet(subnetCidr)!;
  const dir = leasesDir(libRoot, bridge);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { first, last } = podAddresses(subnet);
  const taken = new Set(fs.readdirSync(dir));
  for (let n = first; n <= last; n++) {
    const ip = formatIPv4(n);
    if (taken.has(ip)) continue;
    try {
      fs.writeFileSync(path.join(dir, ip), `${podId}\n`, { flag: 'wx', mode: 0o600 });
      return ip;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new PodnsError('network.ipam', `no free address in ${subnetCidr} on bridge ${bridge}: all ${last - first + 1} are leased`);
}

export function releaseAddress(libRoot: string, bridge: string, ip: string, podId: string): void {
  const file = path.join(leasesDir(libRoot, bridge), ip);
  try {
    // Only our own lease: after a crash the address may have been released and leased again.
    if (fs.readFileSync(file, 'utf8').trim() === podId) fs.rmSync(file, { force: true });
  } catch {
    // already released
  }
}

/** Every lease as (ip, pod id). */
export function listLeases(libRoot: string, bridge: string): { ip: string; podId: string }[] {
  const dir = leasesDir(libRoot, bridge);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .map((ip) => ({ ip, podId: fs.readFileSync(path.join(dir, ip), 'utf8').trim() }));
}
