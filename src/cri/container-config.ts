/**
 * CreateContainer's ContainerConfig in the runtime service's words, as containerd's CRI plugin builds its OCI
 * spec from it: kubelet has resolved the env (no $(VAR) expansion here), the mounts (host paths it prepared),
 * the user and the security context; the runtime adds the image's defaults — Entrypoint/Cmd, Env, WorkingDir,
 * User — and its own defaults (capabilities, masked paths, seccomp RuntimeDefault when asked). What podns
 * cannot do is refused with INVALID_ARGUMENT naming the field. Pure but for reading the image's passwd/group.
 */
import path from 'node:path';
import { DEFAULT_DEVICE_RULES, MIN_SHARES, QUOTA_PERIOD, type CgroupLimits } from '../cgroup/resources.js';
import type { UserNamespaceMap } from '../kernel/types.js';
import type { ImageRecord } from '../image/types.js';
import { imageEnv } from '../runtime/env.js';
import { resolveUser } from '../runtime/image-user.js';
import type { ContainerConfig, ContainerMount } from '../runtime/records.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { ownCapabilities, type Confinement } from '../security/confinement.js';
import type { ProcessSpec } from '../state/pod-state.js';
import { invalid, unimplemented } from './cri-error.js';
import type { ContainerConfig as CriContainerConfig, IDMapping, LinuxContainerResources, LinuxContainerSecurityContext, Mount, SecurityProfile } from './messages.js';

/** CRI's command/args over the image's Entrypoint/Cmd (containerd's rule, the same as Kubernetes'). */
export function criArgv(config: Pick<CriContainerConfig, 'command' | 'args'>, image: ImageRecord): string[] {
  const entrypoint = config.command.length ? config.command : (image.config.Entrypoint ?? []);
  const args = config.command.length ? config.args : config.args.length ? config.args : (image.config.Cmd ?? []);
  return [...entrypoint, ...args];
}

/** The image's env, then kubelet's (already expanded), then HOME from passwd when neither set it (as runc does). */
export function criEnv(config: Pick<CriContainerConfig, 'envs' | 'tty'>, image: ImageRecord, home: string | undefined): string[] {
  const env = new Map<string, string>();
  const put = (entry: string) => {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  };
  // containerd's WithTTY: TERM=xterm for a container with a terminal, unless the image or kubelet sets it.
  if (config.tty) put('TERM=xterm');
  for (const entry of imageEnv(image.config.Env)) put(entry);
  for (const { key, value } of config.envs) env.set(key, String(value));
  if (!env.has('HOME')) env.set('HOME', home || '/');
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/**
 * A deprecated profile path (seccomp_profile_path, apparmor_profile) as containerd's generateSecurityProfile reads
 * it: runtime/default and docker/default, unconfined, localhost/<ref>; "" is no profile.
 */
export function profileOfPath(profilePath: string, field: string): SecurityProfile | null {
  if (profilePath === '') return null;
  if (profilePath === 'runtime/default' || profilePath === 'docker/default') return { profile_type: 'RuntimeDefault', localhost_ref: '' };
  if (profilePath === 'unconfined') return { profile_type: 'Unconfined', localhost_ref: '' };
  if (profilePath.startsWith('localhost/')) return { profile_type: 'Localhost', localhost_ref: profilePath.slice('localhost/'.length) };
  throw invalid(`${field} "${profilePath}" is not a profile (runtime/default, docker/default, unconfined or localhost/<path>)`);
}

function seccompOf(profile: SecurityProfile | null | undefined, privileged: boolean): Confinement['seccomp'] {
  if (profile && profile.profile_type !== 'Localhost' && profile.localhost_ref) {
    throw invalid(`seccomp: localhost_ref must only be set if profile_type is Localhost (it is ${profile.profile_type})`);
  }
  // containerd: no profile given means unconfined (kubelet always sends one, RuntimeDefault unless told otherwise).
  if (privileged || !profile || profile.profile_type === 'Unconfined') return undefined;
  if (profile.profile_type === 'Localhost') {
    if (!path.isAbsolute(profile.localhost_ref)) throw invalid(`seccomp: localhost_ref "${profile.localhost_ref}" must be an absolute path`);
    return { type: 'Localhost', localhostFile: profile.localhost_ref };
  }
  return { type: 'RuntimeDefault' };
}

export function criConfinement(sc: LinuxContainerSecurityContext | null | undefined, available: readonly string[] = ownCapabilities()): Confinement {
  const privileged = sc?.privileged ?? false;
  // podns confines without AppArmor: RuntimeDefault and Unconfined are what it does anyway, a named profile is
  // refused (containerd on a host without AppArmor refuses it the same way).
  const apparmor = sc?.apparmor ?? profileOfPath(sc?.apparmor_profile ?? '', 'apparmor_profile');
  if (apparmor?.profile_type === 'Localhost') throw invalid(`apparmor: profile "${apparmor.localhost_ref}": podns does not use AppArmor (Localhost profiles are not supported)`);
  if (sc?.capabilities?.add_ambient_capabilities.length) throw invalid('capabilities.add_ambient_capabilities is not supported');
  return {
    privileged,
    capabilities: resolveCapabilities({ add: sc?.capabilities?.add_capabilities ?? [], drop: sc?.capabilities?.drop_capabilities ?? [] }, privileged, available),
    noNewPrivs: sc?.no_new_privs ?? false,
    readonlyRoot: sc?.readonly_rootfs ?? false,
    // kubelet sends the masked and read-only paths (none for procMount Unmasked); a privileged container has none;
    // without a security context at all (crictl with a bare config) containerd's defaults apply.
    unmasked: privileged || (!!sc && sc.masked_paths.length === 0 && sc.readonly_paths.length === 0),
    ...(sc && !privileged && (sc.masked_paths.length || sc.readonly_paths.length) ? { maskedPaths: sc.masked_paths, readonlyPaths: sc.readonly_paths } : {}),
    // The deprecated seccomp_profile_path only when seccomp is not set, as containerd reads them.
    seccomp: seccompOf(sc?.seccomp ?? profileOfPath(sc?.seccomp_profile_path ?? '', 'seccomp_profile_path'), privileged),
  };
}

/**
 * The user, by CRI's combinations (containerd's GenerateUserString): run_as_username, else run_as_user, with
 * run_as_group; a group without a user is refused; neither: the image's User. The groups: with the Merge policy
 * (the default) the user's own from the image's /etc/group, with Strict only the primary one; then the
 * supplemental groups.
 */
export function criUser(sc: LinuxContainerSecurityContext | null | undefined, image: ImageRecord, what: string): ProcessSpec['user'] & { home?: string } {
  const name = sc?.run_as_username || (sc?.run_as_user ? sc.run_as_user.value : '');
  if (!name && sc?.run_as_group) throw invalid(`${what}: run_as_group ${sc.run_as_group.value} is set without run_as_user or run_as_username`);
  const spec = name ? `${name}${sc?.run_as_group ? `:${sc.run_as_group.value}` : ''}` : image.config.User;
  const user = resolveUser(spec, image.layers, what);
  const own = sc?.supplemental_groups_policy === 'Strict' ? [user.gid] : user.groups;
  const groups = [...new Set([...own, ...(sc?.supplemental_groups ?? []).map(Number)])];
  return { uid: user.uid, gid: user.gid, groups, home: user.home };
}

const PROPAGATION = { PROPAGATION_PRIVATE: undefined, PROPAGATION_HOST_TO_CONTAINER: 'hostToContainer', PROPAGATION_BIDIRECTIONAL: 'bidirectional' } as const;

/**
 * A mount's own uid/gid mappings (CRI Mount.uidMappings, for an idmapped mount) are taken when they are the
 * pod's: in a user namespace podns idmaps every bind with the pod's mapping anyway. Any other is refused.
 */
function checkMountMappings(m: Mount, userns: UserNamespaceMap | undefined): void {
  if (!m.uidMappings.length && !m.gidMappings.length) return;
  const pods = (mappings: IDMapping[], base: number | undefined) =>
    userns !== undefined && mappings.length === 1 && mappings[0]!.container_id === 0 && mappings[0]!.host_id === base && mappings[0]!.length === userns.size;
  if (!pods(m.uidMappings, userns?.uidBase) || !pods(m.gidMappings, userns?.gidBase)) {
    throw invalid(`mount ${m.container_path}: idmapped mounts other than with the pod's own user namespace mapping are not supported`);
  }
}

export function criMounts(mounts: Mount[], userns?: UserNamespaceMap): ContainerMount[] {
  return mounts.map((m) => {
    if (!m.container_path || !path.isAbsolute(m.container_path)) throw invalid(`mount: container_path "${m.container_path}" must be absolute`);
    if (m.image) throw unimplemented(`mount ${m.container_path}: image volumes are not supported`);
    checkMountMappings(m, userns);
    // containerd's checks (WithMounts), with its messages.
    if (m.recursive_read_only && !m.readonly) throw invalid(`mount ${m.container_path}: recursive read-only mount conflicts with a read-write mount (host_path "${m.host_path}")`);
    if (m.recursive_read_only && m.propagation !== 'PROPAGATION_PRIVATE') {
      throw invalid(`mount ${m.container_path}: recursive read-only mount needs private propagation, got ${m.propagation} (host_path "${m.host_path}")`);
    }
    const propagation = PROPAGATION[m.propagation];
    const options = m.mount_options.map((o) => {
      if (o !== 'noexec' && o !== 'nodev' && o !== 'nosuid') throw invalid(`mount ${m.container_path}: mount option "${o}" is not supported (noexec, nodev and nosuid are)`);
      return o;
    });
    return {
      hostPath: m.host_path,
      containerPath: m.container_path,
      readonly: m.readonly,
      ...(propagation ? { propagation } : {}),
      ...(m.recursive_read_only ? { recursiveReadOnly: 'Enabled' as const } : {}),
      ...(options.length ? { options } : {}),
    };
  });
}

const int = (v: string | undefined) => Number(v ?? 0);

/** LinuxContainerResources as podns's cgroup limits (shares, quota and period, memory, swap). */
export function criLimits(resources: LinuxContainerResources | null | undefined, privileged: boolean): CgroupLimits {
  // What an unlimited container gets: the least CPU shares, and the default device rules unless privileged.
  const base: CgroupLimits = { cpuShares: MIN_SHARES, ...(privileged ? {} : { devices: DEFAULT_DEVICE_RULES }) };
  if (!resources) return base;
  if (resources.cpuset_cpus || resources.cpuset_mems) throw invalid('resources: cpuset_cpus and cpuset_mems are not supported');
  if (resources.hugepage_limits.some((h) => int(h.limit) > 0)) throw invalid('resources: hugepage limits are not supported');
  if (Object.keys(resources.unified).length) throw invalid('resources.unified is not supported');
  const limits: CgroupLimits = { ...base };
  if (int(resources.cpu_shares) > 0) limits.cpuShares = int(resources.cpu_shares);
  if (int(resources.cpu_quota) > 0) Object.assign(limits, { cpuQuota: int(resources.cpu_quota), cpuPeriod: int(resources.cpu_period) || QUOTA_PERIOD });
  if (int(resources.memory_limit_in_bytes) > 0) {
    limits.memoryLimit = int(resources.memory_limit_in_bytes);
    // kubelet's NoSwap: the swap limit equal to the memory limit (v2 memory.swap.max 0).
    limits.noSwap = int(resources.memory_swap_limit_in_bytes) <= limits.memoryLimit;
  }
  return limits;
}

export interface CriContainerInput {
  config: CriContainerConfig;
  image: ImageRecord;
  /** Absolute: the sandbox's log_directory joined with the container's log_path. */
  logPath: string;
  available?: readonly string[];
  /** The sandbox's user namespace mapping, if it has one. */
  userns?: UserNamespaceMap;
}

export function containerConfigOf({ config, image, logPath, available, userns }: CriContainerInput): ContainerConfig {
  const meta = config.metadata;
  if (!meta?.name) throw invalid('container config: metadata.name is required');
  if (config.devices.length) throw invalid(`container "${meta.name}": devices are not supported yet`);
  if (config.CDI_devices.length) throw invalid(`container "${meta.name}": CDI devices are not supported`);
  const sc = config.linux?.security_context;
  const ns = sc?.namespace_options;
  if (ns && (ns.pid === 'TARGET' || ns.target_id)) throw invalid(`container "${meta.name}": namespace_options.pid TARGET (ephemeral debug containers) is not supported yet`);
  const what = `container "${meta.name}"`;
  const confinement = criConfinement(sc, available);
  const user = criUser(sc, image, what);
  const argv = criArgv(config, image);
  if (argv.length === 0) throw invalid(`${what}: no command specified (the image has no Entrypoint or Cmd)`);
  const { home, ...processUser } = user;
  return {
    name: meta.name,
    attempt: meta.attempt,
    image: { name: image.name, id: image.id, layers: image.layers, ...(image.config.StopSignal ? { stopSignal: image.config.StopSignal } : {}), ...(image.digest ? { digest: image.digest } : {}) },
    imageSpec: config.image?.image ?? image.name,
    process: { argv, env: criEnv(config, image, home), cwd: config.working_dir || image.config.WorkingDir || '/', user: processUser, confinement },
    mounts: criMounts(config.mounts, userns),
    ...(config.stdin ? { stdin: true } : {}),
    ...(config.stdin_once ? { stdinOnce: true } : {}),
    ...(config.tty ? { tty: true } : {}),
    logPath,
    resources: criLimits(config.linux?.resources, confinement.privileged),
    ...(config.linux?.resources ? { criResources: config.linux.resources } : {}),
    labels: { ...config.labels },
    annotations: { ...config.annotations },
  };
}
