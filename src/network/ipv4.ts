/** IPv4 addresses and CIDR subnets as numbers: the arithmetic IPAM needs, nothing more. */

export interface Subnet {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function parseSubnet(cidr: string): Subnet | undefined {
  const [addr, len] = cidr.split('/');
  const ip = addr === undefined ? undefined : parseIPv4(addr);
  const prefix = Number(len);
  if (ip === undefined || !/^\d+$/.test(len ?? '') || prefix < 8 || prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export function subnetSize(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

/** The gateway (the bridge's own address) is the first host; pods get the rest, broadcast excluded. */
export function gatewayOf(s: Subnet): number {
  return s.base + 1;
}

export function podAddresses(s: Subnet): { first: number; last: number } {
  return { first: s.base + 2, last: s.base + subnetSize(s) - 2 };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIPv4(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ip >= s.base && ip < s.base + subnetSize(s);
}
