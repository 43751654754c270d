/**
 * The runtime service's records as runtime.v1 messages (PodSandbox, PodSandboxStatus, Container,
 * ContainerStatus), and the List calls' filters, as containerd answers them: timestamps in nanoseconds, ids
 * matched by prefix (crictl passes what the user typed), labels matched exactly, all of a selector. Pure.
 */
import type { ContainerRecord, NamespaceMode, SandboxRecord } from '../runtime/records.js';
import type { ContainerStateName, Int64, NamespaceModeName, PodSandboxStateName } from './messages.js';

/** ISO time (the records' ms resolution) → CRI's int64 nanoseconds, as a decimal string; absent → 0. */
export function nanos(iso: string | undefined): Int64 {
  if (!iso) return '0';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '0' : (BigInt(ms) * 1_000_000n).toString();
}

const NAMESPACE_MODE: Record<NamespaceMode, NamespaceModeName> = { pod: 'POD', container: 'CONTAINER', node: 'NODE' };

export function sandboxState(record: SandboxRecord): PodSandboxStateName {
  return record.state === 'ready' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY';
}

export function containerState(record: ContainerRecord): ContainerStateName {
  return ({ created: 'CONTAINER_CREATED', running: 'CONTAINER_RUNNING', exited: 'CONTAINER_EXITED' } as const)[record.state] ?? 'CONTAINER_UNKNOWN';
}

export function podSandboxOf(record: SandboxRecord) {
  const { config } = record;
  return {
    id: record.id,
    metadata: config.metadata,
    state: sandboxState(record),
    created_at: nanos(record.createdAt),
    labels: config.labels,
    annotations: config.annotations,
    runtime_handler: '',
  };
}

export function podSandboxStatusOf(record: SandboxRecord) {
  const { namespaces } = record.config;
  return {
    ...podSandboxOf(record),
    network: { ip: record.podIP ?? '', additional_ips: [] },
    linux: {
      namespaces: {
        options: {
          network: NAMESPACE_MODE[namespaces.network],
          pid: NAMESPACE_MODE[namespaces.pid],
          ipc: NAMESPACE_MODE[namespaces.ipc],
          target_id: '',
          userns_options: usernsOptionsOf(record),
        },
      },
    },
  };
}

/** What kubelet shows as the container's imageID: the registry digest when the image was pulled, else its id. */
export function imageRef(record: ContainerRecord): string {
  const { image } = record.config;
  return image.digest ? `${image.name.replace(/@.*$/, '').replace(/:[^/:@]+$/, '')}@${image.digest}` : image.id;
}

function imageSpecOf(record: ContainerRecord) {
  return { image: record.config.imageSpec ?? record.config.image.name, annotations: {}, user_specified_image: '', runtime_handler: '', image_ref: '' };
}

export function containerOf(record: ContainerRecord) {
  const { config } = record;
  return {
    id: record.id,
    pod_sandbox_id: record.sandboxId,
    metadata: { name: config.name, attempt: config.attempt },
    image: imageSpecOf(record),
    image_ref: imageRef(record),
    state: containerState(record),
    created_at: nanos(record.createdAt),
    labels: config.labels ?? {},
    annotations: config.annotations ?? {},
    image_id: config.image.id,
  };
}

export function containerStatusOf(record: ContainerRecord) {
  const { config } = record;
  const { user } = config.process;
  return {
    ...containerOf(record),
    started_at: nanos(record.startedAt),
    finished_at: nanos(record.finishedAt),
    exit_code: record.exitCode ?? 0,
    reason: record.reason ?? '',
    message: record.message ?? '',
    mounts: config.mounts.map((m) => ({
      container_path: m.containerPath,
      host_path: m.hostPath,
      readonly: m.readonly,
      selinux_relabel: false,
      propagation: m.propagation === 'hostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : m.propagation === 'bidirectional' ? 'PROPAGATION_BIDIRECTIONAL' : 'PROPAGATION_PRIVATE',
      recursive_read_only: m.recursiveReadOnly !== undefined,
    })),
    log_path: config.logPath,
    ...(config.criResources ? { resources: { linux: config.criResources } } : {}),
    user: { linux: { uid: String(user.uid), gid: String(user.gid), supplemental_groups: user.groups.map(String) } },
  };
}

/** An id filter: equal, or a unique-looking prefix as crictl passes them (containerd's truncindex). */
export function idMatches(id: string, filter: string | undefined): boolean {
  return !filter || id.startsWith(filter);
}

export function labelsMatch(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** The sandbox's user namespace as kubelet gave it (NODE: the host's). */
function usernsOptionsOf(record: SandboxRecord): object {
  const u = record.userNamespace;
  if (!u) return { mode: 'NODE', uids: [], gids: [] };
  return { mode: 'POD', uids: [{ host_id: u.uidBase, container_id: 0, length: u.size }], gids: [{ host_id: u.gidBase, container_id: 0, length: u.size }] };
}
