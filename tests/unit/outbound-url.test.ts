// The SSRF check on URLs we call on someone else's say (partners' webhook URLs): every way of
// writing an address inside our network, including the forms the URL parser normalises
// (decimal, octal and hex IPv4, IPv4-mapped IPv6), is refused; public hosts on any port pass; and
// PARTNER_WEBHOOK_ALLOW_PRIVATE's policy lifts only http, loopback and private addresses.
import { describe, expect, it } from 'vitest';
import { checkOutboundUrl } from '../../src/lib/outbound-url.ts';

const strict = { allowPrivate: false };
const local = { allowPrivate: true };

function reasonOf(input: string, policy = strict): string | undefined {
  const check = checkOutboundUrl(input, policy);
  return check.ok ? undefined : check.reason;
}

describe('checkOutboundUrl, strict (production)', () => {
  it.each([
    'https://hooks.acme.example/nexus',
    'https://partner.example.com:8443/webhooks?source=nexus',
    'https://8.8.8.8/',
    'https://100.128.0.1/',
    'https://172.32.0.1/',
    'https://192.169.0.1/',
    'https://[2606:4700:4700::1111]/',
    'https://[::ffff:8.8.8.8]/',
    'https://example.com./',
  ])('takes the public URL %s', (input) => {
    expect(reasonOf(input)).toBeUndefined();
  });

  it('hands back the URL as the parser wrote it, which is what gets called', () => {
    const check = checkOutboundUrl('https://Hooks.ACME.example:443/a/../b', strict);
    expect(check.ok && check.url.href).toBe('https://hooks.acme.example/b');
  });

  it.each([
    ['http://hooks.acme.example/', 'must use https'],
    ['ftp://hooks.acme.example/', 'must use https'],
    ['javascript:alert(1)', 'must use https'],
    ['hooks.acme.example/nexus', 'is not an absolute URL'],
    ['https://', 'is not an absolute URL'],
    ['https://user:pass@hooks.acme.example/', 'must not carry a user name or password'],
    ['https://token@hooks.acme.example/', 'must not carry a user name or password'],
  ])('refuses %s: %s', (input, reason) => {
    expect(reasonOf(input)).toBe(reason);
  });

  it.each([
    // IPv4 loopback in every spelling the URL parser turns into 127.0.0.1.
    ['https://127.0.0.1/', 'loopback'],
    ['https://127.1.2.3:8443/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://0x7f000001/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://017700000001/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://localhost/', 'loopback'],
    ['https://LOCALHOST./', 'loopback'],
    ['https://api.localhost/', 'loopback'],
    // IPv6 loopback, and IPv4 loopback carried in IPv6.
    ['https://[::1]/', 'loopback'],
    ['https://[0:0:0:0:0:0:0:1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::ffff:7f00:1]/', 'loopback'],
    ['https://[::127.0.0.1]/', 'loopback'],
    ['https://[2002:7f00:1::]/', 'loopback'],
    // Private networks.
    ['https://10.0.0.1/', 'private'],
    ['https://10.255.255.255/', 'private'],
    ['https://172.16.0.1/', 'private'],
    ['https://172.31.255.255/', 'private'],
    ['https://192.168.1.1/', 'private'],
    ['https://0xc0.0xa8.1.1/', 'private'],
    ['https://[::ffff:10.1.2.3]/', 'private'],
    ['https://[64:ff9b::192.168.0.1]/', 'private'],
    ['https://[fc00::1]/', 'private'],
    ['https://[fd12:3456:789a::1]/', 'private'],
    ['https://[fec0::1]/', 'private'],
    // Carrier-grade NAT.
    ['https://100.64.0.1/', 'shared'],
    ['https://100.127.255.255/', 'shared'],
    // Link-local, and the cloud metadata services.
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://169.254.0.1/', 'link-local'],
    ['https://[::ffff:169.254.169.254]/', 'link-local'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[febf::1]/', 'link-local'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'metadata'],
    ['https://METADATA.google.internal./', 'metadata'],
    // This network, multicast, reserved.
    ['https://0.0.0.0/', 'unspecified'],
    ['https://0/', 'unspecified'],
    ['https://0.1.2.3/', 'unspecified'],
    ['https://[::]/', 'unspecified'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://239.255.255.250/', 'multicast'],
    ['https://[ff02::1]/', 'multicast'],
    ['https://240.0.0.1/', 'reserved'],
    ['https://255.255.255.255/', 'reserved'],
    // A name without a dot only resolves through a local search domain.
    ['https://intranet/', 'single-label'],
    // Names only a private resolver answers.
    ['https://instance-data.ec2.internal/latest/', 'metadata'],
    ['https://billing.corp.internal/', 'private'],
    ['https://printer.local/', 'private'],
    ['https://api.default.svc/', 'private'],
    ['https://nas.home.arpa/', 'private'],
    // IPv4 carried in other IPv6 forms, tunnels, and ranges that are no one's on the internet.
    ['https://[::ffff:0:7f00:1]/', 'loopback'],
    ['https://[64:ff9b:1::a9fe:a9fe]/', 'private'],
    ['https://[2001::1]/', 'reserved'],
    ['https://[100::1]/', 'reserved'],
    ['https://192.0.0.8/', 'reserved'],
    ['https://198.18.0.1/', 'reserved'],
    ['https://198.19.255.254/', 'reserved'],
  ])('refuses %s (%s)', (input, kind) => {
    const reason = reasonOf(input);
    expect(reason).toMatch(/^must not point at /);
    const words = {
      loopback: 'a loopback address',
      private: 'a private address',
      shared: 'a shared (carrier-grade NAT) address',
      'link-local': 'a link-local address',
      metadata: 'a cloud metadata service',
      unspecified: 'an unspecified address',
      multicast: 'a multicast address',
      reserved: 'a reserved address',
      'single-label': 'a name without a domain',
    } as const;
    expect(reason).toContain(words[kind as keyof typeof words]);
  });

  it('names the host as the parser normalised it', () => {
    expect(reasonOf('http://2130706433/', local)).toBeUndefined();
    expect(reasonOf('https://2130706433/')).toBe(
      'must not point at a loopback address (127.0.0.1)',
    );
    expect(reasonOf('https://[::ffff:127.0.0.1]/')).toBe(
      'must not point at a loopback address ([::ffff:7f00:1])',
    );
  });
});

describe('checkOutboundUrl with PARTNER_WEBHOOK_ALLOW_PRIVATE (local development)', () => {
  it.each([
    'http://127.0.0.1:8080/hooks',
    'http://2130706433/',
    'https://0x7f.1/',
    'http://localhost:3000/',
    'http://[::1]:8080/',
    'https://[::ffff:127.0.0.1]/',
    'http://10.0.0.5/',
    'http://192.168.1.20:9000/',
    'http://[fd00::5]/',
    'http://100.100.1.1/',
    'http://receiver:8080/',
    'https://hooks.acme.example/',
  ])('takes %s', (input) => {
    expect(reasonOf(input, local)).toBeUndefined();
  });

  it.each([
    ['https://169.254.169.254/latest/meta-data', 'a link-local address'],
    ['http://[fe80::1]/', 'a link-local address'],
    ['http://metadata.google.internal/', 'a cloud metadata service'],
    ['http://0.0.0.0:8080/', 'an unspecified address'],
    ['http://[::]/', 'an unspecified address'],
    ['http://224.0.0.1/', 'a multicast address'],
    ['http://255.255.255.255/', 'a reserved address'],
  ])('still refuses %s', (input, what) => {
    expect(reasonOf(input, local)).toContain(what);
  });

  it('still refuses other schemes and credentials', () => {
    expect(reasonOf('ftp://127.0.0.1/', local)).toBe('must use https or http');
    expect(reasonOf('http://user:pass@127.0.0.1/', local)).toBe(
      'must not carry a user name or password',
    );
  });
});
