import { describe, expect, it } from 'vitest';
import { formatResolvConf, hostNetworkHostsContent, hostsFileContent, kernelHostname, parseResolvConf, podDomain, podResolvConf } from '../../../src/runtime/pod-files.js';

const HOST = '# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example\noptions timeout:2 rotate\n';

describe('/etc/hosts as kubelet writes it', () => {
  it('pod IP after the fixed entries, aliases one line per hostname under their heading', () => {
    expect(hostsFileContent('web', ['10.89.0.2'], [{ ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] }])).toBe(
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.89.0.2\tweb\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\n127.0.0.1\tbar.local\n',
    );
  });
  it("hostNetwork: the node's file under its own heading", () => {
    expect(hostNetworkHostsContent('127.0.0.1 localhost\n')).toBe('# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n');
  });
});

describe('/etc/resolv.conf per dnsPolicy', () => {
  it('ClusterFirst without cluster DNS and Default use the node file, dnsConfig merged in', () => {
    const conf = podResolvConf(
      { dnsPolicy: 'ClusterFirst', dnsConfig: { nameservers: ['10.0.0.9', '10.0.0.2'], searches: ['svc.example'], options: [{ name: 'timeout', value: '5' }, { name: 'ndots', value: '2' }] } },
      HOST,
    );
    expect(formatResolvConf(conf)).toBe('search corp.example svc.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.9\noptions timeout:5 rotate ndots:2\n');
  });
  it('None takes dnsConfig alone', () => {
    expect(formatResolvConf(podResolvConf({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: [], options: [] } }, HOST))).toBe('nameserver 1.1.1.1\n');
  });
  it('parses domain as the search list and skips comments', () => {
    expect(parseResolvConf('domain a.example # x\nnameserver 1.2.3.4\n')).toEqual({ nameservers: ['1.2.3.4'], searches: ['a.example'], options: [] });
  });
});

describe('subdomain and setHostnameAsFQDN (kubelet GeneratePodHostNameAndDomain, GetNodenameForKernel)', () => {
  it('a subdomain puts the pod in <subdomain>.<namespace>.svc.<cluster domain>, and /etc/hosts names it so', () => {
    expect(podDomain({ subdomain: 'db' }, 'shop', 'cluster.local')).toBe('db.shop.svc.cluster.local');
    expect(podDomain({}, 'shop', 'cluster.local')).toBeUndefined();
    expect(hostsFileContent('db-0', ['10.89.0.9'], [], 'db.shop.svc.cluster.local')).toContain('10.89.0.9\tdb-0.db.shop.svc.cluster.local\tdb-0\n');
  });

  it('the kernel hostname is the FQDN only with setHostnameAsFQDN and a domain, at most 64 characters', () => {
    expect(kernelHostname('db-0', 'db.shop.svc.cluster.local', true)).toBe('db-0.db.shop.svc.cluster.local');
    expect(kernelHostname('db-0', 'db.shop.svc.cluster.local', false)).toBe('db-0');
    expect(kernelHostname('db-0', undefined, true)).toBe('db-0');
    expect(() => kernelHostname('a'.repeat(40), 'db.shop.svc.cluster.local', true)).toThrow(/FQDN a+\.db\.shop\.svc\.cluster\.local is too long \(64 characters is the max, 66 characters requested\)/);
  });
});
