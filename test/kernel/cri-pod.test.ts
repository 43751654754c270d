/**
 * critest's runtime info, sandbox and idempotence cases (cri-tools pkg/validate/runtime_info.go, pod.go,
 * pod_linux.go, idempotence.go), one test per `It`, sending what critest sends: its minimal sandbox config (no
 * hostname, no log directory, no DNS, the cgroupfs driver's empty cgroup parent, attempt 2) and its busybox
 * container running `top`. Then the bad requests of issue 13: each gets its gRPC code and message and leaves
 * nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSkip, supervisorPid, testCgroupParents } from './harness.js';
import {
  BUSYBOX,
  cleanupPodSandbox,
  containerMetadata,
  createDefaultContainer,
  createPauseContainer,
  createPodSandboxForContainer,
  defaultSandboxConfig,
  execSync,
  getPodSandboxStatus,
  grpcError,
  podSandboxMetadata,
  removeContainer,
  runPodSandbox,
  startContainer,
  startCri,
  status,
  testStopContainer,
  uuid,
  type CriClient,
  type CriHarness,
} from './cri-support.js';

describe.skipIf(kernelSkip)('critest: runtime info, PodSandbox, idempotence', () => {
  let h: CriHarness;
  let cri: CriClient;

  beforeAll(async () => {
    h = await startCri();
    cri = h.cri;
  }, 120_000);
  afterAll(async () => h?.dispose());

  const listIds = async (filter: object = {}) => (await cri.runtime('ListPodSandbox', { filter })).items.map((s: { id: string }) => s.id);

  // --- runtime_info.go -------------------------------------------------------------------------------------

  it('runtime should return version info [Conformance] (critest: runtime_info.go)', async () => {
    // critest asks with its own defaultAPIVersion, "0.1.0".
    const v = await cri.runtime('Version', { version: '0.1.0' });
    expect(v.version).toBe('0.1.0');
    expect(v.runtime_name).toBe('podns');
    expect(v.runtime_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(v.runtime_api_version).toBe('v1');
  });

  it('runtime should return runtime conditions [Conformance] (critest: runtime_info.go)', async () => {
    const conditions = (await cri.runtime('Status', { verbose: false })).status.conditions;
    const ready = conditions.filter((c: { type: string; status: boolean }) => ['RuntimeReady', 'NetworkReady'].includes(c.type) && c.status);
    expect(ready).toHaveLength(2);
  });

  // --- pod.go ------------------------------------------------------------------------------------------------

  it('runtime should support running PodSandbox [Conformance] (critest: pod.go)', async () => {
    const podId = await runPodSandbox(cri, defaultSandboxConfig('PodSandbox-for-create-test-'));
    expect((await getPodSandboxStatus(cri, podId)).state).toBe('SANDBOX_READY');
    expect(await listIds({ id: podId })).toEqual([podId]);
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support stopping PodSandbox [Conformance] (critest: pod.go)', async () => {
    const podId = await runPodSandbox(cri, defaultSandboxConfig('PodSandbox-for-test-stop-'));
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
    expect((await getPodSandboxStatus(cri, podId)).state).toBe('SANDBOX_NOTREADY');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support removing PodSandbox [Conformance] (critest: pod.go)', async () => {
    const podId = await runPodSandbox(cri, defaultSandboxConfig('PodSandbox-for-test-remove-'));
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
    expect(await listIds({ id: podId })).toEqual([]);
    expect(fs.existsSync(path.join(h.podns.root, 'run', 'pods', podId))).toBe(false);
  });

  it('runtime should support preserving PodSandbox attributes [Conformance] (critest: pod.go)', async () => {
    const name = `PodSandbox-with-attributes-${uuid()}`;
    const uid = `cri-test-uid${uuid()}`;
    const namespace = `cri-test-namespace${uuid()}`;
    const metadata = podSandboxMetadata(name, uid, namespace);
    const labels = { foo: 'bar', 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid };
    const annotations = { abc: 'def' };
    const podId = await runPodSandbox(cri, { metadata, labels, annotations, linux: { cgroup_parent: '' } });
    const s = await getPodSandboxStatus(cri, podId);
    expect(s.metadata).toEqual(metadata);
    expect(s.labels).toMatchObject(labels);
    expect(s.annotations).toMatchObject(annotations);
    const pods = (await cri.runtime('ListPodSandbox', { filter: { id: podId } })).items;
    expect(pods).toHaveLength(1);
    expect(pods[0].metadata).toEqual(metadata);
    expect(pods[0].labels).toMatchObject(labels);
    expect(pods[0].annotations).toMatchObject(annotations);
    await cleanupPodSandbox(cri, podId);
  });

  // --- pod_linux.go ------------------------------------------------------------------------------------------

  for (const [what, sysctl, file, value] of [
    ['safe', 'kernel.shm_rmid_forced', '/proc/sys/kernel/shm_rmid_forced', '1'],
    ['unsafe', 'fs.mqueue.msg_max', '/proc/sys/fs/mqueue/msg_max', '100'],
  ] as const) {
    it(`should support ${what} sysctls (critest: pod_linux.go)`, async () => {
      const podId = await runPodSandbox(cri, defaultSandboxConfig('pod-sandbox-with-sysctls-', { linux: { cgroup_parent: '', sysctls: { [sysctl]: value } } }));
      const podConfig = { linux: { sysctls: { [sysctl]: value } } };
      const c = await createDefaultContainer(cri, podId, podConfig, `container-${sysctl.replace(/\./g, '-')}`);
      await startContainer(cri, c);
      const r = await execSync(cri, c, ['cat', file]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim()).toBe(value);
      await cleanupPodSandbox(cri, podId);
    });
  }

  // --- idempotence.go ----------------------------------------------------------------------------------------

  it('StopPodSandbox should not return an error if not found (critest: idempotence.go)', async () => {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: uuid() });
  });

  it('StopPodSandbox should not return an error if already stopped (critest: idempotence.go)', async () => {
    const podId = await runPodSandbox(cri, defaultSandboxConfig('idempotence-pod-'));
    for (let i = 0; i < 2; i++) {
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
      expect((await getPodSandboxStatus(cri, podId)).state).toBe('SANDBOX_NOTREADY');
    }
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
  });

  it('RemovePodSandbox should not return an error if not found (critest: idempotence.go)', async () => {
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: uuid() });
  });

  it('StopContainer should not return an error if not found (critest: idempotence.go)', async () => {
    await cri.runtime('StopContainer', { container_id: uuid(), timeout: '0' });
  });

  it('StopContainer should not return an error if already stopped (critest: idempotence.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const c = await createPauseContainer(cri, podId, podConfig, 'idempotence-container-');
    await startContainer(cri, c);
    await testStopContainer(cri, c);
    // critest's own sequence here: stop, then remove twice (its test is named after the stop).
    await testStopContainer(cri, c);
    await removeContainer(cri, c);
    await removeContainer(cri, c);
    await cleanupPodSandbox(cri, podId);
  });

  it('RemoveContainer should not return an error if not found (critest: idempotence.go)', async () => {
    await cri.runtime('RemoveContainer', { container_id: uuid() });
  });

  it('RemoveImage should not return an error if not found (critest: idempotence.go)', async () => {
    const fakeImageId = '0'.repeat(64);
    await cri.image('RemoveImage', { image: { image: fakeImageId } });
    await cri.image('RemoveImage', { image: { image: fakeImageId } });
  });

  // --- issue 13: bad requests get codes and messages and leave nothing behind --------------------------------

  /** Everything a sandbox could leave: its directories, a pause, a veth or a lease in the test's netns, cgroups. */
  async function expectNothingLeft(): Promise<void> {
    expect(await listIds()).toEqual([]);
    for (const d of ['run', 'lib'].map((x) => path.join(h.podns.root, x, 'pods'))) if (fs.existsSync(d)) expect(fs.readdirSync(d).filter((e) => !e.startsWith('.'))).toEqual([]);
    const links = await h.podns.inNetns(['ip', '-o', 'link']);
    expect(String(links.stdout)).not.toMatch(/veth/);
    const ipam = path.join(h.podns.root, 'cni', 'ipam', 'kcri');
    if (fs.existsSync(ipam)) expect(fs.readdirSync(ipam).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))).toEqual([]);
    // No pause or container: the supervisor (their parent) has no child left.
    const sup = supervisorPid(h.podns.root)!;
    const children = fs.readdirSync(`/proc/${sup}/task`).flatMap((t) => fs.readFileSync(`/proc/${sup}/task/${t}/children`, 'utf8').trim().split(' ').filter(Boolean));
    expect(children).toEqual([]);
    // critest's sandboxes have no cgroup parent: theirs go where `podns run`'s pods go, below the test's parent.
    for (const base of testCgroupParents()) if (fs.existsSync(base)) expect(fs.readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)).toEqual([]);
  }

  it('RunPodSandbox without metadata, or with a part of it missing: INVALID_ARGUMENT naming the field, nothing made', async () => {
    expect(await grpcError(cri.runtime('RunPodSandbox', {}))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'config is required' });
    expect(await grpcError(cri.runtime('RunPodSandbox', { config: { linux: {} } }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/metadata/) });
    for (const field of ['name', 'namespace', 'uid']) {
      const config = defaultSandboxConfig('bad-metadata-');
      const metadata: Record<string, unknown> = { ...config.metadata };
      delete metadata[field];
      expect(await grpcError(cri.runtime('RunPodSandbox', { config: { ...config, metadata } }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    }
    await expectNothingLeft();
  });

  it('calls naming an unknown sandbox or container: NOT_FOUND with the id (idempotent stops and removals excepted)', async () => {
    const id = 'f'.repeat(64);
    expect(await grpcError(cri.runtime('PodSandboxStatus', { pod_sandbox_id: id }))).toMatchObject({ code: status.NOT_FOUND, details: `sandbox "${id}" not found` });
    expect(await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: id, config: { metadata: containerMetadata('c'), image: { image: BUSYBOX } } }))).toMatchObject({
      code: status.NOT_FOUND,
      details: `sandbox "${id}" not found`,
    });
    for (const method of ['ContainerStatus', 'StartContainer', 'ExecSync', 'ReopenContainerLog', 'UpdateContainerResources']) {
      expect(await grpcError(cri.runtime(method, { container_id: id, cmd: ['true'] }))).toMatchObject({ code: status.NOT_FOUND, details: `container "${id}" not found` });
    }
    expect(await grpcError(cri.runtime('PodSandboxStatus', {}))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'pod_sandbox_id is required' });
    expect(await grpcError(cri.runtime('ContainerStatus', {}))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'container_id is required' });
    await expectNothingLeft();
  });

  it('a container in a stopped sandbox, a name already taken, an image that does not exist: codes and messages, nothing left', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const config = { metadata: containerMetadata('taken'), image: { image: BUSYBOX }, command: ['sleep', '60'], linux: {} };
    const c = (await cri.runtime('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig })).container_id;
    const again = await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig }));
    expect(again).toMatchObject({ code: status.ALREADY_EXISTS, details: `container "taken" attempt 2 exists in sandbox "${podId}"` });
    const missing = await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: podId, config: { ...config, metadata: containerMetadata('m'), image: { image: 'no-such-image:1' } } }));
    expect(missing).toMatchObject({ code: status.NOT_FOUND, details: 'container "m": image "no-such-image:1" is not present (PullImage it first)' });
    // The same sandbox name (name, namespace, uid, attempt) again while it exists.
    const dup = await grpcError(cri.runtime('RunPodSandbox', { config: podConfig }));
    expect(dup).toMatchObject({ code: status.ALREADY_EXISTS, details: expect.stringMatching(/is reserved for/) });
    expect(await listIds()).toEqual([podId]);
    expect((await cri.runtime('ListContainers', {})).containers.map((x: { id: string }) => x.id)).toEqual([c]);

    await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
    const inStopped = await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: podId, config: { ...config, metadata: containerMetadata('late') }, sandbox_config: podConfig }));
    expect(inStopped).toMatchObject({ code: status.FAILED_PRECONDITION, details: `sandbox "${podId}" is not ready: no container can be created in it` });
    expect(await grpcError(cri.runtime('StartContainer', { container_id: c }))).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect((await cri.runtime('ListContainers', { filter: { pod_sandbox_id: podId } })).containers).toHaveLength(1);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
    // Its name is free again.
    const podId2 = await runPodSandbox(cri, podConfig);
    await cleanupPodSandbox(cri, podId2);
    await expectNothingLeft();
  });

  it('a RunPodSandbox that fails half way (CNI ADD fails) leaves no pause, netns pin, veth, lease or cgroup', async () => {
    // The plugin runs and fails: the pause and the pin exist by then, so this undoes a real half-made sandbox.
    const conflist = path.join(h.podns.root, 'cni', 'net.d', '10-kcri.conflist');
    const good = fs.readFileSync(conflist, 'utf8');
    const broken = JSON.parse(good);
    broken.plugins.push({ type: 'portmap', capabilities: { portMappings: true }, externalSetMarkChain: 'NO-SUCH-CHAIN' });
    fs.writeFileSync(conflist, JSON.stringify(broken));
    try {
      const config = defaultSandboxConfig('half-made-', { port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 18081, host_ip: '' }] });
      const err = await grpcError(cri.runtime('RunPodSandbox', { config }));
      expect(err.code).toBe(status.UNKNOWN);
      expect(err.details).toMatch(/portmap/);
    } finally {
      fs.writeFileSync(conflist, good);
    }
    await expectNothingLeft();
  });
});
