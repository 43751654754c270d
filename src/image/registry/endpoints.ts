/**
 * Where a registry is reached: its mirrors first (containerd's hosts.toml order), then the registry itself
 * unless it is listed in `noUpstream`. Docker Hub's API lives at registry-1.docker.io. Plain HTTP only for
 * loopback hosts and the registries the config marks insecure; everything else is HTTPS.
 */
import type { RegistryConfig } from './config.js';

export interface Endpoint {
  /** Base URL without a trailing slash: `https://registry-1.docker.io`, `http://127.0.0.1:5000`. */
  url: string;
  /** `host[:port]` for messages (`registry 127.0.0.1:5000 ...`). */
  host: string;
  mirror: boolean;
}

const LOOPBACK_RE = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d+)?$/;

export function isInsecureHost(host: string, config: RegistryConfig): boolean {
  return LOOPBACK_RE.test(host) || config.insecure.includes(host);
}

/** The endpoints to try for `domain`, in order; pure. */
export function planEndpoints(domain: string, config: RegistryConfig): Endpoint[] {
  const endpoints: Endpoint[] = (config.mirrors[domain] ?? []).map((url) => ({ url, host: new URL(url).host, mirror: true }));
  if (!config.noUpstream.includes(domain)) {
    const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    endpoints.push({ url: `${isInsecureHost(domain, config) ? 'http' : 'https'}://${host}`, host, mirror: false });
  }
  return endpoints;
}
