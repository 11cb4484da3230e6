import { describe, expect, it } from 'vitest';
import { CidrList, parseCidrText, resolveClientIp, CidrError } from './client-ip.js';

describe('CidrList', () => {
  it('matches IPv4 and IPv6 networks and single hosts', () => {
    const l = new CidrList(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']);
    expect(l.contains('192.0.2.200')).toBe(true);
    expect(l.contains('192.0.3.1')).toBe(false);
    expect(l.contains('2001:db8:1::5')).toBe(true);
    expect(l.contains('2001:db9::1')).toBe(false);
    expect(l.contains('198.51.100.7')).toBe(true);
    expect(l.contains('198.51.100.8')).toBe(false);
    expect(l.contains('::ffff:192.0.2.1')).toBe(true);
    expect(l.contains('not-an-ip')).toBe(false);
  });
  it('rejects malformed entries with a Japanese message', () => {
    expect(() => parseCidrText('10.0.0.0/33')).toThrow(CidrError);
    expect(() => parseCidrText('hello')).toThrow(/不正なIPアドレス/);
    expect(parseCidrText('10.0.0.0/8, 127.0.0.1\n::1').entries).toEqual(['10.0.0.0/8', '127.0.0.1/32', '::1/128']);
  });
});

describe('resolveClientIp', () => {
  const trusted = new CidrList(['10.0.0.0/8']);
  it('ignores X-Forwarded-For from untrusted peers (no spoofing)', () => {
    expect(resolveClientIp('203.0.113.9', '1.2.3.4', trusted)).toBe('203.0.113.9');
  });
  it('takes the right-most untrusted hop behind trusted proxies', () => {
    expect(resolveClientIp('10.0.0.2', '1.2.3.4, 198.51.100.1, 10.0.0.3', trusted)).toBe('198.51.100.1');
  });
  it('uses the socket address when there are no trusted proxies', () => {
    expect(resolveClientIp('::ffff:127.0.0.1', '1.2.3.4', new CidrList([]))).toBe('127.0.0.1');
  });
});
