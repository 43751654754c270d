/**
 * critest's container cases (cri-tools pkg/validate/container.go, container_linux.go, multi_container_linux.go),
 * one test per `It`, sending what critest sends, then the container edge cases of issue 13: stop with timeout 0,
 * the status of a removed container, the CRI log format with both streams, long and partial lines.
 *
 * Adaptations (our images are busybox and nginx, not critest's): `pgrep` (not in our busybox) is `pidof`; httpd
 * (multi_container_linux.go) is nginx, whose start-up notice names "nginx" where httpd's names "httpd". The
 * container stats cases of container.go are the stats RPCs' (src/cri/cri-stats.ts), not mirrored here.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSkip, sleep, waitFor } from './harness.js';
import {
  BUSYBOX,
  cleanupPodSandbox,
  containerMetadata,
  createContainer,
  createContainerWithError,
  createLogTempDir,
  createDefaultContainer,
  createPauseContainer,
  createPodSandboxForContainer,
  createPodSandboxWithLogDirectory,
  DEFAULT_LOG,
  defaultSandboxConfig,
  execSync,
  execSyncContainer,
  getContainerStatus,
  getPodSandboxStatus,
  grpcError,
  imageLayerDir,
  listContainerForID,
  logContains,
  NGINX,
  PAUSE_CMD,
  parseLogLine,
  removeContainer,
  runPodSandbox,
  startContainer,
  startCri,
  status,
  testStartContainer,
  testStopContainer,
  uuid,
  waitForContainerState,
  type CriClient,
  type CriHarness,
} from './cri-support.js';

describe.skipIf(kernelSkip)('critest: Container', () => {
  let h: CriHarness;
  let cri: CriClient;

  beforeAll(async () => {
    h = await startCri();
    cri = h.cri;
  }, 120_000);
  afterAll(async () => h?.dispose());

  /** A temp dir in the test's root, as critest's os.MkdirTemp("", "test"+podID). */
  const tempDir = (prefix: string) => {
    const tmp = path.join(h.podns.root, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    return fs.mkdtempSync(path.join(tmp, prefix));
  };
  /**
   * Runs `test` with a `mount` that makes host mounts (in the test's root only), each lazily unmounted after it,
   * last first, whatever happens: as critest's clearHostPath.
   */
  const withHostMounts = async (test: (mount: (...args: string[]) => Promise<void>) => Promise<void>) => {
    const made: string[] = [];
    try {
      await test(async (...args) => {
        await execa('mount', args);
        made.push(args[args.length - 1]!);
      });
    } finally {
      for (const target of made.reverse()) await execa('umount', ['-l', target], { reject: false });
    }
  };

  // --- container.go: runtime should support basic operations on container -------------------------------

  describe('basic operations', () => {
    let podId: string;
    let podConfig: object;
    const sandbox = async () => ({ podId, podConfig } = await createPodSandboxForContainer(cri));
    const cleanup = () => cleanupPodSandbox(cri, podId);

    it('runtime should support creating container [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-create-');
      expect((await listContainerForID(cri, c)).map((x) => x.id)).toEqual([c]);
      await cleanup();
    });

    it('runtime should support preserving container attributes [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const name = `container-with-attributes-${uuid()}`;
      const metadata = containerMetadata(name);
      const labels = {
        foo: 'bar',
        'io.kubernetes.container.name': name,
        'io.kubernetes.pod.name': 'fake-pod-name',
        'io.kubernetes.pod.namespace': 'fake-pod-namespace',
        'io.kubernetes.pod.uid': 'fake-pod-uid',
      };
      const annotations = { abc: 'def' };
      // No command and no Linux config: the image's Cmd, podns's defaults.
      const c = await createContainer(cri, { metadata, image: { image: BUSYBOX }, labels, annotations }, podId, podConfig);
      const s = await getContainerStatus(cri, c);
      expect(s.metadata).toEqual(metadata);
      expect(s.labels).toMatchObject(labels);
      expect(s.annotations).toMatchObject(annotations);
      const list = await listContainerForID(cri, c);
      expect(list).toHaveLength(1);
      expect(list[0].metadata).toEqual(metadata);
      expect(list[0].labels).toMatchObject(labels);
      expect(list[0].annotations).toMatchObject(annotations);
      await cleanup();
    });

    it('runtime should support starting container [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-start-test-');
      await testStartContainer(cri, c);
      await cleanup();
    });

    it('runtime should support stopping container [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-stop-test-');
      await startContainer(cri, c);
      await testStopContainer(cri, c);
      await cleanup();
    });

    it('runtime should support removing created container [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createPauseContainer(cri, podId, podConfig, 'container-for-remove-created-test-');
      await removeContainer(cri, c);
      expect(await listContainerForID(cri, c)).toEqual([]);
      await cleanup();
    });

    it('runtime should support removing running container [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createPauseContainer(cri, podId, podConfig, 'container-for-remove-running-test-');
      await startContainer(cri, c);
      const pid = JSON.parse((await cri.runtime('ContainerStatus', { container_id: c, verbose: true })).info.info).pid;
      await removeContainer(cri, c);
      expect(await listContainerForID(cri, c)).toEqual([]);
      // Removed means killed first: its process is gone (a zombie at most until it is reaped).
      expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')).toBe(false);
      // issue 13: the status of a removed container is NOT_FOUND, naming it.
      expect(await grpcError(cri.runtime('ContainerStatus', { container_id: c }))).toEqual({ code: status.NOT_FOUND, details: `container "${c}" not found` });
      await cleanup();
    });

    it('runtime should support removing stopped container [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createPauseContainer(cri, podId, podConfig, 'container-for-remove-stopped-test-');
      await startContainer(cri, c);
      await testStopContainer(cri, c);
      await removeContainer(cri, c);
      expect(await listContainerForID(cri, c)).toEqual([]);
      await cleanup();
    });

    it('runtime should support execSync [Conformance] (critest: container.go)', async () => {
      await sandbox();
      const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-execSync-test-');
      await startContainer(cri, c);
      expect(await execSyncContainer(cri, c, ['echo', '-n', 'hello'])).toBe('hello');
      await cleanup();
    });

    it('runtime should support execSync with timeout [Conformance] (critest: container.go; pgrep → pidof)', async () => {
      await sandbox();
      const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-execSync-timeout-test-');
      await startContainer(cri, c);
      const t0 = Date.now();
      const err = await grpcError(cri.runtime('ExecSync', { container_id: c, cmd: ['sleep', '4321'], timeout: '1' }));
      // issue 13: a timeout is DEADLINE_EXCEEDED, as containerd answers it.
      expect(err).toEqual({ code: status.DEADLINE_EXCEEDED, details: expect.stringMatching(/timed out after 1 s/) });
      expect(Date.now() - t0).toBeLessThan(5000);
      // The timed-out process is gone.
      const r = await execSync(cri, c, ['sh', '-c', 'pidof sleep || true']);
      expect(r).toEqual({ stdout: '', stderr: '', exitCode: 0 });
      await cleanup();
    });
  });

  // --- container.go: runtime should support adding volume and device --------------------------------------

  describe('volumes', () => {
    /** validate's createHostPath: a temp dir with a flag file. */
    const createHostPath = (podId: string) => {
      const dir = tempDir(`test${podId.slice(0, 12)}`);
      fs.writeFileSync(path.join(dir, 'testVolume.file'), '');
      return dir;
    };
    const volumeContainer = (podId: string, podConfig: object, prefix: string, hostPath: string) =>
      createContainer(
        cri,
        { metadata: containerMetadata(prefix + uuid()), image: { image: BUSYBOX }, command: PAUSE_CMD, mounts: [{ host_path: hostPath, container_path: hostPath, selinux_relabel: true }] },
        podId,
        podConfig,
      );

    it('runtime should support starting container with volume [Conformance] (critest: container.go)', async () => {
      const { podId, podConfig } = await createPodSandboxForContainer(cri);
      const hostPath = createHostPath(podId);
      const c = await volumeContainer(podId, podConfig, 'container-with-volume-test-', hostPath);
      await testStartContainer(cri, c);
      expect(await execSyncContainer(cri, c, ['ls', '-A', hostPath])).toBe('testVolume.file\n');
      await cleanupPodSandbox(cri, podId);
    });

    it('runtime should support starting container with volume when host path is a symlink [Conformance] (critest: container.go)', async () => {
      const { podId, podConfig } = await createPodSandboxForContainer(cri);
      const hostPath = createHostPath(podId);
      const symlinkPath = `${hostPath}-symlink`;
      fs.symlinkSync(hostPath, symlinkPath);
      const c = await volumeContainer(podId, podConfig, 'container-with-symlink-host-path-test-', symlinkPath);
      await testStartContainer(cri, c);
      expect(await execSyncContainer(cri, c, ['ls', '-A', symlinkPath])).toBe('testVolume.file\n');
      await cleanupPodSandbox(cri, podId);
    });
  });

  it('mount_options noexec and nosuid (Status: mount_options) are applied to the bind; an unknown one is refused', async () => {
    expect((await cri.runtime('Status', {})).features.mount_options).toBe(true);
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const dir = tempDir('opts');
    fs.copyFileSync(path.join(await imageLayerDir(cri, BUSYBOX), 'bin', 'busybox'), path.join(dir, 'busybox'));
    const c = await createContainer(
      cri,
      { metadata: containerMetadata('opts'), image: { image: BUSYBOX }, command: PAUSE_CMD, mounts: [{ host_path: dir, container_path: '/opt/x', mount_options: ['noexec', 'nosuid'] }] },
      podId,
      podConfig,
    );
    await testStartContainer(cri, c);
    // The exec cannot start (as with containerd, whose runc exec fails): an error, not an exit code.
    expect(await grpcError(execSync(cri, c, ['/opt/x/busybox', 'true']))).toEqual({ code: status.UNKNOWN, details: 'exec in container "opts": exec "/opt/x/busybox": permission denied (EACCES)' });
    expect(await execSyncContainer(cri, c, ['sh', '-c', 'grep " /opt/x " /proc/self/mounts'])).toMatch(/nosuid,nodev,noexec/);
    const bad = await grpcError(createContainerWithError(cri, { metadata: containerMetadata('bad'), image: { image: BUSYBOX }, command: PAUSE_CMD, mounts: [{ host_path: dir, container_path: '/opt/y', mount_options: ['shared'] }] }, podId, podConfig));
    expect(bad).toEqual({ code: status.INVALID_ARGUMENT, details: 'mount /opt/y: mount option "shared" is not supported (noexec, nodev and nosuid are)' });
    await cleanupPodSandbox(cri, podId);
  });

  // --- container.go: runtime should support log ----------------------------------------------------------

  describe('log', () => {
    it('runtime should support starting container with log [Conformance] (critest: container.go)', async () => {
      const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
      const name = `container-with-log-test-${uuid()}`;
      const logPath = `${name}.log`;
      const c = await createContainer(cri, { metadata: containerMetadata(name), image: { image: BUSYBOX }, command: ['echo', DEFAULT_LOG], log_path: logPath }, podId, podConfig);
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_EXITED');
      expect(logContains(podConfig.log_directory, logPath, `${DEFAULT_LOG}\n`, 'stdout')).toBe(true);
      await cleanupPodSandbox(cri, podId);
    });

    it('runtime should support reopening container log [Conformance] (critest: container.go)', async () => {
      const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
      const dir = podConfig.log_directory;
      const name = `container-reopen-log-test-${uuid()}`;
      const logPath = `${name}.log`;
      const c = await createContainer(
        cri,
        { metadata: containerMetadata(name), image: { image: BUSYBOX }, command: ['sh', '-c', `while true; do echo ${DEFAULT_LOG}; sleep 1; done`], log_path: logPath },
        podId,
        podConfig,
      );
      await startContainer(cri, c);
      await waitFor(() => fs.existsSync(path.join(dir, logPath)) && parseLogLine(dir, logPath).length > 0, 60_000, 'the container log');
      const newLogPath = `${logPath}.new`;
      fs.renameSync(path.join(dir, logPath), path.join(dir, newLogPath));
      await cri.runtime('ReopenContainerLog', { container_id: c });
      expect(fs.existsSync(path.join(dir, logPath))).toBe(true);
      await waitFor(() => parseLogLine(dir, logPath).length > 0, 60_000, 'the new container log');
      const oldLength = parseLogLine(dir, newLogPath).length;
      for (let i = 0; i < 5; i++) {
        await sleep(1000);
        expect(parseLogLine(dir, newLogPath)).toHaveLength(oldLength);
      }
      await cleanupPodSandbox(cri, podId);
    });

    it('the CRI log format: stdout and stderr records, a line over 16 KiB as P records then F, a last line without newline as P', async () => {
      const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
      const logPath = 'fmt/0.log';
      const script = "echo out; echo err >&2; head -c 20000 /dev/zero | tr '\\0' x; echo; printf partial";
      const c = await createContainer(cri, { metadata: containerMetadata('fmt'), image: { image: BUSYBOX }, command: ['sh', '-c', script], log_path: logPath }, podId, podConfig);
      await startContainer(cri, c);
      const exited = await waitForContainerState(cri, c, 'CONTAINER_EXITED');
      expect(exited).toMatchObject({ exit_code: 0, reason: 'Completed', log_path: path.join(podConfig.log_directory, logPath) });
      const lines = parseLogLine(podConfig.log_directory, logPath);
      // The two streams are two pipes: their records interleave as they were read, each stream in its order.
      const of = (stream: string) => lines.filter((m) => m.stream === stream).map((m) => [m.tag, m.log]);
      expect(of('stdout')).toEqual([
        ['F', 'out\n'],
        ['P', `${'x'.repeat(16384)}\n`],
        ['F', `${'x'.repeat(20000 - 16384)}\n`],
        ['P', 'partial\n'],
      ]);
      expect(of('stderr')).toEqual([['F', 'err\n']]);
      await cleanupPodSandbox(cri, podId);
    });
  });

  // --- issue 13: container lifecycle edge cases ------------------------------------------------------------

  it('StopContainer with timeout 0 kills at once (137, Error); a failing command is Error with its code', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    // sh ignores SIGTERM here: only SIGKILL ends it, and timeout 0 sends it at once.
    const c = await createContainer(cri, { metadata: containerMetadata('stubborn'), image: { image: BUSYBOX }, command: ['sh', '-c', "trap '' TERM; while true; do sleep 1; done"] }, podId, podConfig);
    await startContainer(cri, c);
    const t0 = Date.now();
    await cri.runtime('StopContainer', { container_id: c, timeout: '0' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await getContainerStatus(cri, c)).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 137, reason: 'Error' });
    const f = await createContainer(cri, { metadata: containerMetadata('fails'), image: { image: BUSYBOX }, command: ['sh', '-c', 'exit 3'] }, podId, podConfig);
    await startContainer(cri, f);
    expect(await waitForContainerState(cri, f, 'CONTAINER_EXITED')).toMatchObject({ exit_code: 3, reason: 'Error' });
    // Neither can be started again.
    expect(await grpcError(cri.runtime('StartContainer', { container_id: f }))).toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringMatching(/is exited: only a created container can be started/) });
    await cleanupPodSandbox(cri, podId);
  });

  // --- container_linux.go: Container Mount Propagation -----------------------------------------------------

  /** validate's createPrivilegedPodSandbox. */
  const createPrivilegedPodSandbox = async (privileged: boolean) => {
    const podConfig = defaultSandboxConfig('create-Privileged-PodSandbox-for-container-', { linux: { cgroup_parent: '', security_context: { privileged } } });
    return { podId: await runPodSandbox(cri, podConfig), podConfig };
  };

  for (const [it_, propagation, fromHost, fromContainer] of [
    ["mount with 'rprivate' should not support propagation", 'PROPAGATION_PRIVATE', false, false],
    ["mount with 'rshared' should support propagation from host to container and vice versa", 'PROPAGATION_BIDIRECTIONAL', true, true],
    ["mount with 'rslave' should support propagation from host to container", 'PROPAGATION_HOST_TO_CONTAINER', true, false],
  ] as const) {
    it(`${it_} (critest: container_linux.go)`, () => withHostMounts(async (mount) => {
      const { podId, podConfig } = await createPrivilegedPodSandbox(true);
      // createHostPathForMountPropagation: mnt bind-mounted on itself, rprivate or rshared.
      const hostPath = tempDir(`test${podId.slice(0, 12)}`);
      const mntSource = path.join(hostPath, 'mnt');
      const propagationMntPoint = path.join(mntSource, 'propagationMnt');
      const propagationSrcDir = path.join(hostPath, 'propagationSrcDir');
      fs.mkdirSync(propagationMntPoint, { recursive: true, mode: 0o700 });
      fs.mkdirSync(propagationSrcDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(propagationSrcDir, 'flagFile'), '');
      await mount('--rbind', mntSource, mntSource);
      await execa('mount', [propagation === 'PROPAGATION_PRIVATE' ? '--make-rprivate' : '--make-rshared', mntSource]);
      const c = await createContainer(
        cri,
        {
          metadata: containerMetadata(`mount-propagation-test-${uuid()}`),
          image: { image: BUSYBOX },
          command: PAUSE_CMD,
          linux: { security_context: { privileged: true } },
          mounts: [{ host_path: mntSource, container_path: mntSource, propagation }],
        },
        podId,
        podConfig,
      );
      const mounts = (await cri.runtime('ContainerStatus', { container_id: c, verbose: true })).status.mounts;
      expect(mounts).toEqual([expect.objectContaining({ container_path: mntSource, host_path: mntSource, readonly: false, selinux_relabel: false, propagation })]);
      await testStartContainer(cri, c);
      // A mount made on the host after the start.
      await mount('--rbind', propagationSrcDir, propagationMntPoint);
      const seen = await execSyncContainer(cri, c, ['ls', '-A', propagationMntPoint]);
      expect(seen).toBe(fromHost ? 'flagFile\n' : '');
      // A mount made in the container.
      const containerMntPoint = path.join(mntSource, 'containerMntPoint');
      await execSyncContainer(cri, c, ['sh', '-c', `mkdir -p ${containerMntPoint}`]);
      await execSyncContainer(cri, c, ['sh', '-c', `mount --bind /etc ${containerMntPoint}`]);
      // Only the asked-for mount is shared with the host: none of the container's own (its root, /proc, /dev ...).
      const hostMountPoints = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
      expect(hostMountPoints.filter((m) => m.startsWith(path.join(h.podns.root, 'lib')) && !m.endsWith('/shm'))).toEqual([]);
      expect(fs.readdirSync(containerMntPoint).length > 0).toBe(fromContainer);
      await cleanupPodSandbox(cri, podId);
    }));
  }

  // --- container_linux.go: Container OOM --------------------------------------------------------------------

  it('should terminate with exitCode 137 and reason OOMKilled (critest: container_linux.go)', async () => {
    const { podId, podConfig } = await createPrivilegedPodSandbox(true);
    const c = await createContainer(
      cri,
      {
        metadata: containerMetadata(`OOM-test-${uuid()}`),
        image: { image: BUSYBOX },
        command: ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=20M'],
        linux: { resources: { memory_limit_in_bytes: String(15 * 1024 * 1024), memory_swap_limit_in_bytes: String(15 * 1024 * 1024) } },
      },
      podId,
      podConfig,
    );
    await cri.runtime('ContainerStatus', { container_id: c, verbose: true });
    await startContainer(cri, c);
    const s = await waitForContainerState(cri, c, 'CONTAINER_EXITED');
    expect(s.reason).toBe('OOMKilled');
    expect(s.exit_code).toBe(137);
    await cleanupPodSandbox(cri, podId);
  });

  // --- container_linux.go: Container Mount Readonly ---------------------------------------------------------

  describe('readonly mounts', () => {
    /** createHostPathForRROMount: a temp dir with a tmpfs mounted on its "tmpfs". */
    const createHostPathForRROMount = async (podId: string, mount: (...args: string[]) => Promise<void>) => {
      const hostPath = tempDir(`test${podId.slice(0, 12)}`);
      const tmpfs = path.join(hostPath, 'tmpfs');
      fs.mkdirSync(tmpfs, { mode: 0o700 });
      await mount('-t', 'tmpfs', 'none', tmpfs);
      return hostPath;
    };
    const mountContainer = (podId: string, podConfig: object, mounts: object[]) =>
      createContainerWithError(cri, { metadata: containerMetadata(`test-mount-${uuid()}`), image: { image: BUSYBOX }, command: PAUSE_CMD, mounts }, podId, podConfig);

    it('runtime reports recursive read-only mounts in Status (critest: runtimeSupportsRRO, container_linux.go)', async () => {
      const handlers = (await cri.runtime('Status', {})).runtime_handlers;
      expect(handlers).toEqual([expect.objectContaining({ name: '', features: expect.objectContaining({ recursive_read_only_mounts: true }) })]);
    });

    for (const rro of [false, true]) {
      it(`should support ${rro ? 'recursive' : 'non-recursive'} readonly mounts (critest: container_linux.go)`, () => withHostMounts(async (mount) => {
        const { podId, podConfig } = await createPrivilegedPodSandbox(true);
        const hostPath = await createHostPathForRROMount(podId, mount);
        const c = await mountContainer(podId, podConfig, [{ host_path: hostPath, container_path: '/mnt', readonly: true, recursive_read_only: rro, selinux_relabel: true }]);
        expect((await cri.runtime('ContainerStatus', { container_id: c, verbose: true })).status.mounts).toHaveLength(1);
        await testStartContainer(cri, c);
        await execSyncContainer(cri, c, rro ? ['sh', '-c', 'touch /mnt/tmpfs/foo 2>&1 | grep -q "Read-only file system"'] : ['touch', '/mnt/tmpfs/file']);
        // And the mount itself is read-only either way.
        expect((await execSync(cri, c, ['touch', '/mnt/file'])).stderr).toMatch(/Read-only file system/);
        await cleanupPodSandbox(cri, podId);
      }));
    }

    for (const [it_, prop, readonly, message] of [
      ['should reject a recursive readonly mount with PROPAGATION_HOST_TO_CONTAINER', 'PROPAGATION_HOST_TO_CONTAINER', true, /recursive read-only mount needs private propagation, got PROPAGATION_HOST_TO_CONTAINER/],
      ['should reject a recursive readonly mount with PROPAGATION_BIDIRECTIONAL', 'PROPAGATION_BIDIRECTIONAL', true, /recursive read-only mount needs private propagation, got PROPAGATION_BIDIRECTIONAL/],
      ['should reject a recursive readonly mount with ReadOnly: false', 'PROPAGATION_PRIVATE', false, /recursive read-only mount conflicts with a read-write mount/],
    ] as const) {
      it(`${it_} (critest: container_linux.go)`, () => withHostMounts(async (mount) => {
        const { podId, podConfig } = await createPrivilegedPodSandbox(true);
        const hostPath = await createHostPathForRROMount(podId, mount);
        const err = await grpcError(mountContainer(podId, podConfig, [{ host_path: hostPath, container_path: '/mnt', readonly, recursive_read_only: true, selinux_relabel: true, propagation: prop }]));
        expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(message) });
        expect((await cri.runtime('ListContainers', { filter: { pod_sandbox_id: podId } })).containers).toEqual([]);
        await cleanupPodSandbox(cri, podId);
      }));
    }
  });

  // --- multi_container_linux.go: Multiple Containers [Conformance] (httpd → nginx) ---------------------------

  describe('when running multiple containers in a pod', () => {
    const setUp = async () => {
      // createMultiContainerTestPodSandbox: a log directory, a container port without a host port.
      const config = defaultSandboxConfig('PodSandbox-for-multi-container-test-', { port_mappings: [{ container_port: 80 }] });
      Object.assign(config, { log_directory: createLogTempDir(h.podns, config.metadata.name).podLogPath });
      const sandbox = await runPodSandbox(cri, config);
      const httpd = await createContainer(cri, { metadata: containerMetadata(`httpd${uuid()}`), image: { image: NGINX }, linux: {}, log_path: 'httpd.log' }, sandbox, config);
      await testStartContainer(cri, httpd);
      const busybox = await createContainer(cri, { metadata: containerMetadata(`busybox${uuid()}`), image: { image: BUSYBOX }, command: ['sh', '-c', `echo ${DEFAULT_LOG}; sleep 1000`], log_path: 'busybox.log' }, sandbox, config);
      await testStartContainer(cri, busybox);
      return { sandbox, httpd, busybox };
    };

    it('should support network (critest: multi_container_linux.go; httpd → nginx)', async () => {
      const { sandbox } = await setUp();
      const ip = (await getPodSandboxStatus(cri, sandbox)).network.ip;
      expect(ip).toMatch(/^10\.77\.0\.\d+$/);
      const page = await waitFor(async () => {
        const r = await h.podns.inNetns(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${ip}:80/`]);
        return r.stdout === '200' ? r : undefined;
      }, 60_000, 'nginx to answer on the pod IP');
      expect(page.stdout).toBe('200');
      await cleanupPodSandbox(cri, sandbox);
    });

    it('should support container log (critest: multi_container_linux.go; httpd → nginx)', async () => {
      const { sandbox, httpd, busybox } = await setUp();
      for (const [id, expected] of [
        [httpd, 'nginx'],
        [busybox, DEFAULT_LOG],
      ] as const) {
        const logPath = (await getContainerStatus(cri, id)).log_path;
        await waitFor(() => fs.existsSync(logPath) && fs.readFileSync(logPath, 'utf8').includes(expected), 60_000, `"${expected}" in ${logPath}`);
      }
      await cleanupPodSandbox(cri, sandbox);
    });

    it('should support container exec (critest: multi_container_linux.go; httpd → nginx)', async () => {
      const { sandbox, httpd, busybox } = await setUp();
      expect(await execSyncContainer(cri, httpd, ['echo', 'httpd'])).toBe('httpd\n');
      expect(await execSyncContainer(cri, busybox, ['echo', 'busybox'])).toBe('busybox\n');
      await cleanupPodSandbox(cri, sandbox);
    });
  });
});
