/**
 * From the Pod to what the runtime service is given, as kubelet makes them (kuberuntime_sandbox.go
 * generatePodSandboxConfig, kuberuntime_container.go generateContainerConfig): the sandbox's hostname, DNS, port
 * mappings, namespaces, sysctls and pod cgroup; each container's image, process (env resolved now that the pod
 * has its IP), mounts, stdio and resources. Pure.
 */
import { USERNS_LEASE_DIR } from '../runtime/userns-ranges.js';
import os from 'node:os';
import { podLimits, containerLimits } from '../cgroup/resources.js';
import { hostPortsOf } from '../network/bridge-network.js';
import type { ContainerSpec } from '../manifest/types.js';
import { resolveEnv } from '../runtime/env.js';
import { kernelHostname, podDomain, podHostname } from '../runtime/pod-files.js';
import type { ContainerConfig, SandboxConfig } from '../runtime/records.js';
import { sysctlWrites } from '../security/confinement.js';
import type { PodPaths } from '../state/paths.js';
import type { PodSpecFile } from '../state/pod-state.js';
import { containerMounts } from './container-mounts.js';

/** The pod's DNS domain (<subdomain>.<namespace>.svc.<cluster domain>) when it has a subdomain. */
export function domainOf(spec: PodSpecFile): string | undefined {
  const { pod } = spec;
  // A spec.json written before clusterDomain existed: kubeadm's default, as network-config's.
  return pod.spec.hostNetwork ? undefined : podDomain(pod.spec, pod.metadata.namespace, spec.network.clusterDomain ?? 'cluster.local');
}

/** The kernel hostname: the node's with hostNetwork (the pod shares its UTS namespace), else the pod's (or its FQDN). */
export function hostnameOf(spec: PodSpecFile): string {
  const { pod } = spec;
  return pod.spec.hostNetwork ? os.hostname() : kernelHostname(podHostname(pod.metadata.name, pod.spec.hostname), domainOf(spec), pod.spec.setHostnameAsFQDN);
}

export function sandboxConfig(spec: PodSpecFile, paths: PodPaths): SandboxConfig {
  const { pod } = spec;
  const ps = pod.spec;
  return {
    id: paths.id,
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: spec.uid, attempt: 0 },
    hostname: hostnameOf(spec),
    hosts: { name: podHostname(pod.metadata.name, ps.hostname), domain: domainOf(spec), aliases: ps.hostAliases },
    dns: { dnsPolicy: ps.dnsPolicy, dnsConfig: ps.dnsConfig },
    // Sidecars publish ports too (a proxy's); plain init containers have none.
    portMappings: hostPortsOf([...(ps.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...ps.containers]),
    logDirectory: paths.logDir,
    labels: pod.metadata.labels,
    annotations: pod.metadata.annotations,
    namespaces: {
      network: ps.hostNetwork ? 'node' : 'pod',
      // With hostPID the pause is in the host's PID namespace, and so is every container (as with kubelet).
      pid: ps.hostPID ? 'node' : ps.shareProcessNamespace ? 'pod' : 'container',
      ipc: ps.hostIPC ? 'node' : 'pod',
    },
    sysctls: sysctlWrites(ps),
    ...(spec.cgroup ? { cgroup: { host: spec.cgroup.host, parents: spec.cgroup.parents, limits: podLimits(ps, spec.cgroup.pidsLimit) } } : {}),
    network: spec.network,
    infra: spec.infra,
    ...(spec.userNamespaceRanges ? { userNamespace: { ranges: spec.userNamespaceRanges, leaseDir: process.env.PODNS_USERNS_LEASE_DIR ?? USERNS_LEASE_DIR } } : {}),
  };
}

/** The config of one run of a container: `attempt` is its restart count; `podIP` resolves env that names it. */
export function containerConfig(spec: PodSpecFile, paths: PodPaths, container: ContainerSpec, attempt: number, logPath: string, podIP: string | undefined): ContainerConfig {
  const image = spec.images[container.name]!;
  const process = resolveEnv(spec.processes[container.name]!, podIP);
  return {
    name: container.name,
    attempt,
    image: { name: image.name, id: image.id, layers: image.layers, ...(image.config.StopSignal ? { stopSignal: image.config.StopSignal } : {}) },
    process,
    mounts: containerMounts(container, spec.pod.spec, paths),
    ...(container.stdin ? { stdin: true } : {}),
    ...(container.stdinOnce ? { stdinOnce: true } : {}),
    ...(container.tty ? { tty: true } : {}),
    logPath,
    resources: containerLimits(container, process.confinement.privileged),
  };
}
