import { describe, expect, it } from 'vitest';

import {
  checkDownloadUrl,
  downloadPolicy,
  normalizeHost,
} from '../../../server/src/hubspot/legal-review/file-policy.ts';
import { isBlockedAddress } from '../../../server/src/hubspot/legal-review/safe-download.ts';

describe('download address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with a zone'],
    ['fd00::1', 'IPv6 unique local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::7f00:1', 'IPv4-compatible loopback, hex'],
    ['::10.0.0.1', 'IPv4-compatible private'],
    ['::2', 'IPv4-compatible 0.0.0.2'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['2002:7f00:1::', '6to4 of 127.0.0.1'],
    ['2002:a9fe:a9fe::1', '6to4 of 169.254.169.254'],
    ['2002:c0a8:101::', '6to4 of 192.168.1.1'],
    ['64:ff9b::7f00:1', 'NAT64 of 127.0.0.1'],
    ['64:ff9b::10.0.0.1', 'NAT64 of 10.0.0.1'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['not-an-ip', 'not an address'],
    ['2130706433', 'legacy integer form'],
    ['0x7f.1', 'legacy hex form'],
  ])('refuses %s (%s)', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each([
    ['104.16.1.1', 'public IPv4'],
    ['2606:4700::6810:101', 'public IPv6'],
    ['::ffff:104.16.1.1', 'IPv4-mapped public'],
    ['2002:6810:101::1', '6to4 of a public address'],
    ['64:ff9b::6810:101', 'NAT64 of a public address'],
  ])('allows %s (%s)', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('download host normalisation', () => {
  const policy = downloadPolicy({ apiBaseUrl: 'https://api.hubapi.com' });

  it('lowercases and strips one trailing dot', () => {
    expect(normalizeHost('Files.HubSpot.NET.')).toBe('files.hubspot.net');
    const checked = checkDownloadUrl(policy, 'https://Files.HubSpot.net./a.pdf?sig=1');
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.url.toString()).toBe('https://files.hubspot.net/a.pdf?sig=1');
  });

  it.each([
    'https://files..hubspot.net/a.pdf',
    'https://files.hubspot.net../a.pdf',
    'https://.hubspot.net/a.pdf',
    'https://evilhubspot.net/a.pdf',
    'https://hubspot.net.evil.test/a.pdf',
  ])('refuses %s', (url) => {
    expect(checkDownloadUrl(policy, url)).toMatchObject({ ok: false, reason: 'host_not_allowed' });
  });
});

describe('download hosts from the configuration', () => {
  it('always allows the configured API origin, over http only when that origin is http', () => {
    const policy = downloadPolicy({ apiBaseUrl: 'http://stand-in.test:8080' });
    const own = checkDownloadUrl(policy, 'http://stand-in.test:8080/signed-files/abc?t=1');
    expect(own).toMatchObject({ ok: true, trustedOrigin: true });
    expect(checkDownloadUrl(policy, 'http://stand-in.test:9090/f')).toMatchObject({ ok: false });
    const https = downloadPolicy({ apiBaseUrl: 'https://api.example.test' });
    expect(checkDownloadUrl(https, 'https://api.example.test/f')).toMatchObject({ ok: true });
    expect(checkDownloadUrl(https, 'http://files.hubspot.net/f')).toMatchObject({
      ok: false,
      reason: 'scheme_not_allowed',
    });
  });

  it('replaces the built-in list with HUBSPOT_FILE_HOST_SUFFIXES and names the refused host', () => {
    const policy = downloadPolicy({
      apiBaseUrl: 'https://api.hubapi.com',
      fileHostSuffixes: ['files.example.test'],
    });
    expect(checkDownloadUrl(policy, 'https://cdn.files.example.test/a.pdf')).toMatchObject({
      ok: true,
    });
    expect(checkDownloadUrl(policy, 'https://files.hubspot.net/a.pdf?sig=secret')).toEqual({
      ok: false,
      reason: 'host_not_allowed',
      host: 'files.hubspot.net',
    });
  });
});
