/**
 * RunPodSandbox's PodSandboxConfig in the runtime service's words (SandboxConfig), as containerd's CRI plugin
 * reads it: kubelet has decided everything (hostname, DNS, port mappings, the pod cgroup, the namespaces), the
 * runtime only makes it so. What podns cannot do is refused with INVALID_ARGUMENT naming the field, never
 * ignored in silence. Pure.
 */
import os from 'node:os';
import path from 'node:path';
import type { CgroupHost } from '../cgroup/layout.js';
import type { HostPortMapping } from '../network/bridge-plan.js';
import type { NetworkConfig } from '../network/network-config.js';
import type { UserNamespaceMap } from '../kernel/types.js';
import type { NamespaceMode, SandboxConfig } from '../runtime/records.js';
import { USERNS_SIZE } from '../runtime/userns-ranges.js';
import { invalid } from './cri-error.js';
import type { IDMapping, NamespaceModeName, NamespaceOption, PodSandboxConfig } from './messages.js';

export interface SandboxEnvironment {
  /** The host's cgroup version and mounts; undefined: no cgroups. */
  cgroupHost?: CgroupHost;
  /** Where kubelet's cgroup paths start in each hierarchy (see cgroupParents); the root by default. */
  cgroupBase?: Record<string, string>;
  /** The CRI's network: CNI from its conf dir. */
  network: NetworkConfig;
}

/**
 * kubelet's pod cgroup as podns's parents: one path for every hierarchy, as the cgroupfs driver makes them,
 * below `base` when the supervisor was given one (PODNS_CGROUP_PARENT: the kernel tests nest kubelet's tree under
 * their own cgroup, which differs per hierarchy on a hybrid host).
 */
export function cgroupParents(cgroupParent: string, host: CgroupHost, base: Record<string, string> = {}): Record<string, string> {
  if (cgroupParent.endsWith('.slice')) {
    throw invalid(`linux.cgroup_parent "${cgroupParent}" is a systemd slice: podns uses the cgroupfs driver (RuntimeConfig says so; start kubelet with --cgroup-driver=cgroupfs)`);
  }
  if (!cgroupParent.startsWith('/')) throw invalid(`linux.cgroup_parent "${cgroupParent}" is not an absolute cgroup path`);
  return Object.fromEntries(Object.keys(host.mounts).map((h) => [h, path.posix.join(base[h] ?? '/', cgroupParent)]));
}

/** `podns run`'s parent in each hierarchy: the supervisor's (resolved PODNS_CGROUP_PARENT), else /podns. */
function defaultParents(host: CgroupHost, base: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.keys(host.mounts).map((h) => [h, base?.[h] ?? '/podns']));
}

function namespaceMode(mode: NamespaceModeName | undefined, field: string, allowed: NamespaceMode[]): NamespaceMode {
  const ours = ({ POD: 'pod', CONTAINER: 'container', NODE: 'node' } as const)[mode as 'POD'] as NamespaceMode | undefined;
  if (!ours || !allowed.includes(ours)) throw invalid(`${field} ${mode} is not supported for a sandbox (${allowed.map((m) => m.toUpperCase()).join(', ')})`);
  return ours;
}

/**
 * userns_options: NODE (or none) is the host's user namespace; POD is a user namespace for the pod with the
 * mapping kubelet allocated (its userns manager: 65536 IDs from container ID 0 at a multiple of 65536 past the
 * first block; critest sends `0 1000 100000`), made as for hostUsers: false under `podns run`, without podns's
 * own leases. As containerd: one mapping, from container ID 0. podns's own limits: the same length for uids
 * and gids, at least 65536 IDs (the pause runs as 65535, as Kubernetes' pause image does), and never the host's
 * root.
 */
export function sandboxUserNamespace(options: NamespaceOption | null | undefined): UserNamespaceMap | undefined {
  const userns = options?.userns_options;
  if (!userns || userns.mode === 'NODE') return undefined;
  const field = 'linux.security_context.namespace_options.userns_options';
  if (userns.mode !== 'POD') throw invalid(`${field}: user namespaces of mode ${userns.mode} are not supported (POD or NODE)`);
  if (options?.network === 'NODE') throw invalid(`${field}: user namespaces with the node's network namespace are not supported (Status: user_namespaces_host_network false)`);
  if (options?.pid === 'NODE' || options?.ipc === 'NODE') throw invalid(`${field}: user namespaces with the node's PID or IPC namespace are not supported`);
  const one = (mappings: IDMapping[], kind: 'uids' | 'gids'): IDMapping => {
    const [m, ...more] = mappings;
    if (!m || more.length) throw invalid(`${field}.${kind}: user namespaces take exactly one mapping, got ${mappings.length}`);
    if (m.container_id !== 0) throw invalid(`${field}.${kind}: user namespaces need container ID 0 mapped (the mapping starts at ${m.container_id})`);
    if (m.length < USERNS_SIZE) throw invalid(`${field}.${kind}: user namespaces need at least ${USERNS_SIZE} IDs (the pause runs as 65535), got ${m.length}`);
    if (m.host_id === 0) throw invalid(`${field}.${kind}: a user namespace must not map the container's root to the host's`);
    if (m.host_id + m.length > 2 ** 32 - 1) throw invalid(`${field}.${kind}: host IDs ${m.host_id}+${m.length} go past the last ID`);
    return m;
  };
  const uids = one(userns.uids ?? [], 'uids');
  const gids = one(userns.gids ?? [], 'gids');
  if (uids.length !== gids.length) throw invalid(`${field}: user namespaces with uids and gids of different lengths (${uids.length}, ${gids.length}) are not supported`);
  return { uidBase: uids.host_id, gidBase: gids.host_id, size: uids.length };
}

export function sandboxNamespaces(options: NamespaceOption | null | undefined): SandboxConfig['namespaces'] {
  return {
    network: namespaceMode(options?.network ?? 'POD', 'namespace_options.network', ['pod', 'node']),
    // POD: one PID namespace for the pod (shareProcessNamespace); CONTAINER: each container its own (kubelet's default).
    pid: namespaceMode(options?.pid ?? 'POD', 'namespace_options.pid', ['pod', 'container', 'node']),
    ipc: namespaceMode(options?.ipc ?? 'POD', 'namespace_options.ipc', ['pod', 'node']),
  };
}

/** CRI port mappings with a host port, as podns publishes them (TCP and UDP). */
export function hostPortMappings(config: PodSandboxConfig): HostPortMapping[] {
  return config.port_mappings
    .filter((p) => p.host_port > 0)
    .map((p) => {
      if (p.protocol === 'SCTP') throw invalid(`port_mappings: host port ${p.host_port}/SCTP: podns publishes TCP and UDP ports only`);
      return { protocol: p.protocol === 'UDP' ? 'udp' : 'tcp', hostPort: p.host_port, hostIP: p.host_ip, containerPort: p.container_port };
    });
}

/** CRI DNSConfig: kubelet's resolved servers, searches and options (`ndots:5`), or the node's file when absent. */
export function dnsOf(config: PodSandboxConfig): SandboxConfig['dns'] {
  const dns = config.dns_config;
  // An empty one is none, as containerd takes it (critest's namespace sandboxes send one).
  if (!dns || (dns.servers.length === 0 && dns.searches.length === 0 && dns.options.length === 0)) return { dnsPolicy: 'Default' };
  return {
    dnsPolicy: 'None',
    dnsConfig: {
      nameservers: dns.servers,
      searches: dns.searches,
      options: dns.options.map((o) => {
        const [name, value] = o.split(':', 2);
        return value === undefined ? { name: name! } : { name: name!, value };
      }),
    },
  };
}

export function sandboxConfigOf(id: string, config: PodSandboxConfig, env: SandboxEnvironment): SandboxConfig {
  const meta = config.metadata;
  if (!meta || !meta.name || !meta.namespace || !meta.uid) throw invalid('sandbox config: metadata with name, namespace and uid is required');
  const linux = config.linux;
  const sc = linux?.security_context;
  const namespaces = sandboxNamespaces(sc?.namespace_options);
  const userNamespace = sandboxUserNamespace(sc?.namespace_options);
  // containerd's rule: no hostname given (crictl, critest; kubelet always sends one), the node's.
  const hostname = config.hostname || os.hostname();
  // sethostname(2)'s limit, HOST_NAME_MAX: refused here rather than as EINVAL from inside the new pause.
  if (Buffer.byteLength(hostname) > 64) throw invalid(`hostname "${hostname}" is longer than 64 bytes`);
  return {
    id,
    origin: 'cri',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, attempt: meta.attempt },
    hostname,
    // kubelet mounts its own /etc/hosts into each container; this one is for a container it does not.
    hosts: { name: hostname, aliases: [] },
    dns: dnsOf(config),
    portMappings: hostPortMappings(config),
    logDirectory: config.log_directory,
    labels: { ...config.labels },
    annotations: { ...config.annotations },
    namespaces,
    sysctls: Object.entries(linux?.sysctls ?? {}).map(([name, value]) => ({ path: `/proc/sys/${name.includes('/') ? name : name.replace(/\./g, '/')}`, value })),
    // kubelet made the pod cgroup (cgroup_parent) and set its limits: the sandbox's goes below it, unlimited.
    // Without a cgroup_parent (not kubelet: crictl or critest with a bare config) it goes where the pods of
    // `podns run` go: below the supervisor's cgroup parent (PODNS_CGROUP_PARENT), else /podns.
    ...(env.cgroupHost
      ? {
          cgroup: {
            host: env.cgroupHost,
            parents: linux?.cgroup_parent ? cgroupParents(linux.cgroup_parent, env.cgroupHost, env.cgroupBase) : defaultParents(env.cgroupHost, env.cgroupBase),
            limits: {},
          },
        }
      : {}),
    network: env.network,
    infra: 'pause',
    ...(sc?.privileged ? { privileged: true } : {}),
    ...(userNamespace ? { userNamespace: { given: userNamespace } } : {}),
  };
}
