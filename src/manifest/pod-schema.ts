/**
 * The field table: every field of a core/v1 Pod that podns may meet, and what podns does with it.
 *
 * - `honoured`: read, type-checked and carried into the PodManifest.
 * - `ignored`: meaningless on one node without an API server or scheduler; accepted with a warning.
 *   With `when`, only those values are ignored and any other value is rejected.
 * - `rejected`: would change what the containers run or how they are confined, and podns does not
 *   implement it yet; an error. Values listed in `accept` (the Kubernetes defaults, or empty objects)
 *   mean exactly what podns does anyway and are accepted silently.
 * A name missing from its object's table is an unknown field (an error, with a "did you mean").
 *
 * Field names follow the Kubernetes API reference for core/v1 (Pod, ObjectMeta, PodSpec, Container,
 * EnvVar, ContainerPort, VolumeMount, Volume and its sources, PodSecurityContext, SecurityContext) as of
 * Kubernetes 1.34. Objects podns rejects as a whole (Lifecycle, ...) are not descended into.
 *
 * This file has no imports, so scripts/gen-pod-fields.ts can load it with plain Node.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type ValueType =
  | { kind: 'string' }
  | { kind: 'int' }
  | { kind: 'bool' }
  /** A Kubernetes quantity: a string like `128Mi`, or a plain number. */
  | { kind: 'quantity' }
  /** intstr.IntOrString: a JSON number is an int, a JSON string a string (a quoted "8080" stays text). */
  | { kind: 'intOrString' }
  | { kind: 'stringList' }
  /** A list of integers (group IDs). */
  | { kind: 'intList' }
  | { kind: 'stringMap' }
  | { kind: 'object'; schema: ObjectSchema }
  | { kind: 'list'; item: ObjectSchema };

export type FieldRule =
  | { use: 'honoured'; type: ValueType; required?: boolean; note: string }
  | { use: 'ignored'; why: string; when?: readonly Json[] }
  | { use: 'rejected'; why?: string; accept?: readonly Json[] };

export interface ObjectSchema {
  /** The Kubernetes type name, for docs. */
  name: string;
  fields: Record<string, FieldRule>;
  /** The rule for any name not in `fields` (a map with open keys, like ResourceList); absent: unknown field. */
  other?: FieldRule;
}

const STRING: ValueType = { kind: 'string' };
const INT: ValueType = { kind: 'int' };
const BOOL: ValueType = { kind: 'bool' };

function honoured(type: ValueType, note: string, required = false): FieldRule {
  return required ? { use: 'honoured', type, note, required } : { use: 'honoured', type, note };
}
function ignored(why: string, when?: readonly Json[]): FieldRule {
  return when ? { use: 'ignored', why, when } : { use: 'ignored', why };
}
function rejected(accept?: readonly Json[], why?: string): FieldRule {
  const rule: FieldRule = { use: 'rejected' };
  if (accept) rule.accept = accept;
  if (why) rule.why = why;
  return rule;
}

const API_SERVER = 'set by the API server';
const SCHEDULER = 'there is no scheduler; the pod runs on this host';
const UID = '0-2147483647, as in Kubernetes';
const SELINUX = 'SELinux labels are not supported by podns; containers run with the host\'s default label';
const APPARMOR = 'podns has no AppArmor support: only type Unconfined is accepted';
const WINDOWS = 'Windows options do not apply to Linux containers';

export const SECCOMP_PROFILE: ObjectSchema = {
  name: 'SeccompProfile',
  fields: {
    type: honoured(STRING, 'RuntimeDefault (moby\'s default profile), Unconfined (no filter) or Localhost (a Docker-format JSON profile)', true),
    localhostProfile: honoured(STRING, 'required for Localhost, and only then: a path relative to `<lib>/seccomp/` (podns\'s data root), no ".."'),
  },
};

export const SYSCTL: ObjectSchema = {
  name: 'Sysctl',
  fields: {
    name: honoured(STRING, 'a sysctl name (dots or slashes, e.g. net.ipv4.ip_forward), unique in the pod', true),
    value: honoured(STRING, 'written to /proc/sys as given', true),
  },
};

export const POD_SECURITY_CONTEXT: ObjectSchema = {
  name: 'PodSecurityContext',
  fields: {
    runAsUser: honoured(INT, `${UID}; the uid of every container process whose container does not set its own`),
    runAsGroup: honoured(INT, `${UID}; the primary gid of every container process whose container does not set its own`),
    runAsNonRoot: honoured(BOOL, 'the default for containers: refuse to start a container whose user is (or may be) root, with kubelet\'s messages'),
    supplementalGroups: honoured({ kind: 'intList' }, `each ${UID}; added to the groups of every container process`),
    supplementalGroupsPolicy: rejected(['Merge'], 'only Merge (the default: groups from the image\'s /etc/group are kept) is supported by podns'),
    fsGroup: honoured(INT, `${UID}; added to every container process's groups; emptyDir volumes are owned by it, setgid`),
    fsGroupChangePolicy: ignored('podns applies fsGroup to each new emptyDir, which is always empty; hostPath volumes are never changed', ['OnRootMismatch', 'Always']),
    sysctls: honoured({ kind: 'list', item: SYSCTL }, 'namespaced sysctls only (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*), set in the pod\'s IPC and network namespaces before any container starts; all of them, not only kubelet\'s "safe" set'),
    seccompProfile: honoured({ kind: 'object', schema: SECCOMP_PROFILE }, 'the default for containers (RuntimeDefault when neither sets one)'),
    seLinuxOptions: rejected([{}], SELINUX),
    seLinuxChangePolicy: ignored('podns does not relabel volumes (no SELinux support)', ['MountOption', 'Recursive']),
    appArmorProfile: rejected([{ type: 'Unconfined' }], APPARMOR),
    windowsOptions: ignored(WINDOWS),
  },
};

export const CAPABILITIES: ObjectSchema = {
  name: 'Capabilities',
  fields: {
    add: honoured({ kind: 'stringList' }, 'capability names (NET_ADMIN, CAP_NET_ADMIN or ALL, any case), added to the runtime\'s default set'),
    drop: honoured({ kind: 'stringList' }, 'capability names (or ALL), removed after the adds, as containerd does'),
  },
};

export const SECURITY_CONTEXT: ObjectSchema = {
  name: 'SecurityContext',
  fields: {
    runAsUser: honoured(INT, `${UID}; overrides the pod's runAsUser and the image's User`),
    runAsGroup: honoured(INT, `${UID}; overrides the pod's runAsGroup (gid 0 when runAsUser is set and no runAsGroup is)`),
    runAsNonRoot: honoured(BOOL, 'refuse to start the container when its user is (or may be) root, as kubelet does'),
    capabilities: honoured({ kind: 'object', schema: CAPABILITIES }, 'add and drop on top of containerd\'s 14 default capabilities; non-root users get them in the bounding set only'),
    privileged: honoured(BOOL, 'every capability podns itself holds, no seccomp, no masked or read-only /proc and /sys paths'),
    readOnlyRootFilesystem: honoured(BOOL, '/ is remounted read-only (volumes keep their own mode)'),
    allowPrivilegeEscalation: honoured(BOOL, 'false sets no_new_privs; may not be false with privileged or with capabilities.add SYS_ADMIN'),
    procMount: honoured(STRING, 'Default (masked and read-only /proc paths); Unmasked (no masked or read-only /proc paths) only with hostUsers: false'),
    seccompProfile: honoured({ kind: 'object', schema: SECCOMP_PROFILE }, 'overrides the pod\'s; RuntimeDefault when neither sets one'),
    seLinuxOptions: rejected([{}], SELINUX),
    appArmorProfile: rejected([{ type: 'Unconfined' }], APPARMOR),
    windowsOptions: ignored(WINDOWS),
  },
};

export const OBJECT_META: ObjectSchema = {
  name: 'ObjectMeta',
  fields: {
    name: honoured(STRING, 'Pod name (DNS-1123 subdomain); identifies the pod and is the default hostname; required unless generateName is set'),
    generateName: honoured(STRING, 'without a name: the prefix plus 5 random characters, as the API server\'s name generator makes it (`podns down` cannot find such a pod again, as `kubectl delete -f` cannot); ignored when name is set'),
    namespace: honoured(STRING, 'DNS-1123 label, default "default"; part of the pod identity'),
    uid: honoured(STRING, 'kept; generated at run time when absent'),
    labels: honoured({ kind: 'stringMap' }, 'stored (keys and values validated as in Kubernetes)'),
    annotations: honoured({ kind: 'stringMap' }, 'stored (keys validated as in Kubernetes)'),
    selfLink: ignored(API_SERVER),
    resourceVersion: ignored(API_SERVER),
    generation: ignored(API_SERVER),
    creationTimestamp: ignored(API_SERVER),
    deletionTimestamp: ignored(API_SERVER),
    deletionGracePeriodSeconds: ignored(API_SERVER),
    ownerReferences: ignored('there is no garbage collector without an API server'),
    finalizers: ignored('there is no API server to hold deletion'),
    managedFields: ignored(API_SERVER),
  },
};

export const OBJECT_FIELD_SELECTOR: ObjectSchema = {
  name: 'ObjectFieldSelector',
  fields: {
    apiVersion: honoured(STRING, 'v1 (the default)'),
    fieldPath: honoured(STRING, "env: metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName (the host's name), spec.serviceAccountName, status.hostIP(s) (the host's first IPv4 address), status.podIP(s) (known once the supervisor has the pod's network; \"\" with network mode none); a downwardAPI volume file: metadata.name, metadata.namespace, metadata.uid, metadata.labels and metadata.annotations (all of them, as sorted `key=\"value\"` lines, kubelet's FormatMap), or one of them with ['k']", true),
  },
};

export const RESOURCE_FIELD_SELECTOR: ObjectSchema = {
  name: 'ResourceFieldSelector',
  fields: {
    containerName: honoured(STRING, 'a container of the pod; env: this container when absent; required in a downwardAPI volume file (init containers count too)'),
    resource: honoured(STRING, 'limits.cpu, limits.memory, requests.cpu or requests.memory; an unset limit is the node\'s (CPU count, memory size), as kubelet computes it', true),
    divisor: honoured({ kind: 'quantity' }, 'cpu: 1 (default) or 1m; memory: 1 (default), 1k, 1Ki ... 1E, 1Ei; the value is rounded up'),
  },
};

export const KEY_SELECTOR: ObjectSchema = {
  name: 'KeySelector',
  fields: {
    name: honoured(STRING, 'a ConfigMap (or Secret) document of the same file, in the pod\'s namespace', true),
    key: honoured(STRING, 'a key of it', true),
    optional: honoured(BOOL, 'default false: a missing object or key is an error; true: the variable is left unset'),
  },
};

export const ENV_VAR_SOURCE: ObjectSchema = {
  name: 'EnvVarSource',
  fields: {
    fieldRef: honoured({ kind: 'object', schema: OBJECT_FIELD_SELECTOR }, 'see ObjectFieldSelector'),
    resourceFieldRef: honoured({ kind: 'object', schema: RESOURCE_FIELD_SELECTOR }, 'see ResourceFieldSelector'),
    configMapKeyRef: honoured({ kind: 'object', schema: KEY_SELECTOR }, 'a key of a ConfigMap document of the same file'),
    secretKeyRef: honoured({ kind: 'object', schema: KEY_SELECTOR }, 'a key of a Secret document of the same file'),
    fileKeyRef: rejected(),
  },
};

export const ENV_VAR: ObjectSchema = {
  name: 'EnvVar',
  fields: {
    name: honoured(STRING, 'any printable ASCII except "="', true),
    value: honoured(STRING, 'default ""; $(VAR) references to variables defined before it are expanded, $$ escapes, as kubelet does'),
    valueFrom: honoured({ kind: 'object', schema: ENV_VAR_SOURCE }, 'exactly one source; not with value'),
  },
};

export const ENV_FROM_REF: ObjectSchema = {
  name: 'ConfigMapEnvSource',
  fields: {
    name: honoured(STRING, 'a ConfigMap (or Secret) document of the same file', true),
    optional: honoured(BOOL, 'default false: a missing object is an error'),
  },
};

export const ENV_FROM_SOURCE: ObjectSchema = {
  name: 'EnvFromSource',
  fields: {
    prefix: honoured(STRING, 'prepended to each key; keys that are not valid variable names are skipped with a warning'),
    configMapRef: honoured({ kind: 'object', schema: ENV_FROM_REF }, 'every key of the ConfigMap'),
    secretRef: honoured({ kind: 'object', schema: ENV_FROM_REF }, 'every key of the Secret'),
  },
};

export const CONTAINER_PORT: ObjectSchema = {
  name: 'ContainerPort',
  fields: {
    containerPort: honoured(INT, '1-65535; informational, as in Kubernetes', true),
    protocol: honoured(STRING, 'TCP (default), UDP or SCTP'),
    name: honoured(STRING, 'IANA service name, unique in the container'),
    hostPort: honoured(INT, '1-65535: published on every local address (or hostIP) by nftables DNAT; unique per protocol on the host'),
    hostIP: honoured(STRING, 'an IPv4 address of the host to publish hostPort on; needs hostPort'),
  },
};

export const VOLUME_MOUNT: ObjectSchema = {
  name: 'VolumeMount',
  fields: {
    name: honoured(STRING, 'must name a volume of the pod', true),
    mountPath: honoured(STRING, 'absolute, unique in the container', true),
    readOnly: honoured(BOOL, 'default false'),
    subPath: honoured(STRING, 'relative path inside the volume, no ".."'),
    subPathExpr: honoured(STRING, 'like subPath, after $(VAR) expansion from the container\'s env and envFrom (not the image\'s Env), as kubelet expands it: a variable that is unset or empty is an error, the result must be relative without ".."; not with subPath; a variable that comes from status.podIP is refused (podns run plans mounts before the pod has an address) unless hostNetwork'),
    mountPropagation: honoured(STRING, 'None (default: rprivate), HostToContainer (rslave, as containerd asks runc: mounts the host makes below the source later appear in the container; the source must be on a shared or slave mount) or Bidirectional (privileged containers only, as the API server rules: rshared, a peer of the host\'s mount, so mounts the container makes below it also appear on the host and in other containers that mount it; the source must be on a shared mount, as containerd\'s ensureShared, and podns never changes a host mount\'s propagation)'),
    recursiveReadOnly: honoured(STRING, 'Disabled (default), IfPossible or Enabled: with readOnly, the mounts below the source are read-only too (mount_setattr AT_RECURSIVE, Linux 5.12+; Enabled fails without it); not with mountPropagation'),
  },
};

const OTHER_RESOURCES = 'podns honours cpu and memory only (extended resources need a device plugin; hugepages are not accounted)';

export const RESOURCE_LIST: ObjectSchema = {
  name: 'ResourceList',
  fields: {
    cpu: honoured({ kind: 'quantity' }, 'cores (`500m`, `2`); limits → CFS quota per 100 ms period, requests → cpu.shares (v1) / cpu.weight (v2), as kubelet asks'),
    memory: honoured({ kind: 'quantity' }, 'bytes (`64Mi`, `1G`); limits → memory.limit_in_bytes (v1) / memory.max (v2), with swap off'),
    // Common in real manifests, and it changes nothing at start: kubelet enforces it only by evicting the pod later.
    'ephemeral-storage': ignored('not enforced: kubelet enforces it by evicting the pod, and podns has no eviction manager'),
  },
  other: rejected(undefined, OTHER_RESOURCES),
};

export const RESOURCE_REQUIREMENTS: ObjectSchema = {
  name: 'ResourceRequirements',
  fields: {
    limits: honoured({ kind: 'object', schema: RESOURCE_LIST }, 'cpu and memory; a request defaults to its limit, as the API server does'),
    requests: honoured({ kind: 'object', schema: RESOURCE_LIST }, 'cpu and memory; each must be less than or equal to its limit'),
    claims: rejected([[]], 'dynamic resource allocation needs an API server'),
  },
};

const PROBE_PORT = 'int 1-65535, or the name of one of the container\'s ports; a string is always a name, as the API server reads it, so a quoted "8080" is refused';

export const EXEC_ACTION: ObjectSchema = {
  name: 'ExecAction',
  fields: {
    command: honoured({ kind: 'stringList' }, 'required; run without a shell in the container\'s namespaces, as `podns exec` does; exit 0 is success'),
  },
};

export const HTTP_HEADER: ObjectSchema = {
  name: 'HTTPHeader',
  fields: {
    name: honoured(STRING, 'an HTTP header name (letters, digits, \'-\')', true),
    value: honoured(STRING, 'sent as given', true),
  },
};

export const HTTP_GET_ACTION: ObjectSchema = {
  name: 'HTTPGetAction',
  fields: {
    path: honoured(STRING, 'default "/"'),
    port: honoured({ kind: 'intOrString' }, PROBE_PORT, true),
    host: honoured(STRING, 'default: the pod IP, or 127.0.0.1 inside the pod\'s network namespace when it has no IP'),
    scheme: honoured(STRING, 'HTTP (default); HTTPS is not supported by podns yet'),
    httpHeaders: honoured({ kind: 'list', item: HTTP_HEADER }, 'added to kubelet\'s User-Agent: kube-probe/1.34 and Accept: */*, which they may replace'),
  },
};

export const TCP_SOCKET_ACTION: ObjectSchema = {
  name: 'TCPSocketAction',
  fields: {
    port: honoured({ kind: 'intOrString' }, PROBE_PORT, true),
    host: honoured(STRING, 'default: the pod IP, or 127.0.0.1 inside the pod\'s network namespace when it has no IP'),
  },
};

export const GRPC_ACTION: ObjectSchema = {
  name: 'GRPCAction',
  fields: {
    port: honoured(INT, '1-65535 (a number: gRPC probes take no port names)', true),
    service: honoured(STRING, 'the HealthCheckRequest\'s service; "" (default) asks about the whole server'),
  },
};

export const PROBE: ObjectSchema = {
  name: 'Probe',
  fields: {
    exec: honoured({ kind: 'object', schema: EXEC_ACTION }, 'one handler of exec, httpGet, tcpSocket, grpc'),
    httpGet: honoured({ kind: 'object', schema: HTTP_GET_ACTION }, 'status 200-399 is success; redirects are followed on the same host only, as kubelet does'),
    tcpSocket: honoured({ kind: 'object', schema: TCP_SOCKET_ACTION }, 'success when a TCP connection opens'),
    grpc: honoured({ kind: 'object', schema: GRPC_ACTION }, 'grpc.health.v1.Health/Check over cleartext HTTP/2 to the pod IP (from inside the pod\'s netns without one); SERVING is success'),
    initialDelaySeconds: honoured(INT, 'default 0: seconds after the container starts before the first probe'),
    timeoutSeconds: honoured(INT, 'default 1; a probe that takes longer is a failure'),
    periodSeconds: honoured(INT, 'default 10'),
    successThreshold: honoured(INT, 'default 1; consecutive successes to count as success; must be 1 for liveness and startup probes'),
    failureThreshold: honoured(INT, 'default 3; consecutive failures to count as failure (liveness and startup: the container is killed and restarted by restartPolicy)'),
    terminationGracePeriodSeconds: honoured(INT, 'liveness and startup only, > 0: the grace period when this probe kills the container (the pod\'s otherwise)'),
  },
};

export const SLEEP_ACTION: ObjectSchema = {
  name: 'SleepAction',
  fields: {
    seconds: honoured(INT, 'required', true),
  },
};

export const LIFECYCLE_HANDLER: ObjectSchema = {
  name: 'LifecycleHandler',
  fields: {
    exec: honoured({ kind: 'object', schema: EXEC_ACTION }, 'run in the container (its namespaces, user, seccomp filter), as podns exec does; a non-zero exit fails the hook'),
    httpGet: honoured({ kind: 'object', schema: HTTP_GET_ACTION }, 'a GET to the pod IP (or host); needs a pod IP (not network mode none); status 200-399 is success'),
    tcpSocket: rejected(undefined, 'deprecated, and never run by kubelet'),
    sleep: honoured({ kind: 'object', schema: SLEEP_ACTION }, 'the supervisor waits `seconds` (0 ≤ seconds ≤ terminationGracePeriodSeconds); a preStop sleep is cut short when the container exits or the grace period ends'),
  },
};

export const LIFECYCLE: ObjectSchema = {
  name: 'Lifecycle',
  fields: {
    postStart: honoured({ kind: 'object', schema: LIFECYCLE_HANDLER }, 'right after the start; the container counts as started only when it returns; on failure the container is killed (FailedPostStartHook) and restarted per restartPolicy'),
    preStop: honoured({ kind: 'object', schema: LIFECYCLE_HANDLER }, 'before the stop signal, counted against terminationGracePeriodSeconds; a failure is an event (FailedPreStopHook), the stop goes on'),
    stopSignal: rejected(),
  },
};

export const CONTAINER: ObjectSchema = {
  name: 'Container',
  fields: {
    name: honoured(STRING, 'DNS-1123 label, unique in the pod', true),
    image: honoured(STRING, 'image reference (Docker\'s grammar: `nginx` is docker.io/library/nginx:latest); one that is not a reference is refused at its line, where kubelet would fail the container later (InvalidImageName)', true),
    command: honoured({ kind: 'stringList' }, 'replaces the image Entrypoint; [] means unset, as in kubelet'),
    args: honoured({ kind: 'stringList' }, 'replaces the image Cmd; [] means unset, as in kubelet'),
    workingDir: honoured(STRING, 'absolute path; the image WorkingDir when absent'),
    env: honoured({ kind: 'list', item: ENV_VAR }, 'after the image\'s Env and envFrom; $(VAR) in command and args is expanded from it'),
    ports: honoured({ kind: 'list', item: CONTAINER_PORT }, 'containerPort, protocol, name'),
    volumeMounts: honoured({ kind: 'list', item: VOLUME_MOUNT }, 'name, mountPath, readOnly, subPath or subPathExpr'),
    imagePullPolicy: honoured(STRING, 'Always, IfNotPresent or Never'),
    envFrom: honoured({ kind: 'list', item: ENV_FROM_SOURCE }, 'ConfigMap and Secret documents of the same file; env overrides them'),
    resources: honoured({ kind: 'object', schema: RESOURCE_REQUIREMENTS }, 'applied through the container\'s cgroup (see ResourceRequirements); the pod cgroup gets kubelet\'s sums'),
    resizePolicy: ignored('in-place resize needs an API server'),
    restartPolicy: rejected(),
    restartPolicyRules: rejected(),
    volumeDevices: rejected([[]]),
    livenessProbe: honoured({ kind: 'object', schema: PROBE }, 'the container is killed and restarted (by restartPolicy) after failureThreshold consecutive failures'),
    readinessProbe: honoured({ kind: 'object', schema: PROBE }, 'the container\'s ready flag (podns inspect, ps)'),
    startupProbe: honoured({ kind: 'object', schema: PROBE }, 'holds back liveness and readiness probes until it succeeds; failureThreshold failures count as a liveness failure'),
    lifecycle: honoured({ kind: 'object', schema: LIFECYCLE }, 'postStart and preStop hooks (see Lifecycle)'),
    terminationMessagePath: honoured(STRING, 'default /dev/termination-log: a file of the pod\'s bind-mounted there; read (up to 4 KiB) after the exit into the terminated state\'s message'),
    terminationMessagePolicy: honoured(STRING, 'File (default) or FallbackToLogsOnError: when the file is empty and the exit is an error, the last 80 lines (2 KiB at most) of the log'),
    securityContext: honoured({ kind: 'object', schema: SECURITY_CONTEXT }, 'see SecurityContext'),
    stdin: honoured(BOOL, 'the supervisor holds the container\'s stdin open (a pipe, or the terminal) for `podns attach -i`; without it stdin is /dev/null'),
    stdinOnce: honoured(BOOL, 'stdin is closed (EOF) when the first attach session that used it ends, until the container restarts'),
    tty: honoured(BOOL, 'a terminal made in the container\'s own /dev/pts is its stdin, stdout and stderr (TERM=xterm, as containerd sets); its output is logged as stdout; `podns attach -t`'),
  },
};

/**
 * An init container: a Container that runs to completion before the app containers. With restartPolicy Always
 * it is a sidecar (KEP-753): it starts in order with the others, runs beside the app containers and may have
 * ports, probes and hooks; without it, those are forbidden (validate.ts, with the API server's words).
 */
export const INIT_CONTAINER: ObjectSchema = {
  name: 'Container',
  fields: {
    ...CONTAINER.fields,
    restartPolicy: honoured(STRING, 'init containers only, and only Always: a sidecar, started in order, not waited for (beyond its startupProbe and postStart), restarted whenever it exits, stopped after the app containers'),
    ports: honoured({ kind: 'list', item: CONTAINER_PORT }, 'sidecars (restartPolicy: Always) only'),
    livenessProbe: honoured({ kind: 'object', schema: PROBE }, 'sidecars only'),
    readinessProbe: honoured({ kind: 'object', schema: PROBE }, 'sidecars only; part of the pod\'s Ready condition'),
    startupProbe: honoured({ kind: 'object', schema: PROBE }, 'sidecars only; the next init container starts once it succeeds'),
    lifecycle: honoured({ kind: 'object', schema: LIFECYCLE }, 'sidecars only'),
  },
};

export const EMPTY_DIR: ObjectSchema = {
  name: 'EmptyDirVolumeSource',
  fields: {
    medium: honoured(STRING, '"" (a directory on disk) or Memory (tmpfs); HugePages rejected'),
    sizeLimit: honoured({ kind: 'quantity' }, 'a quantity >= 0; Memory: the tmpfs size (bounded by the pod\'s memory limit, which alone sizes it when unset), as kubelet sizes it; on disk not enforced (kubelet evicts the pod)'),
  },
};

export const HOST_PATH: ObjectSchema = {
  name: 'HostPathVolumeSource',
  fields: {
    path: honoured(STRING, 'absolute, no ".."', true),
    type: honoured(STRING, '"" (default), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice'),
  },
};

export const KEY_TO_PATH: ObjectSchema = {
  name: 'KeyToPath',
  fields: {
    key: honoured(STRING, 'a key of the ConfigMap or Secret', true),
    path: honoured(STRING, 'relative, no "..", not starting with ".."', true),
    mode: honoured(INT, '0-0777; defaultMode when absent'),
  },
};

export const CONFIG_MAP_VOLUME: ObjectSchema = {
  name: 'ConfigMapVolumeSource',
  fields: {
    name: honoured(STRING, 'a ConfigMap document of the same file, in the pod\'s namespace', true),
    items: honoured({ kind: 'list', item: KEY_TO_PATH }, 'only these keys, at these paths; every key when absent'),
    defaultMode: honoured(INT, '0-0777, default 0644'),
    optional: honoured(BOOL, 'default false; true: a missing ConfigMap (or key) gives an empty volume'),
  },
};

export const SECRET_VOLUME: ObjectSchema = {
  name: 'SecretVolumeSource',
  fields: {
    secretName: honoured(STRING, 'a Secret document of the same file, in the pod\'s namespace', true),
    items: honoured({ kind: 'list', item: KEY_TO_PATH }, 'only these keys, at these paths; every key when absent'),
    defaultMode: honoured(INT, '0-0777, default 0644'),
    optional: honoured(BOOL, 'default false; true: a missing Secret (or key) gives an empty volume'),
  },
};

const API_DATA = 'files written by podns into a tmpfs of the volume\'s own (memory-backed, as kubelet backs it) before any container starts; mounted read-only';

export const DOWNWARD_API_VOLUME_FILE: ObjectSchema = {
  name: 'DownwardAPIVolumeFile',
  fields: {
    path: honoured(STRING, 'relative, no "..", not starting with ".."; unique in the volume', true),
    fieldRef: honoured({ kind: 'object', schema: OBJECT_FIELD_SELECTOR }, 'the file holds this pod field (see ObjectFieldSelector); exactly one of fieldRef and resourceFieldRef'),
    resourceFieldRef: honoured({ kind: 'object', schema: RESOURCE_FIELD_SELECTOR }, 'the file holds this container resource, containerName required (see ResourceFieldSelector)'),
    mode: honoured(INT, '0-0777; defaultMode when absent'),
  },
};

export const DOWNWARD_API_VOLUME: ObjectSchema = {
  name: 'DownwardAPIVolumeSource',
  fields: {
    items: honoured({ kind: 'list', item: DOWNWARD_API_VOLUME_FILE }, 'one file each, written as kubelet writes them (no trailing newline)'),
    defaultMode: honoured(INT, '0-0777, default 0644'),
  },
};

export const CONFIG_MAP_PROJECTION: ObjectSchema = {
  name: 'ConfigMapProjection',
  fields: {
    name: honoured(STRING, 'a ConfigMap document of the same file, in the pod\'s namespace; a missing "kube-root-ca.crt" (kube-controller-manager publishes it in every namespace of a cluster) is treated as optional, with a warning', true),
    items: honoured({ kind: 'list', item: KEY_TO_PATH }, 'only these keys, at these paths; every key when absent'),
    optional: honoured(BOOL, 'default false; true: a missing ConfigMap (or key) adds no files'),
  },
};

export const SECRET_PROJECTION: ObjectSchema = {
  name: 'SecretProjection',
  fields: {
    name: honoured(STRING, 'a Secret document of the same file, in the pod\'s namespace', true),
    items: honoured({ kind: 'list', item: KEY_TO_PATH }, 'only these keys, at these paths; every key when absent'),
    optional: honoured(BOOL, 'default false; true: a missing Secret (or key) adds no files'),
  },
};

export const DOWNWARD_API_PROJECTION: ObjectSchema = {
  name: 'DownwardAPIProjection',
  fields: {
    items: honoured({ kind: 'list', item: DOWNWARD_API_VOLUME_FILE }, 'as in a downwardAPI volume'),
  },
};

export const SERVICE_ACCOUNT_TOKEN_PROJECTION: ObjectSchema = {
  name: 'ServiceAccountTokenProjection',
  fields: {
    path: honoured(STRING, 'relative, no "..", not starting with ".."; validated only', true),
    expirationSeconds: honoured(INT, 'at least 600 and at most 2^32 (default 3600); validated only'),
    audience: honoured(STRING, 'validated only'),
  },
};

export const VOLUME_PROJECTION: ObjectSchema = {
  name: 'VolumeProjection',
  fields: {
    configMap: honoured({ kind: 'object', schema: CONFIG_MAP_PROJECTION }, 'keys of a ConfigMap as files (see ConfigMapProjection)'),
    secret: honoured({ kind: 'object', schema: SECRET_PROJECTION }, 'keys of a Secret as files'),
    downwardAPI: honoured({ kind: 'object', schema: DOWNWARD_API_PROJECTION }, 'pod fields and container resources as files'),
    serviceAccountToken: honoured({ kind: 'object', schema: SERVICE_ACCOUNT_TOKEN_PROJECTION }, 'there is no API server to issue a token: validated, writes no file, and gives a warning (file:line)'),
    clusterTrustBundle: rejected(undefined, 'ClusterTrustBundle objects come from an API server, which podns does not have'),
    podCertificate: rejected(undefined, 'pod certificates are issued through an API server, which podns does not have'),
  },
};

export const PROJECTED_VOLUME: ObjectSchema = {
  name: 'ProjectedVolumeSource',
  fields: {
    sources: honoured({ kind: 'list', item: VOLUME_PROJECTION }, 'one kind per entry; the files of all of them in one volume, no path twice'),
    defaultMode: honoured(INT, '0-0777, default 0644; the mode of every file whose item has none'),
  },
};

export const CLAIM_VOLUME: ObjectSchema = {
  name: 'PersistentVolumeClaimVolumeSource',
  fields: {
    claimName: honoured(STRING, 'DNS-1123 subdomain: the named volume', true),
    readOnly: honoured(BOOL, 'default false; true mounts it read-only in every container'),
  },
};

export const VOLUME: ObjectSchema = {
  name: 'Volume',
  fields: {
    name: honoured(STRING, 'DNS-1123 label, unique in the pod', true),
    emptyDir: honoured({ kind: 'object', schema: EMPTY_DIR }, 'a per-pod directory (or tmpfs), removed with the pod'),
    hostPath: honoured({ kind: 'object', schema: HOST_PATH }, 'a host file or directory'),
    awsElasticBlockStore: rejected(),
    azureDisk: rejected(),
    azureFile: rejected(),
    cephfs: rejected(),
    cinder: rejected(),
    configMap: honoured({ kind: 'object', schema: CONFIG_MAP_VOLUME }, 'files written by podns into the pod\'s directory before any container starts; mounted read-only'),
    csi: rejected(),
    downwardAPI: honoured({ kind: 'object', schema: DOWNWARD_API_VOLUME }, `pod fields and container resources as files; ${API_DATA}`),
    ephemeral: rejected(),
    fc: rejected(),
    flexVolume: rejected(),
    flocker: rejected(),
    gcePersistentDisk: rejected(),
    gitRepo: rejected(),
    glusterfs: rejected(),
    image: rejected(),
    iscsi: rejected(),
    nfs: rejected(),
    persistentVolumeClaim: honoured({ kind: 'object', schema: CLAIM_VOLUME }, 'a named local volume, as podman kube play makes one: <lib>/volumes/<namespace>/<claimName>, created (0777) on first use, kept after the pod; `podns volume ls|rm|prune`'),
    photonPersistentDisk: rejected(),
    portworxVolume: rejected(),
    projected: honoured({ kind: 'object', schema: PROJECTED_VOLUME }, `configMap, secret, downwardAPI (and serviceAccountToken: no file) sources in one directory; ${API_DATA}`),
    quobyte: rejected(),
    rbd: rejected(),
    scaleIO: rejected(),
    secret: honoured({ kind: 'object', schema: SECRET_VOLUME }, 'like configMap, on a tmpfs of its own (never on disk); mounted read-only'),
    storageos: rejected(),
    vsphereVolume: rejected(),
  },
};

export const POD_DNS_CONFIG_OPTION: ObjectSchema = {
  name: 'PodDNSConfigOption',
  fields: {
    name: honoured(STRING, 'a resolv.conf option, e.g. ndots', true),
    value: honoured(STRING, 'written as name:value'),
  },
};

export const POD_DNS_CONFIG: ObjectSchema = {
  name: 'PodDNSConfig',
  fields: {
    nameservers: honoured({ kind: 'stringList' }, 'IP addresses, at most 3'),
    searches: honoured({ kind: 'stringList' }, 'search domains, at most 32'),
    options: honoured({ kind: 'list', item: POD_DNS_CONFIG_OPTION }, 'resolv.conf options; a later one replaces an earlier one of the same name'),
  },
};

export const HOST_ALIAS: ObjectSchema = {
  name: 'HostAlias',
  fields: {
    ip: honoured(STRING, 'an IP address', true),
    hostnames: honoured({ kind: 'stringList' }, 'DNS-1123 subdomains'),
  },
};

export const LOCAL_OBJECT_REFERENCE: ObjectSchema = {
  name: 'LocalObjectReference',
  fields: {
    name: honoured(STRING, 'a Secret of the same file, in the pod\'s namespace'),
  },
};

export const POD_SPEC: ObjectSchema = {
  name: 'PodSpec',
  fields: {
    containers: honoured({ kind: 'list', item: CONTAINER }, 'at least one', true),
    volumes: honoured({ kind: 'list', item: VOLUME }, 'emptyDir, hostPath, configMap, secret, downwardAPI and projected'),
    shareProcessNamespace: honoured(BOOL, 'default false: one PID namespace per container'),
    hostname: honoured(STRING, 'DNS-1123 label; the pod name when absent'),
    subdomain: honoured(STRING, 'DNS-1123 label: /etc/hosts names the pod <hostname>.<subdomain>.<namespace>.svc.<cluster domain> too'),
    terminationGracePeriodSeconds: honoured(INT, 'default 30; SIGTERM, then SIGKILL after this many seconds'),
    restartPolicy: honoured(STRING, 'Always (default), OnFailure or Never: kubelet\'s restart rules, with its crash-loop back-off (the first restart at once, then 10 s doubling to 5 min; reset by a run of over 10 minutes)'),
    activeDeadlineSeconds: honoured(INT, '1-2147483647: seconds after the pod started; then every container is stopped (its grace period) and the pod is Failed, reason DeadlineExceeded'),
    affinity: ignored(SCHEDULER),
    automountServiceAccountToken: ignored('there is no API server; no service account token is mounted'),
    dnsConfig: honoured({ kind: 'object', schema: POD_DNS_CONFIG }, 'merged into /etc/resolv.conf as kubelet does (nameservers, searches, options)'),
    dnsPolicy: honoured(STRING, 'ClusterFirst (default; without cluster DNS it is Default, as in kubelet), ClusterFirstWithHostNet, Default (the host\'s resolv.conf) or None (dnsConfig only)'),
    enableServiceLinks: ignored('there are no Services, so no service environment variables'),
    ephemeralContainers: rejected([[]]),
    hostAliases: honoured({ kind: 'list', item: HOST_ALIAS }, 'appended to /etc/hosts under "# Entries added by HostAliases."'),
    hostIPC: honoured(BOOL, "default false; true: the host's IPC namespace"),
    hostNetwork: honoured(BOOL, "default false; true: the host's network and UTS namespaces, no pod IP, the node's /etc/hosts"),
    hostPID: honoured(BOOL, "default false; true: the host's PID namespace for the pause and every container"),
    hostUsers: honoured(BOOL, 'default true; false: a user namespace of its own, made with the pause and joined by every container: 65536 host IDs from <etc>/userns.json (65536 up by default) mapped to 0-65535, disjoint from every other pod\'s; image layers and volumes are idmapped mounts, so owners read the same inside as on disk; not with hostNetwork, hostPID or hostIPC'),
    hostnameOverride: rejected(),
    imagePullSecrets: honoured({ kind: 'list', item: LOCAL_OBJECT_REFERENCE }, 'Secrets of type kubernetes.io/dockerconfigjson or dockercfg in the same file: their credentials are tried first for this pod\'s pulls, then auth.json (kubelet\'s order); a missing one is a warning, as kubelet\'s event'),
    initContainers: honoured({ kind: 'list', item: INIT_CONTAINER }, 'Container fields without ports, probes and lifecycle; run one at a time, in order, each to exit 0 before the next and before containers; a failure is retried per restartPolicy (Never: the pod fails); names unique across both lists'),
    nodeName: ignored(SCHEDULER),
    nodeSelector: ignored(SCHEDULER),
    os: ignored('podns runs Linux containers', [{ name: 'linux' }]),
    overhead: ignored('set by the RuntimeClass admission controller'),
    preemptionPolicy: ignored(SCHEDULER),
    priority: ignored(SCHEDULER),
    priorityClassName: ignored(SCHEDULER),
    readinessGates: ignored('there is no pod status condition to gate'),
    resourceClaims: rejected([[]]),
    resources: honoured({ kind: 'object', schema: RESOURCE_REQUIREMENTS }, 'pod-level cpu and memory (KEP-2837): the pod cgroup\'s shares, quota and memory limit in place of the containers\' aggregate; requests must cover the containers\' aggregate requests, no container limit may exceed them'),
    runtimeClassName: rejected(),
    schedulerName: ignored(SCHEDULER),
    schedulingGates: ignored(SCHEDULER),
    securityContext: honoured({ kind: 'object', schema: POD_SECURITY_CONTEXT }, 'see PodSecurityContext'),
    serviceAccount: ignored('there is no API server; no service account token is mounted'),
    serviceAccountName: honoured(STRING, 'only readable through fieldRef ("default" when absent, as the admission plugin sets it); there is no API server, no token is mounted'),
    setHostnameAsFQDN: honoured(BOOL, 'with a subdomain, the pod\'s hostname is its FQDN, <hostname>.<subdomain>.<namespace>.svc.<clusterDomain of network.json, default cluster.local>; at most 64 characters'),
    tolerations: ignored(SCHEDULER),
    topologySpreadConstraints: ignored(SCHEDULER),
  },
};

export const POD: ObjectSchema = {
  name: 'Pod',
  fields: {
    apiVersion: honoured(STRING, 'must be v1', true),
    kind: honoured(STRING, 'Pod; also Deployment, ReplicaSet, DaemonSet, StatefulSet, Job (their pod template, run once), ConfigMap, Secret', true),
    metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'see ObjectMeta', true),
    spec: honoured({ kind: 'object', schema: POD_SPEC }, 'see PodSpec', true),
    status: ignored('status is written by the runtime, never read from a manifest'),
  },
};

const CONTROLLER = 'there is no controller: podns runs the pod template once, as one pod';

export const POD_TEMPLATE: ObjectSchema = {
  name: 'PodTemplateSpec',
  fields: {
    metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'labels and annotations of the pod; its name comes from the workload (see the kinds above)'),
    spec: honoured({ kind: 'object', schema: POD_SPEC }, 'see PodSpec', true),
  },
};

const REPLICAS = honoured(INT, 'more than 1: one pod is run, with a warning (as podman kube play limits it)');

export const DEPLOYMENT_SPEC: ObjectSchema = {
  name: 'DeploymentSpec',
  fields: {
    template: honoured({ kind: 'object', schema: POD_TEMPLATE }, 'run as one pod, <name>-pod (podman kube play\'s name); restartPolicy must be Always', true),
    replicas: REPLICAS,
    selector: ignored(CONTROLLER),
    strategy: ignored(CONTROLLER),
    minReadySeconds: ignored(CONTROLLER),
    revisionHistoryLimit: ignored(CONTROLLER),
    progressDeadlineSeconds: ignored(CONTROLLER),
    paused: ignored(CONTROLLER),
  },
};

export const REPLICA_SET_SPEC: ObjectSchema = {
  name: 'ReplicaSetSpec',
  fields: {
    template: honoured({ kind: 'object', schema: POD_TEMPLATE }, 'run as one pod, <name>-pod; restartPolicy must be Always', true),
    replicas: REPLICAS,
    selector: ignored(CONTROLLER),
    minReadySeconds: ignored(CONTROLLER),
  },
};

export const DAEMON_SET_SPEC: ObjectSchema = {
  name: 'DaemonSetSpec',
  fields: {
    template: honoured({ kind: 'object', schema: POD_TEMPLATE }, 'run as one pod, <name>-pod (this host is the only node); restartPolicy must be Always', true),
    selector: ignored(CONTROLLER),
    updateStrategy: ignored(CONTROLLER),
    minReadySeconds: ignored(CONTROLLER),
    revisionHistoryLimit: ignored(CONTROLLER),
  },
};

export const PERSISTENT_VOLUME_CLAIM_TEMPLATE: ObjectSchema = {
  name: 'PersistentVolumeClaim',
  fields: {
    apiVersion: ignored('a claim template is not an object of its own'),
    kind: ignored('a claim template is not an object of its own'),
    metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'name: the template\'s volume name; the claim is <name>-<statefulset>-0', true),
    spec: ignored('size, access modes and storage class: the claim is a named local volume (see persistentVolumeClaim)'),
    status: ignored('status is written by the controller'),
  },
};

export const STATEFUL_SET_SPEC: ObjectSchema = {
  name: 'StatefulSetSpec',
  fields: {
    template: honoured({ kind: 'object', schema: POD_TEMPLATE }, 'run as one pod, <name>-0 (the first ordinal, its stable name and hostname); restartPolicy must be Always', true),
    replicas: REPLICAS,
    volumeClaimTemplates: honoured({ kind: 'list', item: PERSISTENT_VOLUME_CLAIM_TEMPLATE }, 'each becomes the pod volume of its name: the named volume <template>-<name>-0, kept across pods as a claim is'),
    serviceName: honoured(STRING, 'the pod\'s subdomain, as the StatefulSet controller sets it (its FQDN in /etc/hosts); there are no Services'),
    selector: ignored(CONTROLLER),
    podManagementPolicy: ignored(CONTROLLER),
    updateStrategy: ignored(CONTROLLER),
    revisionHistoryLimit: ignored(CONTROLLER),
    minReadySeconds: ignored(CONTROLLER),
    persistentVolumeClaimRetentionPolicy: ignored('claims are named volumes, removed only by podns volume rm'),
    ordinals: ignored(CONTROLLER),
  },
};

export const JOB_SPEC: ObjectSchema = {
  name: 'JobSpec',
  fields: {
    template: honoured({ kind: 'object', schema: POD_TEMPLATE }, 'run as one pod, <name>-pod; restartPolicy must be OnFailure or Never', true),
    activeDeadlineSeconds: honoured(INT, 'the pod\'s activeDeadlineSeconds unless the template sets its own (one pod is the whole job)'),
    parallelism: honoured(INT, 'more than 1: one pod is run, with a warning'),
    completions: honoured(INT, 'more than 1: one pod is run, with a warning'),
    backoffLimit: ignored('a failed pod is not replaced (restartPolicy OnFailure restarts its containers)'),
    backoffLimitPerIndex: ignored(CONTROLLER),
    maxFailedIndexes: ignored(CONTROLLER),
    completionMode: ignored(CONTROLLER),
    selector: ignored(CONTROLLER),
    manualSelector: ignored(CONTROLLER),
    suspend: ignored(CONTROLLER),
    ttlSecondsAfterFinished: ignored('a finished pod stays until podns rm or podns down'),
    podFailurePolicy: ignored(CONTROLLER),
    podReplacementPolicy: ignored(CONTROLLER),
    successPolicy: ignored(CONTROLLER),
    managedBy: ignored(CONTROLLER),
  },
};

function workload(kind: string, apiVersion: string, spec: ObjectSchema): ObjectSchema {
  return {
    name: kind,
    fields: {
      apiVersion: honoured(STRING, `must be ${apiVersion}`, true),
      kind: honoured(STRING, kind, true),
      metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'name (the pod\'s name is made from it) and namespace', true),
      spec: honoured({ kind: 'object', schema: spec }, `see ${spec.name}`, true),
      status: ignored('status is written by the controller, never read from a manifest'),
    },
  };
}

/** Workload kinds whose pod template podns runs once, as `podman kube play` does for the kinds it knows. */
export const WORKLOADS = {
  Deployment: { apiVersion: 'apps/v1', schema: workload('Deployment', 'apps/v1', DEPLOYMENT_SPEC) },
  ReplicaSet: { apiVersion: 'apps/v1', schema: workload('ReplicaSet', 'apps/v1', REPLICA_SET_SPEC) },
  DaemonSet: { apiVersion: 'apps/v1', schema: workload('DaemonSet', 'apps/v1', DAEMON_SET_SPEC) },
  StatefulSet: { apiVersion: 'apps/v1', schema: workload('StatefulSet', 'apps/v1', STATEFUL_SET_SPEC) },
  Job: { apiVersion: 'batch/v1', schema: workload('Job', 'batch/v1', JOB_SPEC) },
} as const;

export type WorkloadKind = keyof typeof WORKLOADS;

/** The other kinds a manifest file may hold, for the Pods in it (as `podman kube play` reads them). */
export const CONFIG_MAP: ObjectSchema = {
  name: 'ConfigMap',
  fields: {
    apiVersion: honoured(STRING, 'must be v1', true),
    kind: honoured(STRING, 'ConfigMap', true),
    metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'name (DNS-1123 subdomain) and namespace identify it; the rest is kept', true),
    data: honoured({ kind: 'stringMap' }, 'keys [-._a-zA-Z0-9]+, at most 253 characters, not "." or ".."; 1 MiB in all'),
    binaryData: honoured({ kind: 'stringMap' }, 'base64 values; keys as data, and not also in data'),
    immutable: honoured(BOOL, 'accepted (every object is immutable to podns)'),
  },
};

export const SECRET: ObjectSchema = {
  name: 'Secret',
  fields: {
    apiVersion: honoured(STRING, 'must be v1', true),
    kind: honoured(STRING, 'Secret', true),
    metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'name (DNS-1123 subdomain) and namespace identify it; the rest is kept', true),
    data: honoured({ kind: 'stringMap' }, 'base64 values; keys as in a ConfigMap; 1 MiB in all'),
    stringData: honoured({ kind: 'stringMap' }, 'plain values, merged over data, as the API server does'),
    type: honoured(STRING, 'Opaque (default) or a kubernetes.io/ type, whose required keys are checked as the API server does'),
    immutable: honoured(BOOL, 'accepted (every object is immutable to podns)'),
  },
};

/** Every object table, in the order docs/pod-fields.md lists them. */
export const ALL_SCHEMAS: readonly ObjectSchema[] = [
  POD, OBJECT_META, POD_SPEC, POD_SECURITY_CONTEXT, SYSCTL, CONTAINER, RESOURCE_REQUIREMENTS, RESOURCE_LIST, SECURITY_CONTEXT, CAPABILITIES, SECCOMP_PROFILE,
  PROBE, EXEC_ACTION, HTTP_GET_ACTION, HTTP_HEADER, TCP_SOCKET_ACTION, GRPC_ACTION, LIFECYCLE, LIFECYCLE_HANDLER, SLEEP_ACTION,
  ENV_VAR, ENV_VAR_SOURCE, OBJECT_FIELD_SELECTOR, RESOURCE_FIELD_SELECTOR, KEY_SELECTOR, ENV_FROM_SOURCE, ENV_FROM_REF,
  CONTAINER_PORT, VOLUME_MOUNT, VOLUME, EMPTY_DIR, HOST_PATH, CLAIM_VOLUME, CONFIG_MAP_VOLUME, SECRET_VOLUME, KEY_TO_PATH,
  DOWNWARD_API_VOLUME, DOWNWARD_API_VOLUME_FILE, PROJECTED_VOLUME, VOLUME_PROJECTION, CONFIG_MAP_PROJECTION, SECRET_PROJECTION,
  DOWNWARD_API_PROJECTION, SERVICE_ACCOUNT_TOKEN_PROJECTION,
  POD_DNS_CONFIG, POD_DNS_CONFIG_OPTION, HOST_ALIAS, LOCAL_OBJECT_REFERENCE, CONFIG_MAP, SECRET,
  ...Object.values(WORKLOADS).map((w) => w.schema), POD_TEMPLATE, DEPLOYMENT_SPEC, REPLICA_SET_SPEC, DAEMON_SET_SPEC, STATEFUL_SET_SPEC,
  PERSISTENT_VOLUME_CLAIM_TEMPLATE, JOB_SPEC,
];
