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
 * EnvVar, ContainerPort, VolumeMount, Volume and its sources) as of Kubernetes 1.34. Objects podns
 * rejects as a whole (SecurityContext, Probe, ResourceRequirements, ...) are not descended into.
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
  | { kind: 'stringList' }
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
const NETWORKING = 'not supported yet (pod networking)';

export const OBJECT_META: ObjectSchema = {
  name: 'ObjectMeta',
  fields: {
    name: honoured(STRING, 'Pod name (DNS-1123 subdomain); identifies the pod and is the default hostname', true),
    generateName: rejected(undefined, 'not supported by podns (set metadata.name)'),
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

export const ENV_VAR: ObjectSchema = {
  name: 'EnvVar',
  fields: {
    name: honoured(STRING, 'any printable ASCII except "="', true),
    value: honoured(STRING, 'default ""; $(VAR) references are expanded by the runtime'),
    valueFrom: rejected(),
  },
};

export const CONTAINER_PORT: ObjectSchema = {
  name: 'ContainerPort',
  fields: {
    containerPort: honoured(INT, '1-65535; informational, as in Kubernetes', true),
    protocol: honoured(STRING, 'TCP (default), UDP or SCTP'),
    name: honoured(STRING, 'IANA service name, unique in the container'),
    hostPort: rejected(undefined, NETWORKING),
    hostIP: rejected(undefined, NETWORKING),
  },
};

export const VOLUME_MOUNT: ObjectSchema = {
  name: 'VolumeMount',
  fields: {
    name: honoured(STRING, 'must name a volume of the pod', true),
    mountPath: honoured(STRING, 'absolute, unique in the container', true),
    readOnly: honoured(BOOL, 'default false'),
    subPath: honoured(STRING, 'relative path inside the volume, no ".."'),
    subPathExpr: rejected(['']),
    mountPropagation: rejected(['None']),
    recursiveReadOnly: rejected(['Disabled']),
  },
};

export const CONTAINER: ObjectSchema = {
  name: 'Container',
  fields: {
    name: honoured(STRING, 'DNS-1123 label, unique in the pod', true),
    image: honoured(STRING, 'image reference', true),
    command: honoured({ kind: 'stringList' }, 'replaces the image Entrypoint; [] means unset, as in kubelet'),
    args: honoured({ kind: 'stringList' }, 'replaces the image Cmd; [] means unset, as in kubelet'),
    workingDir: honoured(STRING, 'absolute path; the image WorkingDir when absent'),
    env: honoured({ kind: 'list', item: ENV_VAR }, 'name and value only'),
    ports: honoured({ kind: 'list', item: CONTAINER_PORT }, 'containerPort, protocol, name'),
    volumeMounts: honoured({ kind: 'list', item: VOLUME_MOUNT }, 'name, mountPath, readOnly, subPath'),
    imagePullPolicy: honoured(STRING, 'Always, IfNotPresent or Never'),
    envFrom: rejected([[]]),
    resources: rejected([{}]),
    resizePolicy: ignored('in-place resize needs an API server'),
    restartPolicy: rejected(),
    restartPolicyRules: rejected(),
    volumeDevices: rejected([[]]),
    livenessProbe: rejected(),
    readinessProbe: rejected(),
    startupProbe: rejected(),
    lifecycle: rejected([{}]),
    terminationMessagePath: ignored('termination messages are not collected yet'),
    terminationMessagePolicy: ignored('termination messages are not collected yet'),
    securityContext: rejected([{}]),
    stdin: rejected([false]),
    stdinOnce: rejected([false]),
    tty: rejected([false]),
  },
};

export const EMPTY_DIR: ObjectSchema = {
  name: 'EmptyDirVolumeSource',
  fields: {
    medium: honoured(STRING, '"" (a directory on disk) or Memory (tmpfs); HugePages rejected'),
    sizeLimit: honoured({ kind: 'quantity' }, 'a quantity >= 0'),
  },
};

export const HOST_PATH: ObjectSchema = {
  name: 'HostPathVolumeSource',
  fields: {
    path: honoured(STRING, 'absolute, no ".."', true),
    type: honoured(STRING, '"" (default), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice'),
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
    configMap: rejected(),
    csi: rejected(),
    downwardAPI: rejected(),
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
    persistentVolumeClaim: rejected(),
    photonPersistentDisk: rejected(),
    portworxVolume: rejected(),
    projected: rejected(),
    quobyte: rejected(),
    rbd: rejected(),
    scaleIO: rejected(),
    secret: rejected(),
    storageos: rejected(),
    vsphereVolume: rejected(),
  },
};

export const POD_SPEC: ObjectSchema = {
  name: 'PodSpec',
  fields: {
    containers: honoured({ kind: 'list', item: CONTAINER }, 'at least one', true),
    volumes: honoured({ kind: 'list', item: VOLUME }, 'emptyDir and hostPath only'),
    shareProcessNamespace: honoured(BOOL, 'default false: one PID namespace per container'),
    hostname: honoured(STRING, 'DNS-1123 label; the pod name when absent'),
    subdomain: honoured(STRING, 'DNS-1123 label'),
    terminationGracePeriodSeconds: honoured(INT, 'default 30; SIGTERM, then SIGKILL after this many seconds'),
    restartPolicy: honoured(STRING, 'Always (default), OnFailure or Never; validated and recorded, but podns does not restart containers yet'),
    activeDeadlineSeconds: rejected(),
    affinity: ignored(SCHEDULER),
    automountServiceAccountToken: ignored('there is no API server; no service account token is mounted'),
    dnsConfig: rejected([{}]),
    dnsPolicy: ignored('there is no cluster DNS; ClusterFirst behaves like Default, as kubelet does without clusterDNS', ['ClusterFirst', 'Default']),
    enableServiceLinks: ignored('there are no Services, so no service environment variables'),
    ephemeralContainers: rejected([[]]),
    hostAliases: rejected([[]]),
    hostIPC: rejected([false]),
    hostNetwork: rejected([false], NETWORKING),
    hostPID: rejected([false]),
    hostUsers: rejected([true]),
    hostnameOverride: rejected(),
    imagePullSecrets: ignored('registry credentials from Secrets are not supported; pulls are anonymous'),
    initContainers: rejected([[]]),
    nodeName: ignored(SCHEDULER),
    nodeSelector: ignored(SCHEDULER),
    os: ignored('podns runs Linux containers', [{ name: 'linux' }]),
    overhead: ignored('set by the RuntimeClass admission controller'),
    preemptionPolicy: ignored(SCHEDULER),
    priority: ignored(SCHEDULER),
    priorityClassName: ignored(SCHEDULER),
    readinessGates: ignored('there is no pod status condition to gate'),
    resourceClaims: rejected([[]]),
    resources: rejected([{}]),
    runtimeClassName: rejected(),
    schedulerName: ignored(SCHEDULER),
    schedulingGates: ignored(SCHEDULER),
    securityContext: rejected([{}]),
    serviceAccount: ignored('there is no API server; no service account token is mounted'),
    serviceAccountName: ignored('there is no API server; no service account token is mounted'),
    setHostnameAsFQDN: rejected([false]),
    tolerations: ignored(SCHEDULER),
    topologySpreadConstraints: ignored(SCHEDULER),
  },
};

export const POD: ObjectSchema = {
  name: 'Pod',
  fields: {
    apiVersion: honoured(STRING, 'must be v1', true),
    kind: honoured(STRING, 'must be Pod (other kinds are an error)', true),
    metadata: honoured({ kind: 'object', schema: OBJECT_META }, 'see ObjectMeta', true),
    spec: honoured({ kind: 'object', schema: POD_SPEC }, 'see PodSpec', true),
    status: ignored('status is written by the runtime, never read from a manifest'),
  },
};

/** Every object table, in the order docs/pod-fields.md lists them. */
export const ALL_SCHEMAS: readonly ObjectSchema[] = [POD, OBJECT_META, POD_SPEC, CONTAINER, ENV_VAR, CONTAINER_PORT, VOLUME_MOUNT, VOLUME, EMPTY_DIR, HOST_PATH];
