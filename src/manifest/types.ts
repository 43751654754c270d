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
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface ContainerPort {
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
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
