/**
 * What the CRI kernel tests share: a gRPC client built from podns's api.proto (the same definition kubelet's
 * client is generated from), a CNI configuration of the reference plugins for the CRI's sandboxes, and the
 * configs kubelet would send for the article's pod (nginx and busybox sharing the pod's PID namespace).
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadCriPackage } from '../../src/cri/grpc-server.js';
import { createPodns, testCgroupParents, waitFor, type Podns } from './harness.js';

export const CNI_BIN = '/usr/lib/cni';

export interface CriClient {
  runtime: (method: string, request?: object) => Promise<any>;
  image: (method: string, request?: object) => Promise<any>;
  /** An ImageService call with a gRPC deadline `ms` from now (the client gives up then: DEADLINE_EXCEEDED). */
  imageWithDeadline: (method: string, request: object, ms: number) => Promise<any>;
  /** A server-streaming call: every response until `stop()`. */
  stream: (method: string, request: object) => { responses: any[]; stop: () => void; ended: Promise<void> };
  close: () => void;
}

/** `authority`: the HTTP/2 :authority to send (grpc-js sends localhost for a unix socket, as k8s.io/cri-client does). */
export function criClient(socket: string, options: { authority?: string } = {}): CriClient {
  const { RuntimeService, ImageService } = loadCriPackage();
  const address = `unix://${socket}`;
  const channel = options.authority ? { 'grpc.default_authority': options.authority } : {};
  const runtime = new RuntimeService(address, grpc.credentials.createInsecure(), channel);
  const image = new ImageService(address, grpc.credentials.createInsecure(), channel);
  const unary = (client: grpc.Client, method: string, request: object = {}, options: grpc.CallOptions = {}) =>
    new Promise<any>((resolve, reject) => {
      (client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>)[method]!(request, options, (err, response) =>
        err ? reject(err) : resolve(response),
      );
    });
  return {
    runtime: (method, request) => unary(runtime, method, request),
    image: (method, request) => unary(image, method, request),
    imageWithDeadline: (method, request, ms) => unary(image, method, request, { deadline: Date.now() + ms }),
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
export function writeCriNetwork(podns: Podns, subnet = '10.77.0.0/24', bridge = 'kcri0', settings: Record<string, unknown> = {}): string {
  const etc = path.join(podns.root, 'etc');
  const confDir = path.join(podns.root, 'cni', 'net.d');
  fs.mkdirSync(etc, { recursive: true });
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(path.join(etc, 'cri.json'), JSON.stringify({ cniConfDir: confDir, cniBinDirs: [CNI_BIN], ...settings }));
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

// ---------------------------------------------------------------------------------------------------------------
// critest's framework (kubernetes-sigs/cri-tools pkg/framework/util.go and pkg/validate's helpers), in TypeScript:
// the cri-*.test.ts files mirror its cases one by one with these, sending what it sends.

/** critest's DefaultLinuxContainerImage is registry.k8s.io/e2e-test-images/busybox:1.29-2; ours is this busybox. */
export const BUSYBOX = 'docker.io/yauritux/busybox-curl:latest';
/** critest's nginx:1.14-2 (webServerImage, nginxContainerImage); ours is Debian's nginx. */
export const NGINX = 'docker.io/library/nginx:latest';
/** framework.DefaultAttempt: critest's sandboxes and containers are all attempt 2. */
export const DEFAULT_ATTEMPT = 2;
/** framework.DefaultContainerCommand (Linux) and validate's pauseCmd. */
export const DEFAULT_CONTAINER_COMMAND = ['top'];
export const PAUSE_CMD = ['sh', '-c', 'top'];
/** validate's defaultExecSyncTimeout and defaultStopContainerTimeout, in seconds. */
export const EXEC_SYNC_TIMEOUT = 30;
export const STOP_CONTAINER_TIMEOUT = 60;
/** validate's defaultLog. */
export const DEFAULT_LOG = 'hello World';

export const uuid = (): string => randomUUID();

/** A CRI endpoint for one test file: a supervisor in the file's own network namespace, CNI set up, a client. */
export interface CriHarness {
  podns: Podns;
  cri: CriClient;
  /** Sandboxes a failed test left go first (through podns), then kubelet's cgroups, then the root (leak check). */
  dispose: () => Promise<void>;
}

/**
 * `network: 'private'` (the default): the supervisor in the test's own network namespace with the CNI bridge,
 * host-local and portmap plugins. `network: 'none'`: in this process's network namespace (the registry tests',
 * whose registries listen on the host's loopback), without any CNI config: its sandboxes must use the node's network.
 */
export async function startCri(options: { network?: 'private' | 'none'; images?: boolean; settings?: Record<string, unknown> } = {}): Promise<CriHarness> {
  const network = options.network ?? 'private';
  const podns = await createPodns({ network, images: options.images });
  try {
    if (network === 'private') writeCriNetwork(podns, undefined, undefined, options.settings);
    else {
      // No CNI conf dir at all: a sandbox on the pod network would fail, never reach the host's /etc/cni/net.d.
      fs.mkdirSync(path.join(podns.root, 'etc'), { recursive: true });
      fs.writeFileSync(path.join(podns.root, 'etc', 'cri.json'), JSON.stringify({ cniConfDir: path.join(podns.root, 'no-cni'), cniBinDirs: [CNI_BIN] }));
    }
    await podns.ok(['serve', '--background']);
  } catch (err) {
    await podns.dispose();
    throw err;
  }
  const cri = criClient(path.join(podns.root, 'run', 'cri.sock'));
  return {
    podns,
    cri,
    dispose: async () => {
      try {
        for (const s of (await cri.runtime('ListPodSandbox', {})).items) await podns.run(['rm', '-f', s.id]);
      } finally {
        cri.close();
        try {
          removeKubeletCgroups();
        } finally {
          await podns.dispose();
        }
      }
    },
  };
}

/** framework.BuildPodSandboxMetadata. */
export function podSandboxMetadata(name: string, uid: string, namespace: string, attempt = DEFAULT_ATTEMPT) {
  return { name, uid, namespace, attempt };
}

/**
 * What framework.RunDefaultPodSandbox and CreatePodSandboxForContainer send: metadata, the cgroup parent for the
 * cgroupfs driver ("", common.GetCgroupParent), the default (empty) labels; no hostname, no log directory, no DNS.
 */
export function defaultSandboxConfig(prefix: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: podSandboxMetadata(prefix + uuid(), `cri-test-uid${uuid()}`, `cri-test-namespace${uuid()}`),
    linux: { cgroup_parent: '' },
    labels: {},
    ...extra,
  };
}

/** framework.RunPodSandbox. */
export async function runPodSandbox(cri: CriClient, config: object): Promise<string> {
  return (await cri.runtime('RunPodSandbox', { config })).pod_sandbox_id;
}

/** framework.CreatePodSandboxForContainer. */
export async function createPodSandboxForContainer(cri: CriClient): Promise<{ podId: string; podConfig: ReturnType<typeof defaultSandboxConfig> }> {
  const podConfig = defaultSandboxConfig('create-PodSandbox-for-container-');
  return { podId: await runPodSandbox(cri, podConfig), podConfig };
}

/** validate's createLogTempDir: a temp dir (in the test's root, not /tmp) with the sandbox's log directory in it. */
export function createLogTempDir(podns: Podns, sandboxName: string): { hostPath: string; podLogPath: string } {
  const tmp = path.join(podns.root, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const hostPath = fs.mkdtempSync(path.join(tmp, 'podLogTest'));
  const podLogPath = path.join(hostPath, sandboxName);
  fs.mkdirSync(podLogPath, { recursive: true, mode: 0o777 });
  return { hostPath, podLogPath };
}

/** validate's createPodSandboxWithLogDirectory. */
export async function createPodSandboxWithLogDirectory(cri: CriClient, podns: Podns) {
  const name = `PodSandbox-with-log-directory-${uuid()}`;
  const { hostPath, podLogPath } = createLogTempDir(podns, name);
  const podConfig = { ...defaultSandboxConfig(''), metadata: podSandboxMetadata(name, `cri-test-uid${uuid()}`, `cri-test-namespace${uuid()}`), log_directory: podLogPath };
  return { podId: await runPodSandbox(cri, podConfig), podConfig, hostPath };
}

/** framework.CleanupPodSandbox: stop, then remove; both must succeed. */
export async function cleanupPodSandbox(cri: CriClient, podId: string): Promise<void> {
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
}

/**
 * framework.CreateContainerWithError: the image must be present (ImageStatus by the name with ":latest" added, as
 * critest looks it up; critest would pull a public one, these tests never do), user_specified_image set; returns
 * CreateContainer's promise.
 */
export async function createContainerWithError(cri: CriClient, config: Record<string, any>, podId: string, podConfig: object): Promise<string> {
  let imageName: string = config.image.image;
  if (!imageName.includes(':')) imageName += ':latest';
  const present = (await cri.image('ImageStatus', { image: { image: imageName } })).image;
  if (!present) throw new Error(`test image ${imageName} is not in the store (critest would pull it; these tests load it)`);
  config.image.user_specified_image ||= imageName;
  return (await cri.runtime('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig })).container_id;
}

/** framework.CreateContainer. */
export const createContainer = createContainerWithError;

/** framework.BuildContainerMetadata. */
export function containerMetadata(name: string, attempt = DEFAULT_ATTEMPT) {
  return { name, attempt };
}

/** framework.CreateDefaultContainer(WithLabels): busybox running `top`, an empty Linux config. */
export function createDefaultContainer(cri: CriClient, podId: string, podConfig: object, prefix: string, labels?: Record<string, string>): Promise<string> {
  return createContainer(cri, { metadata: containerMetadata(prefix + uuid()), image: { image: BUSYBOX }, command: DEFAULT_CONTAINER_COMMAND, linux: {}, labels: labels ?? {} }, podId, podConfig);
}

/** framework.CreatePauseContainer: busybox running `sh -c top`. */
export function createPauseContainer(cri: CriClient, podId: string, podConfig: object, prefix: string): Promise<string> {
  return createContainer(cri, { metadata: containerMetadata(prefix + uuid()), image: { image: BUSYBOX }, command: PAUSE_CMD, linux: {} }, podId, podConfig);
}

export async function getContainerStatus(cri: CriClient, id: string): Promise<any> {
  return (await cri.runtime('ContainerStatus', { container_id: id })).status;
}

export async function getPodSandboxStatus(cri: CriClient, podId: string): Promise<any> {
  return (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: podId })).status;
}

/** critest's Eventually(..., time.Minute, 4s).Should(Equal(state)), polled faster. */
export async function waitForContainerState(cri: CriClient, id: string, state: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(async () => {
    const s = await getContainerStatus(cri, id);
    return s.state === state ? s : undefined;
  }, timeoutMs, `container ${id.slice(0, 12)} to be ${state}`);
}

/** validate's startContainer. */
export async function startContainer(cri: CriClient, id: string): Promise<void> {
  await cri.runtime('StartContainer', { container_id: id });
}

/** validate's testStartContainer: started, then RUNNING. */
export async function testStartContainer(cri: CriClient, id: string): Promise<void> {
  await startContainer(cri, id);
  await waitForContainerState(cri, id, 'CONTAINER_RUNNING');
}

/** validate's testStopContainer: StopContainer(60 s) must return within its timeout, then EXITED. */
export async function testStopContainer(cri: CriClient, id: string, timeout = STOP_CONTAINER_TIMEOUT): Promise<void> {
  await cri.runtime('StopContainer', { container_id: id, timeout: String(timeout) });
  await waitForContainerState(cri, id, 'CONTAINER_EXITED');
}

export async function removeContainer(cri: CriClient, id: string): Promise<void> {
  await cri.runtime('RemoveContainer', { container_id: id });
}

export async function listContainerForID(cri: CriClient, id: string): Promise<any[]> {
  return (await cri.runtime('ListContainers', { filter: { id } })).containers;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * ExecSync as critest's client sees it: a gRPC error rejects; a non-zero exit code is an error to critest
 * (cri-client's ExecSync returns CodeExitError), so `failed` is true for either.
 */
export async function execSync(cri: CriClient, id: string, cmd: string[], timeout = EXEC_SYNC_TIMEOUT): Promise<ExecResult> {
  const r = await cri.runtime('ExecSync', { container_id: id, cmd, timeout: String(timeout) });
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), exitCode: r.exit_code };
}

/** validate's execSyncContainer: no error, exit 0, empty stderr; returns stdout. */
export async function execSyncContainer(cri: CriClient, id: string, cmd: string[]): Promise<string> {
  const r = await execSync(cri, id, cmd);
  if (r.exitCode !== 0 || r.stderr !== '') throw new Error(`exec ${JSON.stringify(cmd)}: exit ${r.exitCode}, stderr ${JSON.stringify(r.stderr)}, stdout ${JSON.stringify(r.stdout)}`);
  return r.stdout;
}

export interface LogMessage {
  timestamp: string;
  stream: string;
  tag: string;
  log: string;
}

/** validate's parseLogLine (and parseCRILog): every line of a CRI log, its timestamp checked as RFC 3339. */
export function parseLogLine(logDirectory: string, logPath: string): LogMessage[] {
  const text = fs.readFileSync(path.join(logDirectory, logPath), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [timestamp, stream, tag, ...rest] = line.split(' ');
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(timestamp ?? '')) throw new Error(`not an RFC 3339 timestamp in ${JSON.stringify(line)}`);
      return { timestamp: timestamp!, stream: stream!, tag: tag!, log: `${rest.join(' ')}\n` };
    });
}

/** validate's verifyLogContents: some line of `stream` is exactly `log` (with its newline). */
export function logContains(logDirectory: string, logPath: string, log: string, stream: 'stdout' | 'stderr'): boolean {
  return parseLogLine(logDirectory, logPath).some((m) => m.log === log && m.stream === stream);
}

/**
 * A one-layer image made from a directory and loaded into the root's store as `name` (an OCI image-layout
 * archive, as `podns image load` takes it): the layer is GNU tar's (hard links and setuid bits kept, owned by
 * root), the config's `config` as given (Entrypoint, User ...). For critest's images that ours cannot stand in for.
 */
export async function loadDirectoryImage(podns: Podns, name: string, rootDir: string, config: Record<string, unknown> = {}): Promise<string> {
  const { execa } = await import('execa');
  const { createHash } = await import('node:crypto');
  const zlib = await import('node:zlib');
  const work = fs.mkdtempSync(path.join(podns.root, 'image-build-'));
  try {
    const tar = path.join(work, 'layer.tar');
    await execa('tar', ['-c', '-f', tar, '-C', rootDir, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '.']);
    const raw = fs.readFileSync(tar);
    const layer = zlib.gzipSync(raw);
    const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config, rootfs: { type: 'layers', diff_ids: [digest(raw)] } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(cfg), size: cfg.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(layer), size: layer.length }],
      }),
    );
    const layout = path.join(work, 'layout');
    fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    for (const b of [layer, cfg, manifest]) fs.writeFileSync(path.join(layout, 'blobs', 'sha256', digest(b).slice(7)), b);
    fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(
      path.join(layout, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(manifest), size: manifest.length }] }),
    );
    const archive = path.join(work, 'image.tar');
    await execa('tar', ['-c', '-f', archive, '-C', layout, '.']);
    await podns.ok(['image', 'load', archive, name]);
    return digest(cfg);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The directory of an image's (only) layer in the root's store, from ImageStatus's verbose info. */
export async function imageLayerDir(cri: CriClient, image: string): Promise<string> {
  const info = JSON.parse((await cri.image('ImageStatus', { image: { image }, verbose: true })).info.info);
  return info.layers[info.layers.length - 1];
}
