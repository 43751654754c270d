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
  /** Pod-level cpu and memory (KEP-2837): the pod cgroup's, in place of the containers' aggregate. */
  resources?: { limits: ResourceValues; requests: ResourceValues };
  /** Secrets (of the same file) whose registry credentials pulls of this pod's images use first. */
  imagePullSecrets?: string[];
  /** Run to completion one by one before `containers`; absent when the manifest has none. */
  initContainers?: ContainerSpec[];
  volumes: VolumeSpec[];
  shareProcessNamespace: boolean;
  /** spec.hostname; the pod name is used when absent. */
  hostname?: string;
  subdomain?: string;
  /** The UTS hostname is the FQDN (<hostname>.<subdomain>.<namespace>.svc.<cluster domain>) when a subdomain is set. */
  setHostnameAsFQDN?: boolean;
  /** Defaults to 30, as in Kubernetes. */
  terminationGracePeriodSeconds: number;
  /** Defaults to Always: kubelet's restart rules (kubelet/restart-policy.ts). */
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** Seconds the pod may be active before it is killed and Failed (DeadlineExceeded). */
  activeDeadlineSeconds?: number;
  /** spec.securityContext; {} when absent. */
  securityContext: PodSecurityContext;
  /** The host's namespaces instead of the pod's own (default false). */
  hostNetwork: boolean;
  hostIPC: boolean;
  hostPID: boolean;
  /**
   * false: the pod runs in a user namespace of its own, 65536 host IDs mapped to 0..65535 (KEP-127). Default
   * true: the host's user namespace.
   */
  hostUsers: boolean;
  /** Default ClusterFirst (with hostNetwork too, as kubelet falls back to Default then). */
  dnsPolicy: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';
  dnsConfig?: PodDNSConfig;
  /** Extra /etc/hosts entries. Defaults to []. */
  hostAliases: { ip: string; hostnames: string[] }[];
  /** Only readable through fieldRef (no token is mounted); "default" when absent, as the admission plugin sets it. */
  serviceAccountName?: string;
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
  /** ConfigMaps and Secrets whose keys all become variables, before env (which overrides them). */
  envFrom?: EnvFromSource[];
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
  /** postStart right after the start (the container is killed if it fails), preStop before the stop signal. */
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
  /** Default /dev/termination-log (applied by the runtime; absent here when the manifest does not set it). */
  terminationMessagePath?: string;
  /** Default File. */
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
  /** Keep stdin open for attach (a pipe, or the terminal with tty); absent: false, stdin is /dev/null. */
  stdin?: boolean;
  /** Close stdin when the first attach session that used it ends. */
  stdinOnce?: boolean;
  /** Give the container a terminal (pty) as stdin, stdout and stderr. */
  tty?: boolean;
  /** Init containers only: Always makes it a sidecar (restartable init container). */
  restartPolicy?: 'Always';
}

/** A lifecycle hook: exactly one of exec, httpGet and sleep (tcpSocket is refused). */
export type LifecycleHandler = { exec: { command: string[] } } | { httpGet: HttpGetAction } | { sleep: { seconds: number } };

/**
 * A container probe, defaulted as the API server does (SetDefaults_Probe). Exactly one handler is set; a named
 * port is resolved to the container's port number by the manifest pass.
 */
export type Probe = ProbeTiming & (
  | { exec: { command: string[] } }
  | { httpGet: HttpGetAction }
  | { tcpSocket: { port: number; host?: string } }
  | { grpc: { port: number; service?: string } }
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
  /** "" with valueFrom. */
  value: string;
  valueFrom?: EnvVarSource;
}

export type EnvVarSource =
  /** metadata.name|namespace|uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s). */
  | { fieldRef: { fieldPath: string } }
  /** limits.cpu|memory or requests.cpu|memory of containerName (default: this container), divided by divisor, rounded up. */
  | { resourceFieldRef: { containerName?: string; resource: string; divisor: string } }
  | { configMapKeyRef: KeyRef }
  | { secretKeyRef: KeyRef };

export interface KeyRef {
  name: string;
  key: string;
  /** A missing object or key leaves the variable unset instead of failing. */
  optional: boolean;
}

export interface EnvFromSource {
  /** Prepended to every key. Defaults to "". */
  prefix: string;
  configMapRef?: { name: string; optional: boolean };
  secretRef?: { name: string; optional: boolean };
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
  /**
   * A path inside the volume. With subPathExpr, absent in the loaded manifest; `podns run` sets it to the
   * expansion (src/runtime/subpath-expr.ts), and that is what the runtime mounts.
   */
  subPath?: string;
  /** As written: `$(VAR)` references to the container's env, expanded by `podns run`. */
  subPathExpr?: string;
  /**
   * HostToContainer: mounts the host makes below the source later appear in the container (rslave).
   * Bidirectional (privileged containers only): also the container's mounts below it appear on the host (rshared).
   */
  mountPropagation?: 'HostToContainer' | 'Bidirectional';
  /** With readOnly: the mounts below the volume's source read-only too (IfPossible: when the kernel can). */
  recursiveReadOnly?: 'IfPossible' | 'Enabled';
}

export type VolumeSpec =
  | { name: string; emptyDir: { medium: '' | 'Memory'; sizeLimit?: string } }
  | { name: string; hostPath: { path: string; type: HostPathType } }
  | { name: string; configMap: ConfigVolumeSource }
  | { name: string; secret: ConfigVolumeSource }
  | { name: string; downwardAPI: DownwardAPIVolumeSource }
  | { name: string; projected: ProjectedVolumeSource }
  | { name: string; persistentVolumeClaim: ClaimVolumeSource };

/**
 * A PersistentVolumeClaim, as podman kube play treats one without a cluster: a named local volume (a directory
 * under <lib>/volumes/<namespace>/<claimName>), made on first use and kept after the pod, until `podns volume rm`.
 */
export interface ClaimVolumeSource {
  claimName: string;
  readOnly: boolean;
  /** The volume's directory, set by `podns run` (it knows the roots). */
  path?: string;
}

/** A configMap or secret volume; its files are resolved from the documents of the same file by the loader. */
export interface ConfigVolumeSource {
  /** The ConfigMap's name, or the Secret's secretName. */
  name: string;
  items?: { key: string; path: string; mode?: number }[];
  /** Defaults to 0644, as the API server sets it. */
  defaultMode: number;
  optional: boolean;
  /** What the volume holds: relative path, mode, content (base64). Empty for an optional volume whose object is missing. */
  files: VolumeFile[];
}

/**
 * A downwardAPI volume, or the downwardAPI source of a projected one. The loader validates the items; their
 * content is resolved by `podns run`, which alone knows metadata.uid and the node's allocatable resources.
 */
export interface DownwardAPIVolumeSource {
  items: DownwardAPIFile[];
  /** Defaults to 0644; in a projected volume, the projected volume's defaultMode. */
  defaultMode: number;
  /** What the volume holds; absent until `podns run` resolves it (the runtime refuses an unresolved volume). */
  files?: VolumeFile[];
}

/** One item: exactly one of fieldRef and resourceFieldRef. */
export interface DownwardAPIFile {
  path: string;
  mode?: number;
  /** metadata.name|namespace|uid|labels|annotations, or metadata.labels['k'] / metadata.annotations['k']. */
  fieldRef?: { fieldPath: string };
  /** containerName is required in a volume (there is no "this container"). */
  resourceFieldRef?: { containerName: string; resource: string; divisor: string };
}

/** A projected volume: the files of its sources in one directory, later sources winning a path, as kubelet merges them. */
export interface ProjectedVolumeSource {
  /** Defaults to 0644; copied into each source's defaultMode by the loader. */
  defaultMode: number;
  sources: VolumeProjection[];
}

export type VolumeProjection =
  | { configMap: ConfigVolumeSource }
  | { secret: ConfigVolumeSource }
  | { downwardAPI: DownwardAPIVolumeSource }
  /** Validated and kept; without an API server there is no token, so no file is written. */
  | { serviceAccountToken: { path: string; expirationSeconds: number; audience?: string } };

export interface VolumeFile {
  path: string;
  mode: number;
  /** base64 */
  data: string;
}

/** A ConfigMap or Secret document of the manifest file, validated; Secret data decoded. */
export interface ConfigObject {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  namespace: string;
  /** key → content (data and binaryData merged for a ConfigMap; data and stringData for a Secret). */
  data: Record<string, Buffer>;
  /** Secret type (Opaque by default); undefined for a ConfigMap. */
  type?: string;
  immutable: boolean;
  /** Line of metadata.name, for messages. */
  line: number;
}

export type HostPathType =
  | ''
  | 'DirectoryOrCreate'
  | 'Directory'
  | 'FileOrCreate'
  | 'File'
  | 'Socket'
  | 'CharDevice'
  | 'BlockDevice';
