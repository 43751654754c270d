/**
 * How a container is confined, decided from its securityContext (with the pod's as default, Kubernetes'
 * precedence) and applied by the addon: capability sets, no_new_privs, masked and read-only /proc and /sys
 * paths, a read-only root, the seccomp profile. The plan is plain JSON (kept in state.json, reused by exec);
 * `securityFor` turns it into the addon's SecuritySpec.
 */
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import type { SeccompSpec } from './seccomp-profile.js';
import type { MountStep, SecuritySpec } from '../kernel/types.js';
import { CAPABILITIES, capabilitiesInMask, capabilityMask, resolveCapabilities } from './capabilities.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

/** kubelet's defaults (pkg/securitycontext/util.go), kept in sync with moby there. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface Confinement {
  privileged: boolean;
  /** Names, as in CAPABILITIES. */
  capabilities: string[];
  noNewPrivs: boolean;
  readonlyRoot: boolean;
  /** procMount Unmasked (or privileged): no masked or read-only paths. */
  unmasked: boolean;
  /** The paths to mask and make read-only as the CRI caller listed them (kubelet does); absent: podns's defaults. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** undefined: Unconfined. */
  seccomp?: SeccompSpec;
}

/** The capabilities this process holds in its bounding set: the most a container can be given. */
export function ownCapabilities(procStatus = '/proc/self/status'): string[] {
  const hex = fs.readFileSync(procStatus, 'utf8').match(/^CapBnd:\s*([0-9a-f]+)$/m)?.[1];
  return hex ? capabilitiesInMask(hex) : [...CAPABILITIES];
}

export function planConfinement(pod: PodSpec, container: ContainerSpec, available: readonly string[] = CAPABILITIES): Confinement {
  const sc = container.securityContext ?? {};
  const privileged = sc.privileged ?? false;
  const seccomp = sc.seccompProfile ?? pod.securityContext.seccompProfile ?? { type: 'RuntimeDefault' as const };
  return {
    privileged,
    capabilities: resolveCapabilities(sc.capabilities, privileged, available),
    // no_new_privs only where Kubernetes sets it: allowPrivilegeEscalation: false, written out.
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    readonlyRoot: sc.readOnlyRootFilesystem ?? false,
    unmasked: privileged || sc.procMount === 'Unmasked',
    // Privileged containers run without seccomp, as with runc under containerd.
    seccomp: privileged || seccomp.type === 'Unconfined' ? undefined : seccomp,
  };
}

/**
 * The addon's capability sets. Root keeps the set in bounding, permitted, effective and inheritable; a
 * non-root user gets it in the bounding set only, so its processes have no effective capabilities (what
 * containerd's CRI gives non-root containers; Kubernetes has no ambient capabilities).
 */
export function securityFor(conf: Confinement, uid: number, seccompFilter: Buffer | undefined): SecuritySpec {
  const mask = capabilityMask(conf.capabilities);
  const sets = uid === 0 ? mask : 0n;
  return {
    bounding: mask,
    effective: sets,
    permitted: sets,
    inheritable: sets,
    noNewPrivs: conf.noNewPrivs,
    seccompFilter,
    readonlyRoot: conf.readonlyRoot,
  };
}

/** Masked and read-only paths, to follow the /proc and /sys mounts. */
export function maskingMounts(conf: Confinement): MountStep[] {
  if (conf.unmasked) return [];
  return [
    ...(conf.maskedPaths ?? MASKED_PATHS).map((target): MountStep => ({ kind: 'mask', inRootfs: true, target })),
    ...(conf.readonlyPaths ?? READONLY_PATHS).map((target): MountStep => ({ kind: 'readonly', inRootfs: true, target })),
  ];
}

/** The pod's sysctls as /proc/sys paths; a name with '/' keeps its dots (Kubernetes' two spellings). */
export function sysctlWrites(pod: PodSpec): { path: string; value: string }[] {
  return pod.securityContext.sysctls.map(({ name, value }) => ({
    path: `/proc/sys/${name.includes('/') ? name : name.replace(/\./g, '/')}`,
    value,
  }));
}
