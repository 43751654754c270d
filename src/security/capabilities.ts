import { CAPABILITY_NAMES } from '../manifest/capabilities.js';

/**
 * Linux capabilities by name, the container runtime default set, and Kubernetes' add/drop rules as
 * containerd's CRI applies them (add ALL, then drop ALL, then the single adds, then the single drops).
 */

/** Capability numbers from linux/capability.h: the manifest's list, in bit order. */
export const CAPABILITIES: readonly string[] = CAPABILITY_NAMES;

/** containerd's defaultUnixCaps (pkg/oci/spec.go): as a mask 0xa80425fb. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** NET_ADMIN, net_admin and CAP_NET_ADMIN all name one capability. */
export function normalizeCapability(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

export function isKnownCapability(name: string): boolean {
  const n = normalizeCapability(name);
  return n === 'ALL' || CAPABILITIES.includes(n);
}

/**
 * The capability set of a container: privileged gets every one; otherwise the defaults with add/drop.
 * "Every one" means every capability podns itself holds (containerd takes the same from cap.Current()):
 * a kernel or a host that withholds one (CAP_SYS_MODULE on some VMs) cannot hand it on.
 */
export function resolveCapabilities(
  spec: { add: string[]; drop: string[] } | undefined,
  privileged: boolean,
  available: readonly string[] = CAPABILITIES,
): string[] {
  if (privileged) return CAPABILITIES.filter((c) => available.includes(c));
  const add = (spec?.add ?? []).map(normalizeCapability);
  const drop = (spec?.drop ?? []).map(normalizeCapability);
  let caps = new Set(DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(CAPABILITIES.filter((c) => available.includes(c)));
  if (drop.includes('ALL')) caps = new Set();
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) if (c !== 'ALL') caps.delete(c);
  return CAPABILITIES.filter((c) => caps.has(c));
}

export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITIES.indexOf(normalizeCapability(name));
    if (bit < 0) throw new Error(`unknown capability ${name}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** The capabilities in a CapBnd/CapEff hex mask, as /proc/PID/status prints it. */
export function capabilitiesInMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}
