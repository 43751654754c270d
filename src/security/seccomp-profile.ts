/**
 * seccomp for containers, as Kubernetes names it (securityContext.seccompProfile): RuntimeDefault is Docker's
 * default profile (./seccomp-default.ts), Unconfined is no filter, Localhost is a Docker-format JSON profile
 * under `<lib root>/seccomp/` (kubelet's /var/lib/kubelet/seccomp). A profile is first resolved the way moby
 * does (includes/excludes by capability, architecture and kernel version: profiles/seccomp/seccomp_linux.go),
 * then compiled by the addon with libseccomp into the BPF program that spawn installs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PodnsError, describeErrno } from '../errors.js';
import { buildSeccompFilter, type SeccompFilterSpec } from '../sys/native.js';
import { RUNTIME_DEFAULT_PROFILE } from './seccomp-default.js';

/** A condition on a rule: all of includes must hold, none of excludes. */
export interface SeccompFilterCondition {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

export interface SeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

export interface DockerSeccompRule {
  names?: string[];
  /** Docker's older single-name form. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilterCondition;
  excludes?: SeccompFilterCondition;
}

/** Docker's JSON seccomp profile (moby api/types, profiles/seccomp). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  syscalls?: DockerSeccompRule[];
}

export interface SeccompSpec {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** A pod's localhostProfile: relative to <lib>/seccomp, as kubelet reads its seccomp directory. */
  localhostProfile?: string;
  /** Over the CRI: kubelet has resolved the profile to an absolute path (localhost_ref). */
  localhostFile?: string;
}

/** uname -m → Go's GOARCH (the names in includes.arches) and libseccomp's SCMP_ARCH_* (archMap). */
const ARCHES: Record<string, { go: string; scmp: string }> = {
  x86_64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  aarch64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
  ppc64le: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
};

/** CAP_SYS_ADMIN and SYS_ADMIN name one capability (profiles use the first, capabilities.ts the second). */
function capName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** "6.1.0-18-amd64" ≥ "4.8"? Only major.minor count, as in moby's kernelGreaterEqualThan. */
function kernelAtLeast(release: string, min: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((n) => Number.parseInt(n, 10) || 0);
  const [a = 0, b = 0] = parse(release);
  const [c = 0, d = 0] = parse(min);
  return a !== c ? a > c : b >= d;
}

/** SCMP_ARCH_X86_64 → x86_64: the names seccomp_arch_resolve_name() takes. */
function libseccompArch(name: string): string {
  return name.replace(/^SCMP_ARCH_/, '').toLowerCase();
}

/**
 * Flattens a Docker profile for one container: keeps the rules whose includes hold and whose excludes do not
 * (caps against the container's capability set, as moby checks the bounding set), picks the architectures from
 * archMap for `arch`, and carries defaultErrnoRet/errnoRet over. Throws on a profile moby would refuse.
 */
export function resolveProfile(
  profile: DockerSeccompProfile,
  caps: Set<string>,
  arch = 'x86_64',
  kernelRelease = os.release(),
): SeccompFilterSpec {
  const have = new Set([...caps].map(capName));
  const goArch = ARCHES[arch]?.go ?? arch;
  const scmpArch = ARCHES[arch]?.scmp ?? `SCMP_ARCH_${arch.toUpperCase()}`;

  if (profile.architectures?.length && profile.archMap?.length) {
    throw new Error("'architectures' and 'archMap' were specified in the seccomp profile, use either one");
  }
  let architectures: string[] | undefined;
  if (profile.archMap?.length) {
    const entry = profile.archMap.find((a) => a.architecture === scmpArch);
    architectures = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])].map(libseccompArch) : [libseccompArch(scmpArch)];
  } else if (profile.architectures?.length) {
    architectures = profile.architectures.map(libseccompArch);
  }

  const syscalls: SeccompFilterSpec['syscalls'] = [];
  for (const [i, rule] of (profile.syscalls ?? []).entries()) {
    if (rule.name && rule.names?.length) throw new Error(`syscalls[${i}]: use either 'name' or 'names'`);
    const names = rule.name ? [rule.name] : (rule.names ?? []);
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (exc.arches?.includes(goArch)) continue;
    if (inc.arches?.length && !inc.arches.includes(goArch)) continue;
    if (exc.caps?.some((c) => have.has(capName(c)))) continue;
    if (inc.caps?.some((c) => !have.has(capName(c)))) continue;
    if (exc.minKernel && kernelAtLeast(kernelRelease, exc.minKernel)) continue;
    if (inc.minKernel && !kernelAtLeast(kernelRelease, inc.minKernel)) continue;
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errno: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ index: a.index, op: a.op, value: a.value, valueTwo: a.valueTwo ?? 0 })) } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrno: profile.defaultErrnoRet } : {}),
    ...(architectures ? { architectures } : {}),
    syscalls,
  };
}

function profileError(relPath: string, why: string, cause?: unknown): PodnsError {
  return new PodnsError('security.seccomp', `seccomp profile "${relPath}": ${why}`, { cause });
}

function checkProfile(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const p = value as Record<string, unknown>;
  if (typeof p.defaultAction !== 'string') return 'defaultAction must be a string';
  if (p.syscalls !== undefined && p.syscalls !== null && !Array.isArray(p.syscalls)) return 'syscalls must be an array';
  for (const [i, r] of ((p.syscalls as unknown[] | null) ?? []).entries()) {
    const rule = r as Record<string, unknown>;
    if (!rule || typeof rule !== 'object') return `syscalls[${i}] must be an object`;
    if (typeof rule.action !== 'string') return `syscalls[${i}].action must be a string`;
    const names = rule.names ?? [];
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) return `syscalls[${i}].names must be an array of strings`;
    if (rule.args != null && !Array.isArray(rule.args)) return `syscalls[${i}].args must be an array`;
  }
  return undefined;
}

/**
 * Reads a Localhost profile, `<root>/seccomp/<relPath>`, as kubelet reads its seccomp directory. A path that
 * leaves that directory (absolute, `..`, or through a symlink) is refused.
 */
export function loadLocalhostProfile(root: string, relPath: string): DockerSeccompProfile {
  const dir = path.join(root, 'seccomp');
  if (!relPath || path.isAbsolute(relPath)) throw profileError(relPath, `must be a path relative to ${dir}`);
  const file = path.resolve(dir, relPath);
  if (!file.startsWith(dir + path.sep)) throw profileError(relPath, `escapes ${dir}`);
  try {
    const real = fs.realpathSync(file);
    const realDir = fs.realpathSync(dir);
    if (!real.startsWith(realDir + path.sep)) throw profileError(relPath, `escapes ${dir} through a symlink`);
    return parseProfileFile(relPath, real);
  } catch (err) {
    if (err instanceof PodnsError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw profileError(relPath, e.code ? `${file}: ${describeErrno(e.code, e.errno)}` : String(err), err);
  }
}

/** A Docker-format JSON profile from `file`, checked; `label` names it in errors. */
function parseProfileFile(label: string, file: string): DockerSeccompProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw profileError(label, e.code ? `${file}: ${describeErrno(e.code, e.errno)}` : String(err), err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw profileError(label, `invalid JSON: ${(err as Error).message.split('\n')[0]}`, err);
  }
  const problem = checkProfile(parsed);
  if (problem) throw profileError(label, problem);
  return parsed as DockerSeccompProfile;
}

/** Per builder (tests pass their own), then per profile and capability set. */
const filterCache = new WeakMap<(profile: SeccompFilterSpec) => Buffer, Map<string, Buffer>>();

/**
 * The BPF program for a container's seccompProfile, or undefined for Unconfined. No profile means
 * RuntimeDefault (what kubelet has defaulted to since 1.27 with SeccompDefault). Filters are cached per
 * profile and capability set: a pod's containers usually share both.
 */
export function seccompFilterFor(
  spec: SeccompSpec | undefined,
  caps: Set<string>,
  libRoot: string,
  build: (profile: SeccompFilterSpec) => Buffer = buildSeccompFilter,
): Buffer | undefined {
  const type = spec?.type ?? 'RuntimeDefault';
  if (type === 'Unconfined') return undefined;
  let profile: DockerSeccompProfile;
  let label: string;
  let source: string;
  if (type === 'RuntimeDefault') {
    profile = RUNTIME_DEFAULT_PROFILE;
    label = 'RuntimeDefault';
    source = 'RuntimeDefault';
  } else if (type === 'Localhost') {
    if (spec?.localhostFile) {
      label = spec.localhostFile;
      profile = parseProfileFile(label, label);
    } else {
      if (!spec?.localhostProfile) throw profileError('', 'type Localhost needs localhostProfile');
      label = spec.localhostProfile;
      profile = loadLocalhostProfile(libRoot, label);
    }
    // Keyed by content, so an edited file is compiled again.
    source = `Localhost ${JSON.stringify(profile)}`;
  } else {
    throw profileError(String(type), `unknown seccompProfile type "${type}"`);
  }
  const key = `${source}\n${[...caps].map(capName).sort().join(',')}`;
  let cache = filterCache.get(build);
  if (!cache) filterCache.set(build, (cache = new Map()));
  const cached = cache.get(key);
  if (cached) return cached;
  let filter: Buffer;
  try {
    filter = build(resolveProfile(profile, caps));
  } catch (err) {
    throw profileError(label, (err as Error).message, err);
  }
  cache.set(key, filter);
  return filter;
}
