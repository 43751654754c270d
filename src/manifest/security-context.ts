/**
 * The value pass for spec.securityContext and containers[*].securityContext: the API server's rules
 * (ValidatePodSecurityContext, ValidateSecurityContext, validateSysctls, validateSeccompProfileField in
 * pkg/apis/core/validation), plus what podns cannot do on one node: non-namespaced sysctls and unknown
 * capability names are refused here rather than failing while the pod starts.
 */

import type { Plain } from './check-fields.js';
import { normalizeCapability } from './capabilities.js';
import type { Reporter } from './reporter.js';
import type { PodSecurityContext, SeccompProfile, SecurityContext } from './types.js';

/** apimachinery's IsValidUserID / IsValidGroupID: 0 to MaxInt32. */
const MAX_ID = 2147483647;
const SECCOMP_TYPES = ['RuntimeDefault', 'Localhost', 'Unconfined'] as const;
const PROC_MOUNT_TYPES = ['Default', 'Unmasked'] as const;

/** Kubernetes' SysctlContainSlashFmt; at most SysctlMaxLength (253) characters. */
const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
const SYSCTL_MAX_LENGTH = 253;
const NAMESPACED_SYSCTLS = 'kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*';

/** spec.securityContext, validated; `{ supplementalGroups: [], sysctls: [] }` when absent. */
export function buildPodSecurityContext(r: Reporter, raw: Plain | undefined, path: string): PodSecurityContext {
  const s = raw ?? {};
  const out: PodSecurityContext = { supplementalGroups: [], sysctls: [] };
  for (const key of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
    if (s[key] !== undefined) out[key] = checkId(r, `${path}.${key}`, s[key] as number);
  }
  if (s.runAsNonRoot !== undefined) out.runAsNonRoot = s.runAsNonRoot as boolean;
  out.supplementalGroups = ((s.supplementalGroups as number[] | undefined) ?? []).map((gid, i) => checkId(r, `${path}.supplementalGroups[${i}]`, gid));
  out.sysctls = buildSysctls(r, (s.sysctls as Plain[] | undefined) ?? [], `${path}.sysctls`);
  if (s.seccompProfile !== undefined) out.seccompProfile = buildSeccompProfile(r, s.seccompProfile as Plain, `${path}.seccompProfile`);
  return out;
}

/** A container's securityContext, validated; undefined when it sets nothing. */
export function buildSecurityContext(r: Reporter, s: Plain, path: string): SecurityContext | undefined {
  const out: SecurityContext = {};
  for (const key of ['runAsUser', 'runAsGroup'] as const) {
    if (s[key] !== undefined) out[key] = checkId(r, `${path}.${key}`, s[key] as number);
  }
  for (const key of ['runAsNonRoot', 'privileged', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation'] as const) {
    if (s[key] !== undefined) out[key] = s[key] as boolean;
  }
  if (s.capabilities !== undefined) {
    const caps = s.capabilities as Plain;
    const list = (key: 'add' | 'drop'): string[] =>
      ((caps[key] as string[] | undefined) ?? []).map((name, i) => {
        const n = normalizeCapability(name);
        if ('problem' in n) r.fail(`${path}.capabilities.${key}[${i}]`, n.problem);
        return n.name;
      });
    out.capabilities = { add: list('add'), drop: list('drop') };
  }
  if (s.procMount !== undefined) {
    const procMount = r.oneOf(`${path}.procMount`, s.procMount as string, PROC_MOUNT_TYPES);
    // Unmasked needs hostUsers: false (ValidateSecurityContext): checked with the pod (validate.ts checkHostUsers).
    out.procMount = procMount;
  }
  if (s.seccompProfile !== undefined) out.seccompProfile = buildSeccompProfile(r, s.seccompProfile as Plain, `${path}.seccompProfile`);

  // no_new_privs cannot hold for a privileged process, nor for one that may call mount or seccomp freely.
  // Kubernetes compares the literal "CAP_SYS_ADMIN"; with names normalised, SYS_ADMIN is caught too.
  if (out.allowPrivilegeEscalation === false) {
    const at = `${path}.allowPrivilegeEscalation`;
    if (out.privileged) r.fail(path, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true', at);
    if (out.capabilities?.add.includes('SYS_ADMIN')) r.fail(path, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN', at);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function checkId(r: Reporter, path: string, id: number): number {
  if (id < 0 || id > MAX_ID) r.fail(path, `invalid value ${id}: must be between 0 and ${MAX_ID}, inclusive`);
  return id;
}

function buildSeccompProfile(r: Reporter, p: Plain, path: string): SeccompProfile {
  const type = p.type as string;
  if (type === '') r.fail(`${path}.type`, 'required value: type is required when seccompProfile is set');
  const profile: SeccompProfile = { type: r.oneOf(`${path}.type`, type, SECCOMP_TYPES) };
  const localhostProfile = p.localhostProfile as string | undefined;
  if (profile.type === 'Localhost') {
    // Kubernetes lets "" through and kubelet then fails to read the directory; refuse it up front.
    if (localhostProfile === undefined || localhostProfile === '') {
      r.fail(`${path}.localhostProfile`, 'required value: must be set when seccomp type is Localhost', localhostProfile === undefined ? path : `${path}.localhostProfile`);
    }
    r.relativePath(`${path}.localhostProfile`, localhostProfile);
    r.noBacksteps(`${path}.localhostProfile`, localhostProfile);
    profile.localhostProfile = localhostProfile;
  } else if (localhostProfile !== undefined) {
    r.fail(`${path}.localhostProfile`, `invalid value ${JSON.stringify(localhostProfile)}: can only be set when seccomp type is Localhost`);
  }
  return profile;
}

function buildSysctls(r: Reporter, raw: Plain[], path: string): { name: string; value: string }[] {
  const sysctls = raw.map((s, i) => {
    const at = `${path}[${i}].name`;
    const name = s.name as string;
    if (name === '') r.fail(at, 'required value');
    if (name.length > SYSCTL_MAX_LENGTH || !SYSCTL_NAME.test(name)) {
      r.fail(at, `invalid value ${JSON.stringify(name)}: must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${SYSCTL_NAME.source}`);
    }
    if (!isNamespacedSysctl(normalizeSysctlName(name))) {
      r.fail(at, `sysctl ${JSON.stringify(name)} is not namespaced: podns can set only namespaced sysctls (${NAMESPACED_SYSCTLS})`);
    }
    return { name, value: s.value as string };
  });
  // Both spellings of one sysctl write the same file; the API server would let the second silently win.
  r.noDuplicates('sysctl', sysctls.map((s) => normalizeSysctlName(s.name)), (i) => `${path}[${i}].name`);
  return sysctls;
}

/**
 * The dotted spelling of a sysctl name. As in Kubernetes' NormalizeName: when the first separator is a
 * slash, slashes and dots swap (`net/ipv4/conf/eth0.100/forwarding` → `net.ipv4.conf.eth0/100.forwarding`).
 */
export function normalizeSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/**
 * Whether a (dotted) sysctl lives in a namespace the pod owns, per Kubernetes' sysctl namespace table
 * (component-helpers/node/util/sysctl): the IPC namespace's kernel.shm*, kernel.msg*, kernel.sem and
 * fs.mqueue.*, and the network namespace's net.*.
 */
export function isNamespacedSysctl(name: string): boolean {
  return name === 'kernel.sem' || name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name.startsWith('fs.mqueue.') || name.startsWith('net.');
}
