/**
 * critest's Security Context cases (cri-tools pkg/validate/security_context_linux.go), one test per `It`,
 * sending what critest sends: namespace options (host PID, IPC and network; pod and container PID), the user
 * (run as user, user name, group, supplemental groups), read-only rootfs, privileged, capabilities, masked and
 * read-only paths, seccomp profiles, no_new_privs, user namespaces. AppArmor and SELinux cases: critest skips
 * them on this host (no AppArmor module, no SELinux), podns refuses their Localhost profiles.
 *
 * Adaptations, where critest's images or tools are not ours:
 * - HostIpc: `ipcs -m` (not in our busybox) is `cat /proc/sysvipc/shm`; the segment is made with the host's ipcmk
 *   and removed after.
 * - HostNetwork: the "host" is the test's own network namespace (the supervisor runs there), where the test
 *   listens, as critest listens in the node's.
 * - MaskedPaths: our busybox's applets are symlinks to /bin/busybox (masking /bin/ls would mask busybox itself, as
 *   runc would too); critest's busybox:1.29-2 has hard links, so the test builds that layout from ours.
 * - NoNewPrivs: critest's nonewprivs image (a setuid-root program printing its effective uid) is built here: the
 *   same program in C, compiled static.
 * - SupplementalGroupsPolicy: critest skips it unless Status says the feature is supported; see that test.
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSkip, waitFor } from './harness.js';
import {
  BUSYBOX,
  cleanupPodSandbox,
  containerMetadata,
  createContainer,
  createContainerWithError,
  createDefaultContainer,
  createLogTempDir,
  createPodSandboxForContainer,
  createPodSandboxWithLogDirectory,
  defaultSandboxConfig,
  execSync,
  execSyncContainer,
  grpcError,
  imageLayerDir,
  loadDirectoryImage,
  logContains,
  NGINX,
  PAUSE_CMD,
  parseLogLine,
  runPodSandbox,
  startContainer,
  startCri,
  status,
  uuid,
  waitForContainerState,
  type CriClient,
  type CriHarness,
} from './cri-support.js';
import { skipWithout } from '../requirements.js';

/** critest's busybox:1.29-2 layout (applets hard-linked) and its nonewprivs:1.3, built by this file. */
const HARDLINKED_BUSYBOX = 'critest/busybox:1.29-2';
const NO_NEW_PRIVS = 'critest/nonewprivs:1.3';
/** critest's test-image-predefined-group: default-user (1000) is in group-defined-in-image (50000) by /etc/group. */
const PREDEFINED_GROUP = 'critest/test-image-predefined-group:latest';

/** True when `tool` is on no directory of PATH. */
const missing = (tool: string) => !(process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, tool)));
// gcc (static, with libc6-dev's libc.a) builds the nonewprivs program; util-linux's ipcmk/ipcrm the host's segment.
const toolsSkip = skipWithout('CRI security context tests', kernelSkip ? [] : ['gcc', 'ipcmk', 'ipcrm'].filter(missing));

describe.skipIf(kernelSkip || toolsSkip)('critest: Security Context', () => {
  let h: CriHarness;
  let cri: CriClient;

  beforeAll(async () => {
    h = await startCri();
    cri = h.cri;
    await buildImages();
  }, 120_000);
  afterAll(async () => h?.dispose());

  async function buildImages(): Promise<void> {
    const work = fs.mkdtempSync(path.join(h.podns.root, 'critest-images-'));
    try {
      // busybox with hard links where ours has symlinks to /bin/busybox.
      const bb = path.join(work, 'busybox');
      await execa('cp', ['-a', `${await imageLayerDir(cri, BUSYBOX)}/.`, bb]);
      for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin']) {
        for (const e of fs.readdirSync(path.join(bb, dir))) {
          const p = path.join(bb, dir, e);
          if (fs.lstatSync(p).isSymbolicLink() && fs.readlinkSync(p) === '/bin/busybox') {
            fs.rmSync(p);
            fs.linkSync(path.join(bb, 'bin', 'busybox'), p);
          }
        }
      }
      await loadDirectoryImage(h.podns, HARDLINKED_BUSYBOX, bb, { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] });
      // nonewprivs: kubernetes/test/images/nonewprivs prints os.Geteuid(); a setuid-root binary, its entrypoint.
      const nnp = path.join(work, 'nnp');
      fs.mkdirSync(path.join(nnp, 'usr', 'local', 'bin'), { recursive: true });
      fs.writeFileSync(path.join(work, 'nnp.c'), '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("Effective uid: %d\\n", (int)geteuid()); return 0; }\n');
      const bin = path.join(nnp, 'usr', 'local', 'bin', 'nnp');
      await execa('gcc', ['-static', '-O2', '-o', bin, path.join(work, 'nnp.c')]);
      fs.chmodSync(bin, 0o4755);
      await loadDirectoryImage(h.podns, NO_NEW_PRIVS, nnp, { Entrypoint: ['/usr/local/bin/nnp'] });
      // busybox (ours) with the users and groups of critest's images/image-predefined-group.
      const pg = path.join(work, 'predefined-group');
      await execa('cp', ['-a', `${await imageLayerDir(cri, BUSYBOX)}/.`, pg]);
      fs.writeFileSync(path.join(pg, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\ndefault-user:x:1000:1000::/home/default-user:/bin/sh\n');
      fs.writeFileSync(path.join(pg, 'etc', 'group'), 'root:x:0:\ndefault-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n');
      await loadDirectoryImage(h.podns, PREDEFINED_GROUP, pg, { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], User: '1000' });
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /** validate's createNamespacePodSandbox: an empty DNS config, the namespace options, a log directory when given. */
  const createNamespacePodSandbox = async (namespaceOptions: object, name: string, logDirectory = '') => {
    const podConfig = {
      ...defaultSandboxConfig(''),
      metadata: { name, uid: `cri-test-uid${uuid()}`, namespace: `cri-test-namespace${uuid()}`, attempt: 2 },
      dns_config: {},
      linux: { cgroup_parent: '', security_context: { namespace_options: namespaceOptions } },
      log_directory: logDirectory,
    };
    return { podId: await runPodSandbox(cri, podConfig), podConfig };
  };
  /** validate's createNamespaceContainer. */
  const createNamespaceContainer = (podId: string, podConfig: object, name: string, image: string, namespaceOptions: object, command: string[] | undefined, logPath = '') =>
    createContainer(cri, { metadata: containerMetadata(name), image: { image }, command: command ?? [], linux: { security_context: { namespace_options: namespaceOptions } }, log_path: logPath }, podId, podConfig);
  /** validate's createPrivilegedPodSandbox. */
  const createPrivilegedPodSandbox = async (privileged: boolean) => {
    const podConfig = defaultSandboxConfig('create-Privileged-PodSandbox-for-container-', { linux: { cgroup_parent: '', security_context: { privileged } } });
    return { podId: await runPodSandbox(cri, podConfig), podConfig };
  };
  /** A container of busybox running `sh -c top` with `securityContext`, started and RUNNING. */
  const runningWith = async (podId: string, podConfig: object, prefix: string, securityContext: object, image = BUSYBOX) => {
    const c = await createContainer(cri, { metadata: containerMetadata(prefix + uuid()), image: { image }, command: PAUSE_CMD, linux: { security_context: securityContext } }, podId, podConfig);
    await startContainer(cri, c);
    await waitForContainerState(cri, c, 'CONTAINER_RUNNING');
    return c;
  };
  /** validate's checkNetworkManagement: `brctl addbr foobar` works only with CAP_NET_ADMIN. */
  const networkManageable = async (c: string) => (await execSync(cri, c, ['brctl', 'addbr', 'foobar'])).exitCode === 0;

  // --- NamespaceOption ------------------------------------------------------------------------------------

  describe('NamespaceOption', () => {
    const podSandboxName = `NamespaceOption-PodSandbox-${uuid()}`;

    it('runtime should support HostPID (critest: security_context_linux.go)', async () => {
      const ns = { pid: 'NODE', ipc: 'POD', network: 'POD' };
      const { podId, podConfig } = await createNamespacePodSandbox(ns, podSandboxName);
      const nginx = await createNamespaceContainer(podId, podConfig, `nginx-container-hostpid-${uuid()}`, NGINX, ns, undefined);
      await startContainer(cri, nginx);
      await waitForContainerState(cri, nginx, 'CONTAINER_RUNNING');
      const nginxPid = (await execSyncContainer(cri, nginx, ['sh', '-c', 'while [ ! -f /var/run/nginx.pid ]; do sleep 1; done && cat /var/run/nginx.pid'])).trim();
      // In the host's PID namespace, nginx's pid is a host pid: the host sees it run nginx.
      expect(fs.readFileSync(`/proc/${nginxPid}/cmdline`, 'utf8')).toMatch(/^nginx: master process/);
      const busybox = await createNamespaceContainer(podId, podConfig, `container-with-HostPID-test-${uuid()}`, BUSYBOX, ns, ['sh', '-c', 'sleep 1000']);
      await startContainer(cri, busybox);
      await waitForContainerState(cri, busybox, 'CONTAINER_RUNNING');
      // critest's argv as it is (`||` and `true` become pidof's arguments).
      const pids = (await execSyncContainer(cri, busybox, ['pidof', 'nginx', '||', 'true'])).trim();
      expect(pids.split(' ')).toContain(nginxPid);
      await cleanupPodSandbox(cri, podId);
    });

    for (const mode of ['NODE', 'POD'] as const) {
      it(`runtime should support HostIpc is ${mode === 'NODE'} (critest: security_context_linux.go; ipcs -m → /proc/sysvipc/shm)`, async () => {
        const out = (await execa('ipcmk', ['-M', '1048576'])).stdout;
        const segmentId = out.trim().replace(/^Shared memory id: /, '');
        expect(segmentId).toMatch(/^\d+$/);
        try {
          const ns = { pid: 'POD', ipc: mode, network: 'POD' };
          const { podId, podConfig } = await createNamespacePodSandbox(ns, podSandboxName);
          const c = await createNamespaceContainer(podId, podConfig, `namespace-container-${uuid()}`, BUSYBOX, ns, PAUSE_CMD);
          await startContainer(cri, c);
          await waitForContainerState(cri, c, 'CONTAINER_RUNNING');
          const shmids = (await execSyncContainer(cri, c, ['cat', '/proc/sysvipc/shm'])).split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
          if (mode === 'NODE') expect(shmids).toContain(segmentId);
          else expect(shmids).not.toContain(segmentId);
          await cleanupPodSandbox(cri, podId);
        } finally {
          await execa('ipcrm', ['-m', segmentId]);
        }
      });
    }

    it('runtime should support PodPID (critest: security_context_linux.go)', async () => {
      const ns = { pid: 'POD' };
      const { podId, podConfig } = await createNamespacePodSandbox(ns, podSandboxName);
      const c = await createNamespaceContainer(podId, podConfig, `nginx-container-process-namespace-${uuid()}`, NGINX, ns, undefined);
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_RUNNING');
      await new Promise((r) => setTimeout(r, 1000));
      // PID 1 is the pod's pause, not nginx.
      expect(await execSyncContainer(cri, c, ['cat', '/proc/1/cmdline'])).not.toContain('master process');
      await cleanupPodSandbox(cri, podId);
    });

    it('runtime should support ContainerPID (critest: security_context_linux.go)', async () => {
      const ns = { pid: 'CONTAINER' };
      const { podId, podConfig } = await createNamespacePodSandbox(ns, podSandboxName);
      const c = await createNamespaceContainer(podId, podConfig, `nginx-container-pid-${uuid()}`, NGINX, ns, undefined);
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_RUNNING');
      expect(await execSyncContainer(cri, c, ['sh', '-c', 'while ! cat /proc/1/cmdline | grep "master process"; do sleep 1; done'])).toMatch(/master process/);
      await cleanupPodSandbox(cri, podId);
    });

    for (const hostNetwork of [true, false]) {
      it(`runtime should support HostNetwork is ${hostNetwork} (critest: security_context_linux.go; the host is the test's netns)`, async () => {
        // A TCP server where the supervisor runs (the node's network for its sandboxes).
        const server: ResultPromise = execa('nsenter', [`--net=/run/netns/${h.podns.netns}`, process.execPath, '-e', "const s = require('net').createServer((c) => c.end('hello')).listen(0, () => console.log(s.address().port))"], {
          stdin: 'ignore',
        });
        try {
          const port = await new Promise<string>((resolve, reject) => {
            server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
            server.catch(reject);
          });
          const name = `${podSandboxName}-${hostNetwork}`;
          const { podLogPath } = createLogTempDir(h.podns, name);
          const ns = { pid: 'POD', ipc: 'POD', network: hostNetwork ? 'NODE' : 'POD' };
          const { podId, podConfig } = await createNamespacePodSandbox(ns, name, podLogPath);
          const containerName = `container-with-HostNetwork-test-${uuid()}`;
          const logPath = `${containerName}.log`;
          const c = await createNamespaceContainer(podId, podConfig, containerName, BUSYBOX, ns, ['sh', '-c', 'netstat -ln'], logPath);
          await startContainer(cri, c);
          await waitForContainerState(cri, c, 'CONTAINER_EXITED');
          const listed = parseLogLine(podLogPath, logPath).some((m) => m.log.includes(`:${port}`));
          expect(listed).toBe(hostNetwork);
          await cleanupPodSandbox(cri, podId);
        } finally {
          server.kill('SIGKILL');
          await server.catch(() => undefined);
        }
      });
    }
  });

  // --- bucket -----------------------------------------------------------------------------------------------

  it('runtime should support SupplementalGroups (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-SupplementalGroups-test-', { supplemental_groups: ['1234', '5678'] });
    const groups = (await execSyncContainer(cri, c, ['id', '-G'])).trim().split(' ');
    expect(groups).toContain('1234');
    expect(groups).toContain('5678');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support RunAsUser (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-RunAsUser-test-', { run_as_user: { value: '1001' } });
    expect(await execSyncContainer(cri, c, ['id', '-u'])).toBe('1001\n');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support RunAsUserName (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-RunAsUserName-test-', { run_as_username: 'nobody' });
    expect(await execSyncContainer(cri, c, ['id', '-nu'])).toBe('nobody\n');
    // And the user's own group from the image's /etc/passwd.
    expect(await execSyncContainer(cri, c, ['id', '-g'])).toBe('65534\n');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support RunAsGroup (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
    const name = `container-with-RunAsGroup-test-${uuid()}`;
    const c = await createContainer(
      cri,
      {
        metadata: containerMetadata(name),
        image: { image: BUSYBOX },
        command: ['sh', '-c', 'echo $(id -u):$(id -g)'],
        linux: { security_context: { run_as_user: { value: '1001' }, run_as_group: { value: '1002' } } },
        log_path: `${name}.log`,
      },
      podId,
      podConfig,
    );
    await startContainer(cri, c);
    await waitForContainerState(cri, c, 'CONTAINER_EXITED');
    expect(logContains(podConfig.log_directory, `${name}.log`, '1001:1002\n', 'stdout')).toBe(true);
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should return error if RunAsGroup is set without RunAsUser (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const err = await grpcError(
      createContainerWithError(
        cri,
        { metadata: containerMetadata(`container-with-RunAsGroup-without-RunAsUser-test-${uuid()}`), image: { image: BUSYBOX }, command: ['sh', '-c', 'echo $(id -u):$(id -g)'], linux: { security_context: { run_as_group: { value: '1002' } } } },
        podId,
        podConfig,
      ),
    );
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/run_as_group 1002 is set without run_as_user or run_as_username/) });
    expect((await cri.runtime('ListContainers', { filter: { pod_sandbox_id: podId } })).containers).toEqual([]);
    await cleanupPodSandbox(cri, podId);
  });

  for (const readonly of [false, true]) {
    it(`runtime should support that ReadOnlyRootfs is ${readonly} (critest: security_context_linux.go)`, async () => {
      const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
      const name = `container-with-ReadOnlyRootfs-${readonly}-test-${uuid()}`;
      const c = await createContainer(
        cri,
        { metadata: containerMetadata(name), image: { image: BUSYBOX }, command: ['sh', '-c', "touch test.go && [ -f test.go ] && echo 'Found'"], linux: { security_context: { readonly_rootfs: readonly } }, log_path: `${name}.log` },
        podId,
        podConfig,
      );
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_EXITED');
      if (readonly) expect(logContains(podConfig.log_directory, `${name}.log`, 'touch: test.go: Read-only file system\n', 'stderr')).toBe(true);
      else expect(logContains(podConfig.log_directory, `${name}.log`, 'Found\n', 'stdout')).toBe(true);
      await cleanupPodSandbox(cri, podId);
    });
  }

  for (const privileged of [true, false]) {
    it(`runtime should support Privileged is ${privileged} (critest: security_context_linux.go)`, async () => {
      const { podId, podConfig } = await createPrivilegedPodSandbox(privileged);
      const c = await runningWith(podId, podConfig, `container-with-${privileged ? 'is' : 'not'}Privileged-test-`, { privileged });
      expect(await networkManageable(c)).toBe(privileged);
      if (privileged) {
        // issue 13: a privileged container sees the host's devices (as runc gives them), and /sys read-write.
        const devices = (await execSyncContainer(cri, c, ['ls', '/dev'])).split('\n').filter(Boolean);
        const hostDevices = fs.readdirSync('/dev').filter((d) => fs.statSync(path.join('/dev', d), { throwIfNoEntry: false })?.isCharacterDevice());
        expect(devices).toEqual(expect.arrayContaining(hostDevices.filter((d) => !['console', 'ptmx', 'tty'].includes(d)).slice(0, 20)));
        expect(await execSyncContainer(cri, c, ['sh', '-c', 'grep " /sys " /proc/self/mounts'])).toMatch(/ rw,/);
      }
      await cleanupPodSandbox(cri, podId);
    });
  }

  it('a privileged container in a sandbox that is not privileged is refused, as containerd refuses it', async () => {
    const { podId, podConfig } = await createPrivilegedPodSandbox(false);
    const err = await grpcError(createContainerWithError(cri, { metadata: containerMetadata('priv'), image: { image: BUSYBOX }, command: PAUSE_CMD, linux: { security_context: { privileged: true } } }, podId, podConfig));
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/: a privileged container, but its sandbox "[0-9a-f]{64}" is not privileged$/) });
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support adding capability (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-added-capability-test-', { capabilities: { add_capabilities: ['NET_ADMIN'] } });
    expect(await networkManageable(c)).toBe(true);
    const d = await createDefaultContainer(cri, podId, podConfig, 'container-with-notCapability-test-');
    await startContainer(cri, d);
    await waitForContainerState(cri, d, 'CONTAINER_RUNNING');
    expect(await networkManageable(d)).toBe(false);
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support dropping capability (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-dropped-capability-test-', { capabilities: { drop_capabilities: ['NET_RAW'] } });
    const r = await execSync(cri, c, ['ping', '127.0.0.1']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/permission denied/i);
    await cleanupPodSandbox(cri, podId);
  });

  for (const [what, caps, bounding] of [
    ['adding ALL capabilities', { add_capabilities: ['ALL'] }, /CapBnd:\s(?!0000000000000000)[0-9a-f]{16}/],
    ['dropping ALL capabilities', { drop_capabilities: ['ALL'] }, /CapBnd:\s0000000000000000/],
  ] as const) {
    it(`runtime should support ${what} (critest: security_context_linux.go)`, async () => {
      const { podId, podConfig } = await createPodSandboxForContainer(cri);
      const c = await runningWith(podId, podConfig, 'container-with-all-capability-test-', { capabilities: caps });
      const r = await execSync(cri, c, ['cat', '/proc/self/status']);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(bounding);
      await cleanupPodSandbox(cri, podId);
    });
  }

  it("runtime should support MaskedPaths (critest: security_context_linux.go; busybox with hard links, as critest's; ls → /bin/ls)", async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-maskedpaths', { masked_paths: ['/bin/ls'] }, HARDLINKED_BUSYBOX);
    // Debian's busybox-static runs a bare `ls` as its own applet without an exec (a standalone shell): the path
    // makes it exec the masked file, as critest's busybox does for `ls`.
    const r = await execSync(cri, c, ['/bin/sh', '-c', '/bin/ls']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toBe('/bin/sh: /bin/ls: Permission denied\n');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support ReadonlyPaths (critest: security_context_linux.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await runningWith(podId, podConfig, 'container-with-readonlypaths', { readonly_paths: ['/tmp'] });
    const r = await execSync(cri, c, ['touch', '/tmp/test']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toBe('touch: /tmp/test: Read-only file system\n');
    await cleanupPodSandbox(cri, podId);
  });

  // --- SupplementalGroupsPolicy -------------------------------------------------------------------------------

  describe('SupplementalGroupsPolicy', () => {
    it('Status says the runtime supports it (else critest skips these cases)', async () => {
      expect((await cri.runtime('Status', {})).features.supplemental_groups_policy).toBe(true);
    });

    for (const [when, it_, policy, expected] of [
      ['SupplementalGroupsPolicy=Merge (Default)', "if the container's primary UID belongs to some groups in the image, runtime should add SupplementalGroups to them", 'Merge', ['1000', '1234', '50000']],
      ['SupplementalGroupsPolicy=Strict', "even if the container's primary UID belongs to some groups in the image, runtime should not add SupplementalGroups to them", 'Strict', ['1000', '1234']],
    ] as const) {
      it(`${when}: ${it_} (critest: security_context_linux.go)`, async () => {
        const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
        const name = `container-with-SupplementalGroupsPolicy${policy}-${uuid()}`;
        const logPath = `${name}.log`;
        const c = await createContainer(
          cri,
          {
            metadata: containerMetadata(name),
            image: { image: PREDEFINED_GROUP },
            command: ['sh', '-c', 'id -G; sleep infinity'],
            linux: { security_context: { run_as_user: { value: '1000' }, supplemental_groups: ['1234'], supplemental_groups_policy: policy } },
            log_path: logPath,
          },
          podId,
          podConfig,
        );
        await startContainer(cri, c);
        const s = await waitForContainerState(cri, c, 'CONTAINER_RUNNING');
        expect({ ...s.user.linux, supplemental_groups: [...s.user.linux.supplemental_groups].sort() }).toEqual({ uid: '1000', gid: '1000', supplemental_groups: expected });
        const line = `${expected.join(' ')}\n`;
        await waitFor(() => fs.existsSync(path.join(podConfig.log_directory, logPath)) && logContains(podConfig.log_directory, logPath, line, 'stdout'), 10_000, `"${line.trim()}" in the log`);
        expect(await execSyncContainer(cri, c, ['id', '-G'])).toBe(line);
        await cleanupPodSandbox(cri, podId);
      });
    }
  });

  // --- SeccompProfilePath -------------------------------------------------------------------------------------

  describe('SeccompProfilePath', () => {
    let blockHostNameProfilePath: string;
    let blockChmodProfilePath: string;
    const grepSeccomp = ['grep', 'Seccomp:', '/proc/self/status'];

    beforeAll(() => {
      const dir = fs.mkdtempSync(path.join(h.podns.root, 'seccomp-tests'));
      blockHostNameProfilePath = path.join(dir, 'block-host-name.json');
      fs.writeFileSync(blockHostNameProfilePath, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO' }] }), { mode: 0o600 });
      blockChmodProfilePath = path.join(dir, 'block-chmod.json');
      fs.writeFileSync(blockChmodProfilePath, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' }] }), { mode: 0o600 });
    });

    /** validate's seccompTestContainer: the profile on the sandbox and on the container. */
    const seccompTestContainer = async (profile: object | null) => {
      const podConfig = defaultSandboxConfig('seccomp-sandbox-', { linux: { cgroup_parent: '', security_context: { seccomp: profile } } });
      const podId = await runPodSandbox(cri, podConfig);
      const c = await runningWith(podId, podConfig, `seccomp-container-${uuid()}`, { seccomp: profile });
      return { podId, c };
    };

    for (const [it_, profile, expected] of [
      ['should support seccomp unconfined on the container', { profile_type: 'Unconfined' }, 'Seccomp:\t0'],
      ['should support seccomp default on the container', {}, 'Seccomp:\t2'],
      ['should support nil profile, which is unconfined', null, 'Seccomp:\t0'],
    ] as const) {
      it(`${it_} (critest: security_context_linux.go)`, async () => {
        const { podId, c } = await seccompTestContainer(profile);
        const r = await execSync(cri, c, grepSeccomp);
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toContain(expected);
        await cleanupPodSandbox(cri, podId);
      });
    }

    it('should support seccomp localhost profile on the container (critest: security_context_linux.go)', async () => {
      const { podId, c } = await seccompTestContainer({ profile_type: 'Localhost', localhost_ref: blockChmodProfilePath });
      const r = await execSync(cri, c, ['chmod', '400', '/']);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain('Operation not permitted');
      await cleanupPodSandbox(cri, podId);
    });

    /** validate's createSeccompContainer: `sleep 60` with the profile, capabilities and privileged. */
    const seccompContainer = async (podId: string, podConfig: object, profile: object, caps: string[], privileged: boolean) => {
      const c = await createContainer(
        cri,
        {
          metadata: containerMetadata(`container-with-block-hostname-seccomp-profile-test-${uuid()}`),
          image: { image: BUSYBOX, user_specified_image: BUSYBOX },
          command: ['sleep', '60'],
          linux: { security_context: { privileged, capabilities: { add_capabilities: caps }, seccomp: profile } },
        },
        podId,
        podConfig,
      );
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_RUNNING');
      return c;
    };
    const hostnameSettable = async (c: string) => (await execSync(cri, c, ['hostname', 'ANewHostName'])).exitCode === 0;

    it('runtime should not block setting host name with unconfined seccomp and SYS_ADMIN (critest: security_context_linux.go)', async () => {
      const { podId, podConfig } = await createPodSandboxForContainer(cri);
      const c = await seccompContainer(podId, podConfig, { profile_type: 'Unconfined' }, ['SYS_ADMIN'], false);
      expect(await hostnameSettable(c)).toBe(true);
      await cleanupPodSandbox(cri, podId);
    });

    it('runtime should support an seccomp profile that blocks setting hostname with SYS_ADMIN (critest: security_context_linux.go)', async () => {
      const { podId, podConfig } = await createPodSandboxForContainer(cri);
      const c = await seccompContainer(podId, podConfig, { profile_type: 'Localhost', localhost_ref: blockHostNameProfilePath }, ['SYS_ADMIN'], false);
      expect(await hostnameSettable(c)).toBe(false);
      await cleanupPodSandbox(cri, podId);
    });

    it('runtime should ignore a seccomp profile that blocks setting hostname when privileged (critest: security_context_linux.go)', async () => {
      const { podId, podConfig } = await createPrivilegedPodSandbox(true);
      const c = await seccompContainer(podId, podConfig, { profile_type: 'Localhost', localhost_ref: blockHostNameProfilePath }, [], true);
      expect(await hostnameSettable(c)).toBe(true);
      await cleanupPodSandbox(cri, podId);
    });

    it("the deprecated seccomp_profile_path, when seccomp is not set, as containerd reads it; a LocalhostRef without Localhost is refused", async () => {
      const { podId, podConfig } = await createPodSandboxForContainer(cri);
      for (const [profilePath, expected] of [
        ['runtime/default', 'Seccomp:\t2'],
        ['unconfined', 'Seccomp:\t0'],
        [`localhost/${blockChmodProfilePath}`, 'Seccomp:\t2'],
      ] as const) {
        const c = await runningWith(podId, podConfig, 'deprecated-seccomp-', { seccomp_profile_path: profilePath });
        expect((await execSync(cri, c, grepSeccomp)).stdout).toContain(expected);
      }
      const bad = await grpcError(createContainerWithError(cri, { metadata: containerMetadata('bad'), image: { image: BUSYBOX }, command: PAUSE_CMD, linux: { security_context: { seccomp_profile_path: 'docker/unknown' } } }, podId, podConfig));
      expect(bad).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/seccomp_profile_path "docker\/unknown"/) });
      const ref = await grpcError(
        createContainerWithError(cri, { metadata: containerMetadata('ref'), image: { image: BUSYBOX }, command: PAUSE_CMD, linux: { security_context: { seccomp: { profile_type: 'RuntimeDefault', localhost_ref: blockChmodProfilePath } } } }, podId, podConfig),
      );
      expect(ref).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/localhost_ref must only be set if profile_type is Localhost/) });
      await cleanupPodSandbox(cri, podId);
    });
  });

  // --- NoNewPrivs ---------------------------------------------------------------------------------------------

  describe('NoNewPrivs', () => {
    for (const [it_, noNewPrivs, euid] of [
      ['should not allow privilege escalation when true', true, 1000],
      ['should allow privilege escalation when false', false, 0],
    ] as const) {
      it(`${it_} (critest: security_context_linux.go; nonewprivs built here)`, async () => {
        const { podId, podConfig } = await createPodSandboxWithLogDirectory(cri, h.podns);
        const name = `alpine-nnp-${noNewPrivs}-${uuid()}`;
        const c = await createContainer(
          cri,
          { metadata: containerMetadata(name), image: { image: NO_NEW_PRIVS }, linux: { security_context: { no_new_privs: noNewPrivs, run_as_user: { value: '1000' } } }, log_path: `${name}.log` },
          podId,
          podConfig,
        );
        await startContainer(cri, c);
        await waitForContainerState(cri, c, 'CONTAINER_EXITED');
        expect(logContains(podConfig.log_directory, `${name}.log`, `Effective uid: ${euid}\n`, 'stdout')).toBe(true);
        await cleanupPodSandbox(cri, podId);
      });
    }
  });

  // --- UserNamespaces (critest runs them when Status says user_namespaces) ----------------------------------------

  describe('UserNamespaces', () => {
    it('Status says user namespaces are supported (critest then runs its UserNamespaces cases)', async () => {
      expect((await cri.runtime('Status', {})).runtime_handlers[0].features.user_namespaces).toBe(true);
    });

    it('runtime should support NamespaceMode_POD (critest: security_context_linux.go): the mapping kubelet gives, the pause and container in it, idmapped layers', async () => {
      const name = `user-namespaces-pod-${uuid()}`;
      const { podLogPath } = createLogTempDir(h.podns, name);
      const defaultMapping = [{ container_id: 0, host_id: 1000, length: 100000 }];
      const ns = { userns_options: { mode: 'POD', uids: defaultMapping, gids: defaultMapping } };
      const { podId, podConfig } = await createNamespacePodSandbox(ns, name, podLogPath);
      const containerName = `user-namespaces-container-${uuid()}`;
      const c = await createNamespaceContainer(podId, podConfig, containerName, BUSYBOX, ns, ['sh', '-c', 'cat /proc/self/uid_map; stat -c "%u %g" /bin/busybox'], `${containerName}.log`);
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_EXITED');
      const lines = parseLogLine(podLogPath, `${containerName}.log`).map((m) => m.log.trimEnd());
      expect(lines.some((l) => /^\s+0\s+1000\s+100000$/.test(l.trimEnd()))).toBe(true);
      // The image's root-owned files read as root inside (idmapped layers, nothing chowned).
      expect(lines).toContain('0 0');
      // On the host the pause runs as 1000 + 65535, kubelet's range, not podns's.
      const pausePid = Number(JSON.parse((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true })).info.info).pid);
      expect(fs.readFileSync(`/proc/${pausePid}/status`, 'utf8')).toMatch(/\nUid:\s+66535\s/);
      await cleanupPodSandbox(cri, podId);
    });

    it('runtime should support NamespaceMode_NODE (critest: security_context_linux.go)', async () => {
      const name = `user-namespaces-pod-${uuid()}`;
      const { podLogPath } = createLogTempDir(h.podns, name);
      const ns = { userns_options: { mode: 'NODE' } };
      const { podId, podConfig } = await createNamespacePodSandbox(ns, name, podLogPath);
      const containerName = `user-namespaces-container-${uuid()}`;
      const c = await createNamespaceContainer(podId, podConfig, containerName, BUSYBOX, ns, ['cat', '/proc/self/uid_map'], `${containerName}.log`);
      await startContainer(cri, c);
      await waitForContainerState(cri, c, 'CONTAINER_EXITED');
      for (const line of fs.readFileSync('/proc/self/uid_map', 'utf8').split('\n').filter(Boolean)) {
        const [cid, hid, len] = line.trim().split(/\s+/);
        expect(parseLogLine(podLogPath, `${containerName}.log`).some((m) => new RegExp(`\\s+${cid}\\s+${hid}\\s+${len}`).test(m.log))).toBe(true);
      }
      await cleanupPodSandbox(cri, podId);
    });

    const mapping = (containerId: number, hostId: number) => ({ container_id: containerId, host_id: hostId, length: 100000 });
    for (const [it_, userns] of [
      ['runtime should fail if more than one mapping provided', { mode: 'POD', uids: [mapping(0, 1000), mapping(0, 2000)], gids: [mapping(0, 1000), mapping(0, 2000)] }],
      ['runtime should fail if container ID 0 is not mapped', { mode: 'POD', uids: [mapping(1, 1000)], gids: [mapping(1, 1000)] }],
      ['runtime should fail with NamespaceMode_CONTAINER', { mode: 'CONTAINER' }],
      ['runtime should fail with NamespaceMode_TARGET', { mode: 'TARGET' }],
    ] as const) {
      it(`${it_} (critest: security_context_linux.go)`, async () => {
        const config = defaultSandboxConfig('user-namespaces-pod-', { linux: { security_context: { namespace_options: { userns_options: userns } } } });
        expect(await grpcError(cri.runtime('RunPodSandbox', { config }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/user namespaces/) });
        expect((await cri.runtime('ListPodSandbox', {})).items.filter((p: { metadata: { name: string } }) => p.metadata.name === config.metadata.name)).toEqual([]);
      });
    }
  });

  // --- AppArmor (critest: apparmor_linux.go, skipped without AppArmor): never a silent success --------------

  it('AppArmor: a Localhost profile, in the field or the deprecated apparmor_profile, is refused (podns does not use AppArmor)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    for (const sc of [{ apparmor: { profile_type: 'Localhost', localhost_ref: 'cri-validate-apparmor-test-deny-write' } }, { apparmor_profile: 'localhost/cri-validate-apparmor-test-deny-write' }]) {
      const err = await grpcError(createContainerWithError(cri, { metadata: containerMetadata(`apparmor-test-${uuid()}`), image: { image: BUSYBOX }, command: ['touch', '/tmp/foo'], linux: { security_context: sc } }, podId, podConfig));
      expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/AppArmor/) });
    }
    // RuntimeDefault and unconfined: what podns does anyway.
    const c = await runningWith(podId, podConfig, 'apparmor-default-', { apparmor: { profile_type: 'RuntimeDefault' } });
    expect((await execSync(cri, c, ['true'])).exitCode).toBe(0);
    await cleanupPodSandbox(cri, podId);
  });

  // Kept for the record: the host has neither AppArmor nor SELinux, as critest checks them.
  it('this host has no AppArmor and no SELinux: critest skips apparmor_linux.go and selinux_linux.go here', () => {
    expect(fs.existsSync('/sys/module/apparmor/parameters/enabled') && fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y')).toBe(false);
    expect(fs.existsSync('/sys/fs/selinux/enforce')).toBe(false);
  });
});
