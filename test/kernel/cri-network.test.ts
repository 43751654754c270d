/**
 * critest's networking cases (cri-tools pkg/validate/networking.go), one test per `It`, and the rest of issue 13's
 * network part: DNS config written to /etc/resolv.conf (none or an empty one: the node's file, as containerd),
 * port mappings through the CNI portmap plugin (a hostPort reachable from the test's network namespace, where
 * critest reaches 127.0.0.1 of the node), a taken host port refused without leaving anything, host network
 * without CNI. The web server is our nginx (critest's is nginx:1.14-2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSkip, waitFor } from './harness.js';
import {
  cleanupPodSandbox,
  containerMetadata,
  createContainer,
  createDefaultContainer,
  defaultSandboxConfig,
  execSyncContainer,
  getPodSandboxStatus,
  grpcError,
  NGINX,
  runPodSandbox,
  startContainer,
  startCri,
  status,
  type CriClient,
  type CriHarness,
} from './cri-support.js';

/** validate's webServerHostPortForPortMapping. */
const HOST_PORT = 12000;

describe.skipIf(kernelSkip)('critest: Networking', () => {
  let h: CriHarness;
  let cri: CriClient;

  beforeAll(async () => {
    h = await startCri();
    cri = h.cri;
  }, 120_000);
  afterAll(async () => h?.dispose());

  /** validate's checkMainPage, from the test's netns (critest's node): 200 within a minute. */
  const checkMainPage = async (url: string) => {
    const r = await waitFor(async () => {
      const res = await h.podns.inNetns(['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', url]);
      return res.stdout === '200' ? res : undefined;
    }, 60_000, `${url} to answer`);
    expect(r.stdout).toBe('200');
  };
  /** validate's createWebServerContainer: nginx with its image's command. */
  const createWebServerContainer = (podId: string, podConfig: object, prefix: string) =>
    createContainer(cri, { metadata: containerMetadata(prefix), image: { image: NGINX }, linux: {} }, podId, podConfig);

  it('runtime should support DNS config [Conformance] (critest: networking.go)', async () => {
    const podConfig = defaultSandboxConfig('create-PodSandbox-with-DNS-config', { dns_config: { servers: ['10.10.10.10'], searches: ['google.com'], options: ['ndots:8'] } });
    const podId = await runPodSandbox(cri, podConfig);
    const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-DNS-config-test-');
    await startContainer(cri, c);
    const resolv = await execSyncContainer(cri, c, ['cat', '/etc/resolv.conf']);
    for (const line of ['nameserver 10.10.10.10', 'search google.com', 'options ndots:8']) expect(resolv).toContain(line);
    await cleanupPodSandbox(cri, podId);
  });

  it("no DNS config, or an empty one (critest's namespace sandboxes send one): the node's resolv.conf, as containerd", async () => {
    const node = fs.readFileSync('/etc/resolv.conf', 'utf8');
    for (const extra of [{}, { dns_config: {} }]) {
      const podConfig = defaultSandboxConfig('no-dns-', extra);
      const podId = await runPodSandbox(cri, podConfig);
      const c = await createDefaultContainer(cri, podId, podConfig, 'no-dns-');
      await startContainer(cri, c);
      const resolv = await execSyncContainer(cri, c, ['cat', '/etc/resolv.conf']);
      for (const line of node.split('\n').filter((l) => /^(nameserver|search|options) /.test(l))) expect(resolv).toContain(line);
      await cleanupPodSandbox(cri, podId);
    }
  });

  it('runtime should support set hostname [Conformance] (critest: networking.go)', async () => {
    const podConfig = defaultSandboxConfig('create-PodSandbox-with-hostname', { hostname: 'test-hostname' });
    const podId = await runPodSandbox(cri, podConfig);
    const c = await createDefaultContainer(cri, podId, podConfig, 'container-for-hostname-test-');
    await startContainer(cri, c);
    expect((await execSyncContainer(cri, c, ['hostname'])).trim().toLowerCase()).toBe('test-hostname');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support port mapping with only container port [Conformance] (critest: networking.go)', async () => {
    const podConfig = defaultSandboxConfig('create-PodSandbox-with-port-mapping', { port_mappings: [{ container_port: 80 }] });
    const podId = await runPodSandbox(cri, podConfig);
    const c = await createWebServerContainer(podId, podConfig, 'container-for-container-port');
    await startContainer(cri, c);
    const ip = (await getPodSandboxStatus(cri, podId)).network.ip;
    expect(ip).toMatch(/^10\.77\.0\.\d+$/);
    await checkMainPage(`http://${ip}:80/`);
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support port mapping with host port and container port [Conformance] (critest: networking.go)', async () => {
    const podConfig = defaultSandboxConfig('create-PodSandbox-with-port-mapping', { port_mappings: [{ container_port: 80, host_port: HOST_PORT }] });
    const podId = await runPodSandbox(cri, podConfig);
    const c = await createWebServerContainer(podId, podConfig, 'container-for-host-port');
    await startContainer(cri, c);
    await checkMainPage(`http://127.0.0.1:${HOST_PORT}/`);
    // Through the node's own address too (the bridge's gateway here), as a client off the node would reach it.
    const gateway = (await getPodSandboxStatus(cri, podId)).network.ip.replace(/\.\d+$/, '.1');
    await checkMainPage(`http://${gateway}:${HOST_PORT}/`);

    // issue 13: the same host port for another sandbox is refused, and nothing of that sandbox stays.
    const other = defaultSandboxConfig('port-taken-', { port_mappings: [{ container_port: 80, host_port: HOST_PORT }] });
    const err = await grpcError(cri.runtime('RunPodSandbox', { config: other }));
    expect(err).toEqual({ code: status.ALREADY_EXISTS, details: expect.stringMatching(new RegExp(`^hostPort ${HOST_PORT}/TCP \\(CNI portmap, container "${podId}"\\): already published by another pod$`)) });
    expect((await cri.runtime('ListPodSandbox', {})).items.filter((s: { metadata: { name: string } }) => s.metadata.name === other.metadata.name)).toEqual([]);
    const leases = fs.readdirSync(path.join(h.podns.root, 'cni', 'ipam', 'kcri')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    expect(leases).toHaveLength(1);
    await cleanupPodSandbox(cri, podId);
    // The port is free again, and its DNAT rules are gone.
    const nat = await h.podns.inNetns(['iptables-save', '-t', 'nat']);
    expect(String(nat.stdout)).not.toMatch(new RegExp(`--dport ${HOST_PORT}\\b`));
  });

  it('host network: no CNI (no address, no veth), the node\'s interfaces; a port mapping there is only the container port', async () => {
    const podConfig = defaultSandboxConfig('host-network-', { linux: { cgroup_parent: '', security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } } });
    const podId = await runPodSandbox(cri, podConfig);
    const s = await getPodSandboxStatus(cri, podId);
    expect(s.network.ip).toBe('');
    expect(s.linux.namespaces.options.network).toBe('NODE');
    const c = await createDefaultContainer(cri, podId, podConfig, 'host-network-');
    await startContainer(cri, c);
    const links = await execSyncContainer(cri, c, ['cat', '/proc/net/dev']);
    const nodeLinks = String((await h.podns.inNetns(['cat', '/proc/net/dev'])).stdout);
    const names = (text: string) => text.split('\n').filter((l) => l.includes(':')).map((l) => l.split(':')[0]!.trim()).sort();
    expect(names(links)).toEqual(names(nodeLinks));
    expect(names(links)).toContain('kcri0');
    await cleanupPodSandbox(cri, podId);
  });
});
