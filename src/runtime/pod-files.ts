/**
 * The files kubelet writes for a pod and bind-mounts into every container: /etc/hostname, /etc/hosts
 * (kubelet's managed layout, with the pod IP and hostAliases) and /etc/resolv.conf (dnsPolicy and dnsConfig
 * merged as kubelet does; without cluster DNS, ClusterFirst falls back to the node's file like Default).
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
import type { PodDNSConfig, PodSpec } from '../manifest/types.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

const MAX_NAMESERVERS = 3;

function aliasLines(aliases: PodSpec['hostAliases']): string[] {
  if (aliases.length === 0) return [];
  return ['', '# Entries added by HostAliases.', ...aliases.flatMap((a) => a.hostnames.map((h) => `${a.ip}\t${h}`))];
}

/** kubelet's managedHostsFileContent: with a domain (a subdomain was set), each IP names `<host>.<domain>` too. */
export function hostsFileContent(hostname: string, podIPs: string[], aliases: PodSpec['hostAliases'] = [], domain?: string): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...podIPs.map((ip) => (domain ? `${ip}\t${hostname}.${domain}\t${hostname}` : `${ip}\t${hostname}`)),
    ...aliasLines(aliases),
  ];
  return lines.join('\n') + '\n';
}

/** hostNetwork pods: the node's own hosts file under kubelet's header, then the aliases. */
export function hostNetworkHostsContent(nodeHosts: string, aliases: PodSpec['hostAliases'] = []): string {
  const body = nodeHosts.endsWith('\n') || nodeHosts === '' ? nodeHosts : `${nodeHosts}\n`;
  return ['# Kubernetes-managed hosts file (host network).', body.replace(/\n$/, ''), ...aliasLines(aliases)].join('\n') + '\n';
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) conf.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') conf.searches = rest.filter(Boolean);
    else if (key === 'options') {
      for (const o of rest.filter(Boolean)) {
        const [name, value] = o.split(':', 2);
        conf.options.push(value === undefined ? { name: name! } : { name: name!, value });
      }
    }
  }
  return conf;
}

/** kubelet's appendDNSConfig: extra servers and searches appended without duplicates, options by name. */
function mergeDNSConfig(base: ResolvConf, extra: PodDNSConfig | undefined): ResolvConf {
  if (!extra) return base;
  const unique = (xs: string[]) => [...new Set(xs)];
  const options = new Map(base.options.map((o) => [o.name, o]));
  for (const o of extra.options) options.set(o.name, o);
  return {
    nameservers: unique([...base.nameservers, ...extra.nameservers]),
    searches: unique([...base.searches, ...extra.searches]),
    options: [...options.values()],
  };
}

export function podResolvConf(spec: Pick<PodSpec, 'dnsPolicy' | 'dnsConfig'>, hostResolvConf: string): ResolvConf {
  // There is no cluster DNS: every policy but None starts from the node's file, as kubelet does then.
  const base = spec.dnsPolicy === 'None' ? { nameservers: [], searches: [], options: [] } : parseResolvConf(hostResolvConf);
  const merged = mergeDNSConfig(base, spec.dnsConfig);
  return { ...merged, nameservers: merged.nameservers.slice(0, MAX_NAMESERVERS) };
}

/** containerd's rendering: search first, then one nameserver line each, then options. */
export function formatResolvConf(conf: ResolvConf): string {
  const lines: string[] = [];
  if (conf.searches.length) lines.push(`search ${conf.searches.join(' ')}`);
  for (const ns of conf.nameservers) lines.push(`nameserver ${ns}`);
  if (conf.options.length) lines.push(`options ${conf.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)).join(' ')}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export interface PodFilesInput {
  /** The pod's kernel hostname (/etc/hostname): the FQDN with setHostnameAsFQDN. */
  hostname: string;
  /** With a subdomain: the short name and the domain for /etc/hosts (kubelet writes `<ip> <host>.<domain> <host>`). */
  hostsName?: string;
  domain?: string;
  podIPs: string[];
  spec: Pick<PodSpec, 'dnsPolicy' | 'dnsConfig' | 'hostAliases' | 'hostNetwork'>;
  hostResolvConf?: string;
  hostHosts?: string;
}

export function writePodFiles(etcDir: string, input: PodFilesInput): void {
  fs.mkdirSync(etcDir, { recursive: true });
  const { spec } = input;
  fs.writeFileSync(path.join(etcDir, 'hostname'), `${input.hostname}\n`, { mode: 0o644 });
  const hosts = spec.hostNetwork
    ? hostNetworkHostsContent(readOrEmpty(input.hostHosts ?? '/etc/hosts'), spec.hostAliases)
    : hostsFileContent(input.hostsName ?? input.hostname, input.podIPs, spec.hostAliases, input.domain);
  fs.writeFileSync(path.join(etcDir, 'hosts'), hosts, { mode: 0o644 });
  const resolv = podResolvConf(spec, readOrEmpty(input.hostResolvConf ?? '/etc/resolv.conf'));
  fs.writeFileSync(path.join(etcDir, 'resolv.conf'), formatResolvConf(resolv), { mode: 0o644 });
}

/** kubelet's GeneratePodHostNameAndDomain: a subdomain puts the pod in `<subdomain>.<namespace>.svc.<cluster domain>`. */
export function podDomain(spec: Pick<PodSpec, 'subdomain'>, namespace: string, clusterDomain: string): string | undefined {
  return spec.subdomain ? `${spec.subdomain}.${namespace}.svc.${clusterDomain}` : undefined;
}

/**
 * The hostname the pod's UTS namespace gets (util.GetNodenameForKernel): the short name, or with
 * setHostnameAsFQDN and a domain the FQDN, which may not exceed the kernel's 64 characters.
 */
export function kernelHostname(short: string, domain: string | undefined, asFQDN: boolean | undefined): string {
  if (!asFQDN || !domain) return short;
  const fqdn = `${short}.${domain}`;
  if (fqdn.length > 64) {
    throw new PodnsError('pod.hostname', `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`);
  }
  return fqdn;
}

/** Kubernetes truncates the pod hostname to 63 characters (a DNS label). */
export function podHostname(name: string, specHostname?: string): string {
  return (specHostname ?? name).slice(0, 63).replace(/[-.]+$/, '');
}
