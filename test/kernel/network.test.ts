/**
 * Pod networking (bridge mode) inside a network namespace of the test's own: host→pod, pod→pod, hostPort
 * from 127.0.0.1 and from a client namespace on the bridge, hostNetwork, DNS and hosts files, IP exhaustion,
 * concurrent runs, and teardown after a killed supervisor. Requires: root, iproute2, nftables, curl, the native
 * build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findNetworkLeaks, inspect, kernelSkip, killSupervisor, podName, projectRoot, waitFor, type Podns, pinOf } from './harness.js';

function webPod(name: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  containers:
  - name: web
    image: nginx
${extra}`;
}

async function podIP(podns: Podns, pod: string): Promise<string> {
  const state = (await inspect(podns, pod)) as unknown as { podIP: string };
  return state.podIP;
}

describe.skipIf(kernelSkip)('pod networking (bridge)', () => {
  let podns: Podns;
  const pods: string[] = [];
  const run = async (name: string, yaml: string) => {
    pods.push(name);
    await podns.ok(['run', podns.writeManifest(name, yaml)]);
  };
  const curl = async (url: string) => String((await podns.inNetns(['curl', '-s', '--max-time', '5', url])).stdout);

  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
  });
  afterAll(async () => {
    for (const pod of pods) await podns.run(['rm', '-f', pod]);
    await podns.dispose();
  });

  it('a pod gets an address on the bridge: eth0 in its netns, a default route, /etc/hosts with its IP', async () => {
    const a = podName('net-a');
    await run(a, webPod(a, '    ports: [{containerPort: 80, hostPort: 8080}]\n'));
    const ip = await podIP(podns, a);
    expect(ip).toMatch(/^10\.89\.\d+\.\d+$/);
    const addr = await execa('ip', ['-n', path.basename(pinOf(podns.root, a)), '-br', 'addr', 'show', 'eth0']);
    expect(addr.stdout).toContain(`${ip}/16`);
    expect((await execa('ip', ['-n', path.basename(pinOf(podns.root, a)), 'route'])).stdout).toContain('default via 10.89.0.1 dev eth0');
    expect(await podns.ok(['exec', a, '--', 'cat', '/etc/hosts'])).toContain(`${ip}\t${a}`);
    expect(String((await podns.inNetns(['ip', '-br', 'link', 'show', 'podns0'])).stdout)).toContain('podns0');
    expect(await podns.ok(['ps', '-o', 'wide'])).toMatch(new RegExp(`${a}\\s+\\(pause\\)\\s+Running\\s+\\d+\\s+-\\s+\\d+s\\s+${ip.replace(/\./g, '\\.')}`));
  });

  it('the host reaches the pod on its IP, and through its hostPort on 127.0.0.1 and the bridge address', async () => {
    const a = pods[0]!;
    const ip = await podIP(podns, a);
    expect(await curl(`http://${ip}/`)).toContain('Welcome to nginx');
    expect(await curl('http://127.0.0.1:8080/')).toContain('Welcome to nginx');
    expect(await curl('http://10.89.0.1:8080/')).toContain('Welcome to nginx');
  });

  it('pod to pod over the bridge; two pods serve the same containerPort', async () => {
    const b = podName('net-b');
    await run(b, webPod(b));
    const [ipA, ipB] = [await podIP(podns, pods[0]!), await podIP(podns, b)];
    expect(ipA).not.toBe(ipB);
    expect(await podns.ok(['exec', b, '--', 'wget', '-qO-', `http://${ipA}/`])).toContain('Welcome to nginx');
    expect(await podns.ok(['exec', pods[0]!, '--', 'wget', '-qO-', `http://${ipB}/`])).toContain('Welcome to nginx');
  });

  it('a hostPort is reached from a client namespace attached to the bridge', async () => {
    const client = `${podns.netns}-c`;
    await execa('ip', ['netns', 'add', client]);
    try {
      // The client's veth: one end on podns's bridge, the other in the client namespace, a high address.
      await podns.inNetns(['ip', 'link', 'add', 'pnclient0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
      await podns.inNetns(['ip', 'link', 'set', 'pnclient0', 'master', 'podns0', 'up']);
      await execa('ip', ['-n', client, 'addr', 'add', '10.89.255.250/16', 'dev', 'eth0']);
      await execa('ip', ['-n', client, 'link', 'set', 'eth0', 'up']);
      await execa('ip', ['-n', client, 'link', 'set', 'lo', 'up']);
      const r = await execa('nsenter', [`--net=/run/netns/${client}`, 'curl', '-s', '--max-time', '5', 'http://10.89.0.1:8080/'], { reject: false });
      expect(String(r.stdout)).toContain('Welcome to nginx');
    } finally {
      await podns.inNetns(['ip', 'link', 'del', 'pnclient0']);
      await execa('ip', ['netns', 'del', client], { reject: false });
    }
  });

  it('a hostPort already published is a clear error and the second pod leaves nothing', async () => {
    const c = podName('net-c');
    const { stderr, exitCode } = await podns.fails(['run', podns.writeManifest(c, webPod(c, '    ports: [{containerPort: 80, hostPort: 8080}]\n'))]);
    expect(exitCode).toBe(1);
    expect(stderr.trim()).toBe(`podns: pod "${c}": hostPort 8080/TCP: already published by another pod`);
    expect(fs.existsSync(pinOf(podns.root, c))).toBe(false);
    expect(await curl('http://127.0.0.1:8080/')).toContain('Welcome to nginx');
  });

  it('dnsConfig, dnsPolicy None and hostAliases shape resolv.conf and hosts as kubelet writes them', async () => {
    const d = podName('net-dns');
    await run(
      d,
      `apiVersion: v1
kind: Pod
metadata: {name: ${d}}
spec:
  dnsPolicy: None
  dnsConfig:
    nameservers: [192.0.2.53]
    searches: [ns1.svc.cluster-domain.example, my.dns.search.suffix]
    options: [{name: ndots, value: "2"}, {name: edns0}]
  hostAliases:
  - {ip: 127.0.0.1, hostnames: [foo.local, bar.local]}
  containers:
  - {name: c, image: yauritux/busybox-curl, command: [sleep, "3600"]}
`,
    );
    expect(await podns.ok(['exec', d, '--', 'cat', '/etc/resolv.conf'])).toBe(
      'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.53\noptions ndots:2 edns0',
    );
    expect(await podns.ok(['exec', d, '--', 'cat', '/etc/hosts'])).toMatch(/\n# Entries added by HostAliases\.\n127\.0\.0\.1\tfoo\.local\n127\.0\.0\.1\tbar\.local$/);
  });

  it("hostNetwork: the host's interfaces and hostname, no pod IP, the node's hosts file", async () => {
    const h = podName('net-host');
    await run(h, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${h}}\nspec:\n  hostNetwork: true\n  containers:\n  - {name: c, image: yauritux/busybox-curl, command: [sleep, "3600"]}\n`);
    expect(await podns.ok(['exec', h, '--', 'ip', '-o', 'link'])).toContain('podns0');
    expect((await podns.ok(['exec', h, '--', 'hostname'])).trim()).toBe(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    expect(await podns.ok(['exec', h, '--', 'head', '-1', '/etc/hosts'])).toBe('# Kubernetes-managed hosts file (host network).');
    expect(fs.existsSync(pinOf(podns.root, h))).toBe(false);
    expect(((await inspect(podns, h)) as unknown as { podIP?: string }).podIP).toBeUndefined();
  });

  it('concurrent runs get distinct addresses', async () => {
    const names = [1, 2, 3, 4].map((i) => podName(`net-par${i}`));
    pods.push(...names);
    await Promise.all(names.map((n) => podns.ok(['run', podns.writeManifest(n, webPod(n))])));
    const ips = await Promise.all(names.map((n) => podIP(podns, n)));
    expect(new Set(ips).size).toBe(4);
  });

  it('rm -f after the supervisor was SIGKILLed removes the veth, the hostPort and the lease', async () => {
    const k = podName('net-kill');
    await run(k, webPod(k, '    ports: [{containerPort: 80, hostPort: 8081}]\n'));
    const state = (await inspect(podns, k)) as unknown as { network: { veth: string; ip: string } };
    await killSupervisor(podns.root);
    await podns.ok(['rm', '-f', k]);
    pods.splice(pods.indexOf(k), 1);
    expect(String((await podns.inNetns(['ip', '-o', 'link'])).stdout)).not.toContain(state.network.veth);
    expect(fs.existsSync(path.join(podns.root, 'lib', 'network', 'podns0', 'leases', state.network.ip))).toBe(false);
    expect(String((await podns.inNetns(['nft', 'list', 'map', 'ip', 'podns', 'hostports'])).stdout)).not.toContain('8081');
  });

  it('after every pod is removed, nothing of the network is left but the bridge and the empty table', async () => {
    for (const pod of pods.splice(0)) await podns.ok(['rm', '-f', pod]);
    expect(await findNetworkLeaks(podns.netns, podns.root)).toEqual([]);
  });
});

describe.skipIf(kernelSkip)('IP address exhaustion', () => {
  let podns: Podns;
  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
    fs.mkdirSync(path.join(podns.root, 'etc'), { recursive: true });
    // A /30 has one address for pods: the bridge takes .1, .3 is broadcast.
    fs.writeFileSync(path.join(podns.root, 'etc', 'network.json'), JSON.stringify({ subnet: '10.77.7.0/30' }));
  });
  afterAll(async () => {
    await podns.dispose();
  });

  it('a full subnet is a clear error and the pod leaves nothing', async () => {
    const [one, two] = [podName('ipam-1'), podName('ipam-2')];
    await podns.ok(['run', podns.writeManifest(one, webPod(one))]);
    const { stderr } = await podns.fails(['run', podns.writeManifest(two, webPod(two))]);
    expect(stderr.trim()).toBe(`podns: pod "${two}": no free address in 10.77.7.0/30 on bridge podns0: all 1 are leased`);
    expect(fs.existsSync(pinOf(podns.root, two))).toBe(false);
    await podns.ok(['rm', '-f', one]);
    // The address is free again.
    await podns.ok(['run', podns.writeManifest(two, webPod(two))]);
    await podns.ok(['rm', '-f', two]);
  });
});

describe.skipIf(kernelSkip)('podns gc', () => {
  let podns: Podns;
  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
  });
  afterAll(async () => {
    await podns.dispose();
  });

  it('removes a dead pod, a stray veth and a stray published port, then the idle bridge and table', async () => {
    const dead = podName('gc-dead');
    await podns.ok(['run', podns.writeManifest(dead, webPod(dead, '    ports: [{containerPort: 80, hostPort: 8090}]\n'))]);
    const state = (await inspect(podns, dead)) as unknown as { pause: { pid: number }; containers: { process: { pid: number } }[] };
    // This test's own pod: the root's supervisor, then every process of the pod, as a crash would leave them.
    await killSupervisor(podns.root);
    for (const pid of [state.pause.pid, ...state.containers.map((c) => c.process.pid)]) process.kill(pid, 'SIGKILL');
    await waitFor(() => [state.pause.pid, state.containers[0]!.process.pid].every((pid) => !fs.existsSync(`/proc/${pid}/ns`)), 5000, 'processes gone');
    await podns.inNetns(['ip', 'link', 'add', 'pn0123456789ab', 'type', 'veth', 'peer', 'name', 'pnstraypeer']);
    await podns.inNetns(['ip', 'link', 'set', 'pn0123456789ab', 'master', 'podns0']);
    await podns.inNetns(['nft', 'add', 'element', 'ip', 'podns', 'hostports', '{ udp . 9999 : 10.89.99.99 . 53 }']);

    const out = await podns.ok(['gc']);
    expect(out).toContain(`removed pod ${dead}`);
    expect(out).toContain('deleted veth pn0123456789ab (no pod)');
    expect(out).toContain('unpublished port udp . 9999 (pointed at 10.89.99.99, which no pod has)');
    expect(out).toContain('deleted nft table ip podns');
    expect(out).toContain('deleted bridge podns0');
    expect(String((await podns.inNetns(['ip', '-o', 'link'])).stdout)).not.toMatch(/podns0|pn[0-9a-f]{12}/);
    expect(fs.existsSync(pinOf(podns.root, dead))).toBe(false);
    expect((await podns.ok(['gc'])).trim()).toBe('nothing to remove');
  });
});

describe.skipIf(kernelSkip)('examples/two-pods-hostport.yaml', () => {
  let podns: Podns;
  beforeAll(async () => {
    podns = await createPodns({ network: 'private' });
  });
  afterAll(async () => {
    await podns.dispose();
  });

  it('runs as its comments say: hostPort from 127.0.0.1, pod to pod by IP, and rm leaves nothing', async () => {
    expect(await podns.ok(['run', path.join(projectRoot, 'examples', 'two-pods-hostport.yaml')])).toBe('pod/web running\npod/client running');
    const webIP = await podIP(podns, 'web');
    expect(String((await podns.inNetns(['curl', '-s', '--max-time', '5', 'http://127.0.0.1:8080/'])).stdout)).toContain('Welcome to nginx');
    expect(await podns.ok(['exec', 'client', '--', 'wget', '-qO-', `http://${webIP}/`])).toContain('Welcome to nginx');
    await podns.ok(['rm', '-f', 'web', 'client']);
    expect(await findNetworkLeaks(podns.netns, podns.root)).toEqual([]);
  });
});
