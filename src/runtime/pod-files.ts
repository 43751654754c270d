/**
 * The files kubelet writes for a pod and bind-mounts into every container: /etc/hostname, /etc/hosts
 * (kubelet's managed layout) and /etc/resolv.conf (dnsPolicy ClusterFirst without cluster DNS falls back to
 * the node's file, as kubelet does).
 */
import fs from 'node:fs';
import path from 'node:path';

export function hostsFileContent(hostname: string, podIPs: string[]): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...podIPs.map((ip) => `${ip}\t${hostname}`),
  ];
  return lines.join('\n') + '\n';
}

export function writePodFiles(etcDir: string, hostname: string, hostResolvConf = '/etc/resolv.conf'): void {
  fs.mkdirSync(etcDir, { recursive: true });
  fs.writeFileSync(path.join(etcDir, 'hostname'), `${hostname}\n`, { mode: 0o644 });
  fs.writeFileSync(path.join(etcDir, 'hosts'), hostsFileContent(hostname, []), { mode: 0o644 });
  let resolv = '';
  try {
    resolv = fs.readFileSync(hostResolvConf, 'utf8');
  } catch {
    // A node without resolv.conf: containers get an empty one, as kubelet would give them.
  }
  fs.writeFileSync(path.join(etcDir, 'resolv.conf'), resolv, { mode: 0o644 });
}

/** Kubernetes truncates the pod hostname to 63 characters (a DNS label). */
export function podHostname(name: string, specHostname?: string): string {
  return (specHostname ?? name).slice(0, 63).replace(/[-.]+$/, '');
}
