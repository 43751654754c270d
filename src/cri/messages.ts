/**
 * The runtime.v1 messages podns reads and writes, as proto-loader decodes them (grpc-server.ts's options): field
 * names as in api.proto, enums by name, int64 as decimal strings, maps as objects, `defaults: true` so every
 * scalar and repeated field is present (empty) and absent messages are null. Only what the handlers use is
 * typed here; the names and meanings are upstream's.
 */

export type Int64 = string;
export type NamespaceModeName = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type ProtocolName = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagationName = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type PodSandboxStateName = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerEventTypeName = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

export interface Int64Value {
  value: Int64;
}

export interface NamespaceOption {
  network: NamespaceModeName;
  pid: NamespaceModeName;
  ipc: NamespaceModeName;
  target_id: string;
  userns_options: { mode: NamespaceModeName; uids: IDMapping[]; gids: IDMapping[] } | null;
}

/** A user namespace's ID mapping (uid_map/gid_map's line): container_id..+length is host_id..+length. */
export interface IDMapping {
  host_id: number;
  container_id: number;
  length: number;
}

export interface SecurityProfile {
  profile_type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhost_ref: string;
}

export interface LinuxContainerResources {
  cpu_period: Int64;
  cpu_quota: Int64;
  cpu_shares: Int64;
  memory_limit_in_bytes: Int64;
  oom_score_adj: Int64;
  cpuset_cpus: string;
  cpuset_mems: string;
  hugepage_limits: { page_size: string; limit: string }[];
  unified: Record<string, string>;
  memory_swap_limit_in_bytes: Int64;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PortMapping {
  protocol: ProtocolName;
  container_port: number;
  host_port: number;
  host_ip: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  log_directory: string;
  dns_config: { servers: string[]; searches: string[]; options: string[] } | null;
  port_mappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroup_parent: string;
    security_context: {
      namespace_options: NamespaceOption | null;
      run_as_user: Int64Value | null;
      run_as_group: Int64Value | null;
      readonly_rootfs: boolean;
      supplemental_groups: Int64[];
      privileged: boolean;
      seccomp: SecurityProfile | null;
    } | null;
    sysctls: Record<string, string>;
    overhead: LinuxContainerResources | null;
    resources: LinuxContainerResources | null;
  } | null;
}

export interface ImageSpec {
  image: string;
  annotations: Record<string, string>;
  user_specified_image: string;
  runtime_handler: string;
  image_ref: string;
}

export interface Mount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  selinux_relabel: boolean;
  propagation: MountPropagationName;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  recursive_read_only: boolean;
  image: ImageSpec | null;
  image_sub_path: string;
  mount_options: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities: { add_capabilities: string[]; drop_capabilities: string[]; add_ambient_capabilities: string[] } | null;
  privileged: boolean;
  namespace_options: NamespaceOption | null;
  run_as_user: Int64Value | null;
  run_as_group: Int64Value | null;
  run_as_username: string;
  readonly_rootfs: boolean;
  supplemental_groups: Int64[];
  no_new_privs: boolean;
  masked_paths: string[];
  readonly_paths: string[];
  seccomp: SecurityProfile | null;
  apparmor: SecurityProfile | null;
  /** Deprecated: apparmor and seccomp say the same, and win when set. */
  apparmor_profile: string;
  seccomp_profile_path: string;
  supplemental_groups_policy: 'Merge' | 'Strict';
}

export interface ContainerConfig {
  metadata: { name: string; attempt: number } | null;
  image: ImageSpec | null;
  command: string[];
  args: string[];
  working_dir: string;
  envs: { key: string; value: string }[];
  mounts: Mount[];
  devices: { container_path: string; host_path: string; permissions: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: { resources: LinuxContainerResources | null; security_context: LinuxContainerSecurityContext | null } | null;
  CDI_devices: unknown[];
}
