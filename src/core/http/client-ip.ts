import { BlockList, isIP } from 'node:net';

/** Strips the IPv4-mapped IPv6 prefix so 127.0.0.1 and ::ffff:127.0.0.1 compare equal. */
export function normalizeIp(ip: string): string {
  const trimmed = ip.trim().replace(/^\[|\]$/g, '');
  return trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

export class CidrError extends Error {}

/**
 * A set of networks in CIDR notation (IPv4 and IPv6); a bare address means a single host.
 * @example new CidrList(['192.0.2.0/24', '2001:db8::/32']).contains('192.0.2.7') // true
 */
export class CidrList {
  private readonly list = new BlockList();
  readonly entries: string[];

  constructor(cidrs: string[]) {
    this.entries = [];
    for (const raw of cidrs.map((s) => s.trim()).filter(Boolean)) {
      const [addr = '', prefixText] = raw.split('/');
      const ip = normalizeIp(addr);
      const family = isIP(ip);
      if (!family) throw new CidrError(`不正なIPアドレスです: ${raw}`);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!/^\d+$/.test(String(prefixText ?? max)) || prefix < 0 || prefix > max) throw new CidrError(`不正なプレフィックス長です: ${raw}`);
      this.list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      this.entries.push(`${ip}/${prefix}`);
    }
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  contains(ip: string): boolean {
    const n = normalizeIp(ip);
    const family = isIP(n);
    if (!family) return false;
    return this.list.check(n, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Parses a comma/newline separated CIDR list typed by an administrator. Throws CidrError. */
export function parseCidrText(text: string): CidrList {
  return new CidrList(text.split(/[\s,]+/));
}

/**
 * The client's address: the socket peer, unless that peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy.
 */
export function resolveClientIp(socketIp: string | undefined, forwardedFor: string | undefined, trusted: CidrList): string {
  let ip = normalizeIp(socketIp ?? '');
  if (!ip || trusted.empty || !trusted.contains(ip) || !forwardedFor) return ip || 'unknown';
  const hops = forwardedFor.split(',').map((s) => normalizeIp(s)).filter((s) => isIP(s));
  for (let i = hops.length - 1; i >= 0; i--) {
    ip = hops[i]!;
    if (!trusted.contains(ip)) return ip;
  }
  return ip;
}
