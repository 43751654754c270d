/**
 * The pod's network fields: hostNetwork/hostIPC/hostPID, dnsPolicy and dnsConfig, hostAliases — validated as
 * the API server does (pkg/apis/core/validation: validatePodDNSConfig, validateHostAliases).
 */
import type { PodDNSConfig, PodSpec } from './types.js';
import type { Reporter } from './reporter.js';
import { checkDns1123Subdomain } from './names.js';

type Plain = Record<string, unknown>;

const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIP(text: string): boolean {
  return isIPv4(text) || (/^[0-9a-fA-F:.]+$/.test(text) && text.includes(':') && text.split('::').length <= 2);
}

export function buildPodNetwork(
  r: Reporter,
  s: Plain,
): Pick<PodSpec, 'hostNetwork' | 'hostIPC' | 'hostPID' | 'dnsPolicy' | 'dnsConfig' | 'hostAliases'> {
  const dnsPolicy = r.oneOf('spec.dnsPolicy', (s.dnsPolicy as string | undefined) || 'ClusterFirst', DNS_POLICIES);
  const raw = s.dnsConfig as Plain | undefined;
  let dnsConfig: PodDNSConfig | undefined;
  if (raw) {
    dnsConfig = {
      nameservers: (raw.nameservers as string[] | undefined) ?? [],
      searches: (raw.searches as string[] | undefined) ?? [],
      options: ((raw.options as Plain[] | undefined) ?? []).map((o) => ({
        name: o.name as string,
        ...(o.value !== undefined ? { value: o.value as string } : {}),
      })),
    };
    dnsConfig.nameservers.forEach((ns, i) => {
      if (!isIP(ns)) r.fail(`spec.dnsConfig.nameservers[${i}]`, `invalid value ${JSON.stringify(ns)}: must be a valid IP address`);
    });
    if (dnsConfig.nameservers.length > MAX_NAMESERVERS) {
      r.fail('spec.dnsConfig.nameservers', `too many: must not have more than ${MAX_NAMESERVERS} nameservers`);
    }
    dnsConfig.searches.forEach((domain, i) => {
      r.check(`spec.dnsConfig.searches[${i}]`, checkDns1123Subdomain(domain.replace(/\.$/, '')), domain);
    });
    if (dnsConfig.searches.length > MAX_SEARCHES) r.fail('spec.dnsConfig.searches', `too many: must not have more than ${MAX_SEARCHES} search paths`);
    dnsConfig.options.forEach((o, i) => {
      if (!o.name) r.fail(`spec.dnsConfig.options[${i}].name`, 'required value');
    });
  }
  if (dnsPolicy === 'None' && !(dnsConfig && dnsConfig.nameservers.length > 0)) {
    r.fail('spec.dnsConfig', 'required value: must provide at least one DNS nameserver when `dnsPolicy` is None');
  }

  const hostAliases = ((s.hostAliases as Plain[] | undefined) ?? []).map((a, i) => {
    const ip = a.ip as string;
    if (!isIP(ip)) r.fail(`spec.hostAliases[${i}].ip`, `invalid value ${JSON.stringify(ip)}: must be a valid IP address`);
    const hostnames = (a.hostnames as string[] | undefined) ?? [];
    hostnames.forEach((h, j) => r.check(`spec.hostAliases[${i}].hostnames[${j}]`, checkDns1123Subdomain(h), h));
    return { ip, hostnames };
  });

  return {
    hostNetwork: (s.hostNetwork as boolean | undefined) ?? false,
    hostIPC: (s.hostIPC as boolean | undefined) ?? false,
    hostPID: (s.hostPID as boolean | undefined) ?? false,
    dnsPolicy,
    ...(dnsConfig ? { dnsConfig } : {}),
    hostAliases,
  };
}
