/**
 * What the CRI kernel tests share: a gRPC client built from podns's api.proto (the same definition kubelet's
 * client is generated from), a CNI configuration of the reference plugins for the CRI's sandboxes, and the
 * configs kubelet would send for the article's pod (nginx and busybox sharing the pod's PID namespace).
 */
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import path from 'node:path';
import { loadCriPackage } from '../../src/cri/grpc-server.js';
import { testCgroupParents, type Podns } from './harness.js';

export const CNI_BIN = '/usr/lib/cni';

export interface CriClient {
  runtime: (method: string, request?: object) => Promise<any>;
  image: (method: string, request?: object) => Promise<any>;
  /** A server-streaming call: every response until `stop()`. */
  stream: (method: string, request: object) => { responses: any[]; stop: () => void; ended: Promise<void> };
  close: () => void;
}

export function criClient(socket: string): CriClient {
  const { RuntimeService, ImageService } = loadCriPackage();
  const address = `unix://${socket}`;
  const runtime = new RuntimeService(address, grpc.credentials.createInsecure());
  const image = new ImageService(address, grpc.credentials.createInsecure());
  const unary = (client: grpc.Client, method: string, request: object = {}) =>
    new Promise<any>((resolve, reject) => {
      (client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>)[method]!(request, (err, response) => (err ? reject(err) : resolve(response)));
    });
  return {
    runtime: (method, request) => unary(runtime, method, request),
    image: (method, request) => unary(image, method, request),
    stream: (method, request) => {
      const call = (runtime as unknown as Record<string, (r: object) => grpc.ClientReadableStream<unknown>>)[method]!(request);
      const responses: any[] = [];
      call.on('data', (r) => responses.push(r));
      const ended = new Promise<void>((resolve) => {
        call.on('error', () => resolve());
        call.on('end', () => resolve());
      });
      return { responses, stop: () => call.cancel(), ended };
    },
    close: () => {
      runtime.close();
      image.close();
    },
  };
}

/** A gRPC failure's code and message, for expect(). */
export async function grpcError(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('the call succeeded but should have failed');
}

export const status = grpc.status;

/**
 * The CRI's settings for this root: CNI conf in the root (a bridge, host-local addresses in `subnet`, portmap),
 * the reference plugins from Debian's containernetworking-plugins. Returns the conf dir.
 */
export function writeCriNetwork(podns: Podns, subnet = '10.77.0.0/24', bridge = 'kcri0'): string {
  const etc = path.join(podns.root, 'etc');
  const confDir = path.join(podns.root, 'cni', 'net.d');
  fs.mkdirSync(etc, { recursive: true });
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(path.join(etc, 'cri.json'), JSON.stringify({ cniConfDir: confDir, cniBinDirs: [CNI_BIN] }));
  fs.writeFileSync(
    path.join(confDir, '10-kcri.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'kcri',
      plugins: [
        { type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: path.join(podns.root, 'cni', 'ipam') } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  return confDir;
}

/** What kubelet sends for a pod: metadata, hostname, its log directory, DNS, the pod cgroup, namespaces. */
export function sandboxConfig(podns: Podns, name: string, uid: string, options: { attempt?: number; sharePid?: boolean; hostPorts?: { container: number; host: number }[]; labels?: Record<string, string> } = {}) {
  const logDir = path.join(podns.root, 'kubelet-logs', `default_${name}_${uid}`);
  fs.mkdirSync(logDir, { recursive: true });
  return {
    metadata: { name, uid, namespace: 'default', attempt: options.attempt ?? 0 },
    hostname: name,
    log_directory: logDir,
    dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
    port_mappings: (options.hostPorts ?? []).map((p) => ({ protocol: 'TCP', container_port: p.container, host_port: p.host, host_ip: '' })),
    labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid, ...options.labels },
    annotations: { 'kubernetes.io/config.source': 'api', 'podns.test/verbatim': 'a b\nc' },
    linux: {
      cgroup_parent: `/kubepods/besteffort/pod${uid}`,
      security_context: {
        namespace_options: { network: 'POD', pid: options.sharePid ? 'POD' : 'CONTAINER', ipc: 'POD' },
        seccomp: { profile_type: 'RuntimeDefault' },
      },
      sysctls: {},
    },
  };
}

/** kubelet's masked and read-only paths for a container (pkg/securitycontext), as it sends them. */
const MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** What kubelet sends for a container: image (by id, as kubelet names it after ImageStatus), command, log path, security context. */
export function containerConfig(name: string, imageId: string, options: { command?: string[]; args?: string[]; attempt?: number; envs?: Record<string, string>; securityContext?: object; mounts?: object[]; stdin?: boolean; tty?: boolean; labels?: Record<string, string>; resources?: object } = {}) {
  return {
    metadata: { name, attempt: options.attempt ?? 0 },
    image: { image: imageId },
    command: options.command ?? [],
    args: options.args ?? [],
    envs: Object.entries(options.envs ?? {}).map(([key, value]) => ({ key, value: Buffer.from(value) })),
    mounts: options.mounts ?? [],
    labels: { 'io.kubernetes.container.name': name, ...options.labels },
    annotations: { 'io.kubernetes.container.restartCount': String(options.attempt ?? 0) },
    log_path: `${name}/${options.attempt ?? 0}.log`,
    stdin: options.stdin ?? false,
    tty: options.tty ?? false,
    linux: {
      ...(options.resources ? { resources: options.resources } : {}),
      security_context: {
        masked_paths: MASKED,
        readonly_paths: READONLY,
        seccomp: { profile_type: 'RuntimeDefault' },
        ...options.securityContext,
      },
    },
  };
}

/**
 * kubelet's part of the cgroups: it makes each pod's cgroup (kubepods/besteffort/pod<uid>, below the tests'
 * parent here) before RunPodSandbox and removes it after RemovePodSandbox; podns makes the sandbox's below it.
 * Playing kubelet, the tests remove them (empty by then, or rmdir fails and the harness reports them).
 */
export function removeKubeletCgroups(): void {
  for (const base of testCgroupParents()) {
    const top = path.join(base, 'kubepods');
    if (!fs.existsSync(top)) continue;
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
      fs.rmdirSync(dir);
    };
    walk(top);
  }
}
