/**
 * The CRI v1 endpoint as kubelet uses it: podns's supervisor serving <run>/cri.sock, a gRPC client built from the
 * same api.proto, CNI networking by the reference plugins (bridge, host-local, portmap) in the test's own network
 * namespace. The kubelet sequence for the article's pod, then what kubelet's bad days look like.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, kernelSkip, killSupervisor, podName, waitFor, type Podns } from './harness.js';
import { containerConfig, criClient, grpcError, removeKubeletCgroups, sandboxConfig, status, writeCriNetwork, type CriClient } from './cri-support.js';

describe.skipIf(kernelSkip)('CRI: kubelet drives podns', () => {
  let podns: Podns;
  let cri: CriClient;
  let nginxId: string;
  let busyboxId: string;

  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
    writeCriNetwork(podns);
    // kubelet finds the runtime running (a service): the supervisor is started for it, in the test's netns.
    await podns.ok(['serve', '--background']);
    cri = criClient(path.join(podns.root, 'run', 'cri.sock'));
    nginxId = (await cri.image('ImageStatus', { image: { image: 'nginx' } })).image.id;
    busyboxId = (await cri.image('ImageStatus', { image: { image: 'yauritux/busybox-curl' } })).image.id;
  }, 120_000);

  afterAll(async () => {
    try {
      // Sandboxes a failed test left go first (through podns), then kubelet's pod cgroups above them.
      for (const s of (await cri.runtime('ListPodSandbox', {})).items) await podns.run(['rm', '-f', s.id]);
    } finally {
      cri?.close();
      try {
        removeKubeletCgroups();
      } finally {
        await podns?.dispose();
      }
    }
  });

  it("kubelet's sequence for the article's pod: sandbox, nginx and busybox in its namespaces, exec, relists, stop, removal; nothing left", async () => {
    expect(await cri.runtime('Version', { version: 'v1' })).toMatchObject({ runtime_name: 'podns', runtime_api_version: 'v1' });
    const ready = (await cri.runtime('Status', {})).status.conditions;
    expect(ready).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'RuntimeReady', status: true }), expect.objectContaining({ type: 'NetworkReady', status: true })]));
    expect((await cri.runtime('RuntimeConfig', {})).linux.cgroup_driver).toBe('CGROUPFS');
    await cri.runtime('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.77.0.0/24' } } });
    expect(JSON.parse((await cri.runtime('Status', { verbose: true })).info.config).podCidr).toBe('10.77.0.0/24');

    const name = podName('cri-seq');
    const uid = `uid-${name}`;
    const config = sandboxConfig(podns, name, uid, { sharePid: true });
    const { pod_sandbox_id: sandbox } = await cri.runtime('RunPodSandbox', { config });
    expect(sandbox).toMatch(/^[0-9a-f]{64}$/);
    const sandboxStatus = (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: sandbox, verbose: true })).status;
    expect(sandboxStatus).toMatchObject({ state: 'SANDBOX_READY', metadata: { name, uid, namespace: 'default', attempt: 0 } });
    expect(sandboxStatus.network.ip).toMatch(/^10\.77\.0\.\d+$/);
    expect(sandboxStatus.annotations).toEqual(config.annotations);
    expect(sandboxStatus.linux.namespaces.options).toMatchObject({ network: 'POD', pid: 'POD', ipc: 'POD' });
    expect(BigInt(sandboxStatus.created_at)).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);

    const nginx = (await cri.runtime('CreateContainer', { pod_sandbox_id: sandbox, config: containerConfig('nginx', nginxId), sandbox_config: config })).container_id;
    await cri.runtime('StartContainer', { container_id: nginx });
    const busybox = (
      await cri.runtime('CreateContainer', {
        pod_sandbox_id: sandbox,
        config: containerConfig('busybox', busyboxId, { command: ['/bin/sh', '-c'], args: ['echo started; while true; do sleep 1; done'], envs: { GREETING: '$(NOT_EXPANDED) hello' } }),
        sandbox_config: config,
      })
    ).container_id;
    await cri.runtime('StartContainer', { container_id: busybox });
    expect(nginx).not.toBe(busybox);

    // One PID namespace: busybox sees nginx; one network namespace: nginx answers on localhost.
    const ps = await cri.runtime('ExecSync', { container_id: busybox, cmd: ['ps', 'ax'], timeout: '10' });
    expect(ps.exit_code).toBe(0);
    expect(ps.stdout.toString()).toMatch(/nginx: master process/);
    expect(ps.stdout.toString()).toMatch(/\/pause/);
    const page = await waitFor(async () => {
      const r = await cri.runtime('ExecSync', { container_id: busybox, cmd: ['wget', '-qO-', 'http://127.0.0.1/'], timeout: '10' });
      return r.exit_code === 0 && r.stdout.toString().includes('nginx') ? r : undefined;
    }, 10_000, 'nginx to answer');
    expect(page.stdout.toString()).toMatch(/Welcome to nginx/);
    // kubelet expanded env already: the runtime takes it as it is.
    const split = await cri.runtime('ExecSync', { container_id: busybox, cmd: ['sh', '-c', 'echo "$GREETING"; echo err >&2; exit 3'], timeout: '10' });
    expect(split.stdout.toString()).toBe('$(NOT_EXPANDED) hello\n');
    expect(split.stderr.toString()).toBe('err\n');
    expect(split.exit_code).toBe(3);

    // PLEG's relist every second, three times.
    for (let i = 0; i < 3; i++) {
      const sandboxes = (await cri.runtime('ListPodSandbox', {})).items;
      expect(sandboxes.map((s: { id: string }) => s.id)).toEqual([sandbox]);
      const containers = (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: sandbox } })).containers;
      expect(containers.map((c: { id: string; state: string }) => [c.id, c.state]).sort()).toEqual([[busybox, 'CONTAINER_RUNNING'], [nginx, 'CONTAINER_RUNNING']].sort());
      for (const c of containers) expect((await cri.runtime('ContainerStatus', { container_id: c.id })).status.state).toBe('CONTAINER_RUNNING');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const busyStatus = (await cri.runtime('ContainerStatus', { container_id: busybox, verbose: true })).status;
    expect(busyStatus).toMatchObject({ metadata: { name: 'busybox', attempt: 0 }, image_ref: busyboxId, log_path: path.join(config.log_directory, 'busybox/0.log') });
    expect(BigInt(busyStatus.started_at)).toBeGreaterThanOrEqual(BigInt(busyStatus.created_at));
    // The CRI log format kubelet reads: `<RFC3339Nano> stdout F <line>`.
    expect(fs.readFileSync(busyStatus.log_path, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d) stdout F started\n/);

    // Still podns pods: the CLI shows them, by their name (kubelet is their manager).
    const psLines = (await podns.ok(['ps'])).split('\n');
    expect(psLines.find((l) => l.startsWith(`${name} `) && l.includes('(pause)'))).toMatch(/Running/);
    expect(psLines.find((l) => l.startsWith(`${name} `) && l.includes(' nginx '))).toMatch(/Running/);
    expect(await podns.ok(['logs', name, '-c', 'busybox'])).toBe('started');
    expect(await podns.ok(['inspect', '--namespaces', name])).toMatch(/container\/nginx/);
    expect(await podns.ok(['explain', name])).toMatch(/pin the network namespace/);
    expect(await podns.ok(['stats', name])).toMatch(/busybox/);
    expect(await podns.ok(['exec', name, '-c', 'busybox', '--', 'cat', '/etc/resolv.conf'])).toBe('search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5');
    expect(await podns.ok(['info'])).toMatch(/1 sandbox\(es\) made by kubelet/);
    expect((await podns.fails(['stop', name])).stderr).toMatch(/is kubelet's/);

    // Stats from the cgroups, as kubelet's summary reads them (the rate once there are two samples).
    const first = (await cri.runtime('ContainerStats', { container_id: busybox })).stats;
    expect(first.attributes).toMatchObject({ id: busybox, metadata: { name: 'busybox' } });
    expect(Number(first.cpu.usage_core_nano_seconds.value)).toBeGreaterThan(0);
    expect(Number(first.memory.working_set_bytes.value)).toBeGreaterThan(0);
    expect(first.writable_layer.fs_id.mountpoint).toMatch(/upper$/);
    await new Promise((r) => setTimeout(r, 200));
    const listed = (await cri.runtime('ListContainerStats', { filter: { pod_sandbox_id: sandbox } })).stats;
    expect(listed.map((x: { attributes: { id: string } }) => x.attributes.id).sort()).toEqual([busybox, nginx].sort());
    expect(listed.find((x: { attributes: { id: string } }) => x.attributes.id === busybox).cpu.usage_nano_cores).not.toBeNull();
    const podStats = (await cri.runtime('PodSandboxStats', { pod_sandbox_id: sandbox })).stats;
    expect(Number(podStats.linux.process.process_count.value)).toBeGreaterThanOrEqual(3); // pause, nginx (2+), sh, sleep
    expect(podStats.linux.network.default_interface.name).toBe('eth0');
    expect(podStats.linux.containers).toHaveLength(2);
    expect((await cri.runtime('ListPodSandboxStats', {})).stats.map((x: { attributes: { id: string } }) => x.attributes.id)).toEqual([sandbox]);

    await cri.runtime('StopContainer', { container_id: nginx, timeout: '10' });
    const stopped = (await cri.runtime('ContainerStatus', { container_id: nginx })).status;
    expect(stopped).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 0, reason: 'Completed' });
    expect(BigInt(stopped.finished_at)).toBeGreaterThan(BigInt(stopped.started_at));
    // Stopping what has stopped is no error.
    await cri.runtime('StopContainer', { container_id: nginx, timeout: '10' });

    await cri.runtime('StopPodSandbox', { pod_sandbox_id: sandbox });
    expect((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: sandbox })).status.state).toBe('SANDBOX_NOTREADY');
    expect((await cri.runtime('ContainerStatus', { container_id: busybox })).status).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 137 });
    await cri.runtime('RemoveContainer', { container_id: nginx });
    await cri.runtime('RemoveContainer', { container_id: busybox });
    await cri.runtime('RemoveContainer', { container_id: busybox }); // removed already: no error
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sandbox });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sandbox });
    expect((await cri.runtime('ListPodSandbox', {})).items).toEqual([]);
    expect((await cri.runtime('ListContainers', {})).containers).toEqual([]);
    expect(fs.readdirSync(path.join(podns.root, 'run', 'pods'))).toEqual([]);
    // kubelet's own: the log directory stays for kubelet to remove.
    expect(fs.existsSync(busyStatus.log_path)).toBe(true);
  }, 120_000);

  it("GetContainerEvents streams created, started, stopped and deleted events with the sandbox's status (evented PLEG)", async () => {
    const name = podName('cri-ev');
    const events = cri.stream('GetContainerEvents', {});
    const config = sandboxConfig(podns, name, `uid-${name}`);
    const { pod_sandbox_id: sandbox } = await cri.runtime('RunPodSandbox', { config });
    const c = (await cri.runtime('CreateContainer', { pod_sandbox_id: sandbox, config: containerConfig('once', busyboxId, { command: ['sh', '-c', 'exit 7'] }) })).container_id;
    await cri.runtime('StartContainer', { container_id: c });
    await waitFor(() => events.responses.some((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT' && e.container_id === c), 5000, 'the stopped event');
    await cri.runtime('RemoveContainer', { container_id: c });
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: sandbox });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sandbox });
    await waitFor(() => events.responses.some((e) => e.container_event_type === 'CONTAINER_DELETED_EVENT'), 5000, 'the deleted event');
    events.stop();
    await events.ended;
    const mine = events.responses.filter((e) => e.container_id === c);
    expect(mine.map((e) => e.container_event_type)).toEqual(['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']);
    const stopped = mine[2];
    expect(stopped.pod_sandbox_status).toMatchObject({ id: sandbox, state: 'SANDBOX_READY' });
    expect(stopped.containers_statuses.find((x: { id: string }) => x.id === c)).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 7, reason: 'Error' });
    expect(BigInt(stopped.created_at)).toBeGreaterThan(BigInt(mine[1].created_at) - 1n);
  }, 60_000);

  it('a SIGKILLed supervisor: the next one adopts the sandboxes, their containers run on and log on, kubelet relists them as before; a sandbox whose pause died meanwhile is NotReady and removable', async () => {
    const [alive, dying] = [podName('cri-adopt'), podName('cri-dies')];
    const a = (await cri.runtime('RunPodSandbox', { config: sandboxConfig(podns, alive, `uid-${alive}`) })).pod_sandbox_id;
    const ticker = (await cri.runtime('CreateContainer', { pod_sandbox_id: a, config: containerConfig('ticker', busyboxId, { command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'] }) })).container_id;
    await cri.runtime('StartContainer', { container_id: ticker });
    const d = (await cri.runtime('RunPodSandbox', { config: sandboxConfig(podns, dying, `uid-${dying}`) })).pod_sandbox_id;
    const dPause = Number(JSON.parse((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: d, verbose: true })).info.info).pid);
    const tickerPid = Number(JSON.parse((await cri.runtime('ContainerStatus', { container_id: ticker, verbose: true })).info.info).pid);
    cri.close();
    await killSupervisor(podns.root);
    process.kill(dPause, 'SIGKILL'); // its pod dies while nobody supervises
    await new Promise((r) => setTimeout(r, 600));
    await podns.ok(['serve', '--background']);
    cri = criClient(path.join(podns.root, 'run', 'cri.sock'));
    const listed = Object.fromEntries((await cri.runtime('ListPodSandbox', {})).items.map((s: { id: string; state: string }) => [s.id, s.state]));
    expect(listed).toMatchObject({ [a]: 'SANDBOX_READY', [d]: 'SANDBOX_NOTREADY' });
    const status = (await cri.runtime('ContainerStatus', { container_id: ticker, verbose: true }));
    expect(status.status.state).toBe('CONTAINER_RUNNING');
    expect(JSON.parse(status.info.info).pid).toBe(tickerPid);
    // Every tick is in the log, across the takeover, in order.
    const logPath = status.status.log_path;
    await waitFor(() => Number(fs.readFileSync(logPath, 'utf8').trim().split('\n').pop()!.split(' tick ')[1]) > 8, 5000, 'the log to go on');
    const ticks = fs.readFileSync(logPath, 'utf8').trim().split('\n').map((l) => Number(l.split(' tick ')[1]));
    expect(ticks).toEqual(ticks.map((_, i) => i));
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: a });
    for (const id of [a, d]) await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    expect((await cri.runtime('ListPodSandbox', {})).items).toEqual([]);
  }, 60_000);

  it('a client that sends the socket path as :authority (Go clients before k8s.io/cri-client: kubelet and crictl < 1.31) is served', async () => {
    const socket = path.join(podns.root, 'run', 'cri.sock');
    const old = criClient(socket, { authority: socket });
    try {
      expect((await old.runtime('Version', {})).runtime_name).toBe('podns');
      expect((await old.image('ImageStatus', { image: { image: 'nginx' } })).image.id).toBe(nginxId);
      expect((await old.runtime('ListPodSandbox', {})).items).toEqual((await cri.runtime('ListPodSandbox', {})).items);
    } finally {
      old.close();
    }
  });

  it('bad requests get gRPC errors with codes and messages, and leave nothing behind', async () => {
    const name = podName('cri-bad');
    expect(await grpcError(cri.runtime('RunPodSandbox', { config: { hostname: 'x' } }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/metadata/) });
    expect(await grpcError(cri.runtime('PodSandboxStatus', { pod_sandbox_id: 'f'.repeat(64) }))).toMatchObject({ code: status.NOT_FOUND, details: expect.stringMatching(/sandbox "f+" not found/) });
    // Stopping a sandbox that is not there is no error (api.proto: StopPodSandbox is idempotent; critest checks it).
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: 'f'.repeat(64) });
    expect(await grpcError(cri.runtime('ContainerStatus', { container_id: 'nope' }))).toMatchObject({ code: status.NOT_FOUND });
    expect(await grpcError(cri.runtime('CheckpointContainer', {}))).toMatchObject({ code: status.UNIMPLEMENTED, details: 'podns does not implement CheckpointContainer' });

    const config = sandboxConfig(podns, name, `uid-${name}`);
    const { pod_sandbox_id: sandbox } = await cri.runtime('RunPodSandbox', { config });
    // The same pod and attempt again: its name is taken.
    expect(await grpcError(cri.runtime('RunPodSandbox', { config }))).toMatchObject({ code: status.ALREADY_EXISTS });
    expect(await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: sandbox, config: containerConfig('c', 'no-such-image:1') }))).toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringMatching(/image "no-such-image:1" is not present/),
    });
    const c = (await cri.runtime('CreateContainer', { pod_sandbox_id: sandbox, config: containerConfig('c', busyboxId, { command: ['sleep', '60'] }) })).container_id;
    expect(await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: sandbox, config: containerConfig('c', busyboxId, { command: ['sleep', '60'] }) }))).toMatchObject({ code: status.ALREADY_EXISTS });
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: sandbox });
    expect(await grpcError(cri.runtime('CreateContainer', { pod_sandbox_id: sandbox, config: containerConfig('d', busyboxId) }))).toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringMatching(/not ready/) });
    expect(await grpcError(cri.runtime('StartContainer', { container_id: c }))).toMatchObject({ code: status.FAILED_PRECONDITION });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sandbox });
    expect((await cri.runtime('ListContainers', { filter: { pod_sandbox_id: sandbox } })).containers).toEqual([]);
    // A failed RunPodSandbox leaves nothing: an unknown runtime handler, a systemd cgroup parent.
    expect(await grpcError(cri.runtime('RunPodSandbox', { config, runtime_handler: 'kata' }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    const slice = { ...config, linux: { ...config.linux, cgroup_parent: 'kubepods-besteffort.slice' } };
    expect(await grpcError(cri.runtime('RunPodSandbox', { config: slice }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/cgroupfs/) });
    const mine = { filter: { label_selector: { 'io.kubernetes.pod.name': name } } };
    expect((await cri.runtime('ListPodSandbox', mine)).items).toEqual([]);
    expect(fs.readdirSync(path.join(podns.root, 'run', 'pods'))).not.toContain(sandbox);
  }, 60_000);
});
