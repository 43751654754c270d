/**
 * Linux capability names for securityContext.capabilities. Kubernetes writes them without the CAP_ prefix
 * (NET_ADMIN); containerd upper-cases them and adds the prefix, so `net_admin` and `CAP_NET_ADMIN` work
 * there too. podns accepts all three spellings and keeps the bare upper-case name.
 */

import { suggestName } from './suggest.js';

/** linux/capability.h, in bit order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const CAPABILITY_NAMES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/**
 * The bare upper-case name of a capability (`cap_net_admin` → `NET_ADMIN`; `all` → `ALL`), or a reason
 * why `name` is not one, with a "did you mean".
 */
export function normalizeCapability(name: string): { name: string } | { problem: string } {
  const upper = name.toUpperCase();
  if (upper === 'ALL') return { name: 'ALL' };
  const bare = upper.startsWith('CAP_') ? upper.slice(4) : upper;
  if (CAPABILITY_NAMES.includes(bare)) return { name: bare };
  // CAP_ALL is no name anywhere: ALL takes no prefix.
  const guess = bare === 'ALL' ? 'ALL' : suggestName(bare, [...CAPABILITY_NAMES, 'ALL']);
  return { problem: `unknown capability ${JSON.stringify(name)}${guess ? ` (did you mean "${guess}"?)` : ''}` };
}
