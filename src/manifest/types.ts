/**
 * The Pod as podns runs it: a validated, defaulted subset of core/v1 Pod. The manifest loader produces it;
 * the runtime consumes it and never sees raw YAML.
 */

export interface PodManifest {
  /** The file it came from (for messages). */
  file: string;
  metadata: PodMetadata;
  spec: PodSpec;
}

export interface PodMetadata {
  name: string;
  /** Defaults to "default". */
  namespace: string;
  /** Taken from the manifest when given, otherwise generated at run time. */
  uid?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSpec {
  containers: ContainerSpec[];
  volumes: VolumeSpec[];
  shareProcessNamespace: boolean;
  /** spec.hostname; the pod name is used when absent. */
  hostname?: string;
  subdomain?: string;
  /** Defaults to 30, as in Kubernetes. */
  terminationGracePeriodSeconds: number;
  /** Defaults to Always. Accepted; restarts come with the kubelet issue. */
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** spec.securityContext; {} when absent. */
  securityContext: PodSecurityContext;
  /** The host's namespaces instead of the pod's own (default false). */
  hostNetwork: boolean;
  hostIPC: boolean;
  hostPID: boolean;
  /** Default ClusterFirst (with hostNetwork too, as kubelet falls back to Default then). */
  dnsPolicy: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';
  dnsConfig?: PodDNSConfig;
  /** Extra /etc/hosts entries. Defaults to []. */
  hostAliases: { ip: string; hostnames: string[] }[];
}

export interface PodDNSConfig {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

/** Pod-level securityContext. runAs*, seccompProfile are defaults that a container's own override. */
export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  /** Added to every container process's groups. Defaults to []. */
  supplementalGroups: number[];
  /** Owns emptyDir volumes (setgid) and joins every container's groups. */
  fsGroup?: number;
  /** Namespaced sysctls only (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*). Defaults to []. */
  sysctls: { name: string; value: string }[];
  seccompProfile?: SeccompProfile;
}

/** Container-level securityContext, as written (precedence over the pod's is the runtime's job). */
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  /** Capability names, bare and upper-case (NET_ADMIN, or ALL): the manifest may also write cap_net_admin or CAP_NET_ADMIN. */
  capabilities?: { add: string[]; drop: string[] };
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  procMount?: 'Default' | 'Unmasked';
  seccompProfile?: SeccompProfile;
}

export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Required for Localhost: a path relative to podns's seccomp profile directory. */
  localhostProfile?: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** Replaces the image's Entrypoint when set. */
  command?: string[];
  /** Replaces the image's Cmd when set. */
  args?: string[];
  env: EnvVar[];
  workingDir?: string;
  ports: ContainerPort[];
  volumeMounts: VolumeMount[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  securityContext?: SecurityContext;
  /** cpu in cores, memory in bytes; a request defaults to its limit (API server defaulting). */
  resources?: { limits: ResourceValues; requests: ResourceValues };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

/**
 * A container probe, defaulted as the API server does (SetDefaults_Probe). Exactly one handler is set; a named
 * port is resolved to the container's port number by the manifest pass.
 */
export type Probe = ProbeTiming & (
  | { exec: { command: string[] } }
  | { httpGet: HttpGetAction }
  | { tcpSocket: { port: number; host?: string } }
);

export interface ProbeTiming {
  initialDelaySeconds: number;
  /** Default 1. */
  timeoutSeconds: number;
  /** Default 10. */
  periodSeconds: number;
  /** Default 1; always 1 for liveness and startup probes. */
  successThreshold: number;
  /** Default 3. */
  failureThreshold: number;
  /** Liveness and startup only: the grace period when this probe's failure kills the container. */
  terminationGracePeriodSeconds?: number;
}

export interface HttpGetAction {
  /** Default "/". */
  path: string;
  port: number;
  /** The pod IP when absent. */
  host?: string;
  /** HTTPS is refused for now. */
  scheme: 'HTTP';
  httpHeaders: { name: string; value: string }[];
}

export interface ResourceValues {
  /** Cores (0.5 for `500m`). */
  cpu?: number;
  /** Bytes. */
  memory?: number;
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface ContainerPort {
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
  /** Published on the host (nftables DNAT); hostIP limits it to one local address. */
  hostPort?: number;
  hostIP?: string;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
  subPath?: string;
}

export type VolumeSpec =
  | { name: string; emptyDir: { medium: '' | 'Memory'; sizeLimit?: string } }
  | { name: string; hostPath: { path: string; type: HostPathType } };

export type HostPathType =
  | ''
  | 'DirectoryOrCreate'
  | 'Directory'
  | 'FileOrCreate'
  | 'File'
  | 'Socket'
  | 'CharDevice'
  | 'BlockDevice';
