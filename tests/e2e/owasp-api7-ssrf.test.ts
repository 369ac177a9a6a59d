// OWASP API7:2023, server-side request forgery. The one URL the API calls on someone else's say is
// a partner's webhook URL (PUT /v1/admin/partners/{id}/subscription): every other outbound request
// goes to a backend named by configuration, or to a URL the API signed itself (the Node worker's
// avatar transfers). An administrator's typo or a stolen admin session must not aim our signed
// POSTs at our own network, so under production rules (PARTNER_WEBHOOK_ALLOW_PRIVATE=false, set
// explicitly here) every spelling of an inside address is refused at configuration with 422, a URL
// stored under looser rules is refused again before it is called, and no redirect is followed.
//
// Host names are judged as written, never resolved (Workers cannot resolve names): a public name
// whose DNS answers with 127.0.0.1 is taken. On Workers the POST then leaves from Cloudflare's
// network, where our private addresses lead nowhere; the Deno and Node entries need an egress
// firewall for it (docs/partner-webhooks.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type IdentityWorker, startIdentityWorker } from './harness/identity.ts';
import {
  type Admin,
  adminOf,
  asAdmin,
  createPartner,
  deliverNotify,
  type HostileServer,
  retryReason,
  startHostileServer,
  subscribe,
} from './harness/owasp-flows.ts';

let strict: IdentityWorker;
let strictAdmin: Admin;
let lenient: IdentityWorker;
let lenientAdmin: Admin;
/** Where a forged request would land inside our network: it must never see one. */
let internal: HostileServer;

beforeAll(async () => {
  internal = await startHostileServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"internal"}');
  });
  [strict, lenient] = await Promise.all([
    startIdentityWorker({ PARTNER_WEBHOOK_ALLOW_PRIVATE: 'false' }),
    // Only for the receivers of the redirect tests, which can only run on 127.0.0.1.
    startIdentityWorker({ PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true' }),
  ]);
  [strictAdmin, lenientAdmin] = await Promise.all([adminOf(strict), adminOf(lenient)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([strict?.close(), lenient?.close(), internal?.close()]);
});

async function expectRefusedWebhookUrl(partnerId: string, webhookUrl: string): Promise<string> {
  const response = await subscribe(strict, strictAdmin, partnerId, webhookUrl);
  const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  const fields = (body.error.details as { fields: { path: string; message: string }[] }).fields;
  expect(fields).toEqual([expect.objectContaining({ path: 'webhookUrl' })]);
  return fields[0]?.message ?? '';
}

describe('a webhook URL, at configuration (production rules)', () => {
  let partnerId: string;

  beforeAll(async () => {
    partnerId = await createPartner(strict, strictAdmin);
  });

  it.each([
    ['loopback', 'https://127.0.0.1/hook'],
    ['loopback, another address of 127/8', 'https://127.9.8.7:8443/hook'],
    ['loopback by name', 'https://localhost/hook'],
    ['loopback by name, fully qualified', 'https://localhost./hook'],
    ['loopback by name, in capitals', 'https://LOCALHOST/hook'],
    ['loopback by name, full-width letters', 'https://ｌｏｃａｌｈｏｓｔ/hook'],
    ['a .localhost name', 'https://admin.localhost/hook'],
    ['loopback in decimal', 'https://2130706433/hook'],
    ['loopback in hex', 'https://0x7f000001/hook'],
    ['loopback in dotted hex', 'https://0x7f.1/hook'],
    ['loopback in octal', 'https://0177.0.0.1/hook'],
    ['loopback, short form', 'https://127.1/hook'],
    ['loopback, circled digits', 'https://①②⑦.0.0.1/hook'],
    ['loopback, ideographic dots', 'https://127。0。0。1/hook'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv6 loopback, written out', 'https://[0:0:0:0:0:0:0:1]/hook'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/hook'],
    ['IPv4-mapped IPv6 loopback, in hex', 'https://[::ffff:7f00:1]/hook'],
    ['6to4 carrying loopback', 'https://[2002:7f00:1::]/hook'],
    ['10/8', 'https://10.0.0.1/hook'],
    ['10/8 in octal', 'https://012.0.0.1/hook'],
    ['10/8, IPv4-mapped', 'https://[::ffff:10.1.2.3]/hook'],
    ['172.16/12, first address', 'https://172.16.0.1/hook'],
    ['172.16/12, last network', 'https://172.31.255.254/hook'],
    ['172.16/12 in hex', 'https://0xac100001/hook'],
    ['192.168/16', 'https://192.168.1.1/hook'],
    ['192.168/16 in decimal', 'https://3232235521/hook'],
    ['IPv6 unique-local', 'https://[fd00::1]/hook'],
    ['carrier-grade NAT', 'https://100.64.0.1/hook'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data/'],
    ['cloud metadata in decimal', 'https://2852039166/latest/meta-data/'],
    ['cloud metadata in octal', 'https://0251.0376.0251.0376/latest/meta-data/'],
    ['cloud metadata in hex', 'https://0xa9fea9fe/latest/meta-data/'],
    ['cloud metadata, IPv4-mapped', 'https://[::ffff:169.254.169.254]/latest/meta-data/'],
    ['cloud metadata by name', 'https://metadata.google.internal/computeMetadata/v1/'],
    ['cloud metadata by name, fully qualified', 'https://metadata.google.internal./v1/'],
    ['a cloud-internal name', 'https://instance-data.ec2.internal/latest/'],
    ['a Kubernetes service', 'https://redis.default.svc/'],
    ['an mDNS name', 'https://printer.local/'],
    ['a name without a domain', 'https://intranet/hook'],
    ['IPv6 link-local', 'https://[fe80::1]/hook'],
    ['unspecified', 'https://0.0.0.0/hook'],
    ['unspecified, short form', 'https://0/hook'],
    ['IPv6 unspecified', 'https://[::]/hook'],
    ['multicast', 'https://224.0.0.1/hook'],
    ['broadcast', 'https://255.255.255.255/hook'],
    ['plain http, public host', 'http://hooks.partner.example/hook'],
    ['ftp', 'ftp://hooks.partner.example/hook'],
    ['file', 'file:///etc/passwd'],
    ['gopher', 'gopher://127.0.0.1:6379/_FLUSHALL'],
    ['dict', 'dict://127.0.0.1:11211/stats'],
    ['websocket', 'wss://hooks.partner.example/hook'],
    ['javascript', 'javascript:alert(1)'],
    ['data', 'data:text/plain,hello'],
    ['a user and password', 'https://user:secret@hooks.partner.example/hook'],
    ['a user name', 'https://token@hooks.partner.example/hook'],
    ['credentials naming loopback', 'https://hooks.partner.example:443@127.0.0.1/hook'],
    ['no scheme', 'hooks.partner.example/hook'],
  ])('refuses %s: %s', async (_, webhookUrl) => {
    await expectRefusedWebhookUrl(partnerId, webhookUrl);
  });

  it('says why, naming the address as the parser read it', async () => {
    expect(await expectRefusedWebhookUrl(partnerId, 'https://0x7f.1/hook')).toBe(
      'webhookUrl must not point at a loopback address (127.0.0.1)',
    );
    expect(await expectRefusedWebhookUrl(partnerId, 'https://2852039166/')).toBe(
      'webhookUrl must not point at a link-local address (169.254.169.254)',
    );
  });

  it('stored nothing for any refusal: the partner has no webhook URL', async () => {
    const response = await asAdmin(strict, strictAdmin, 'GET', '/v1/admin/partners');
    const { data } = (await response.json()) as { data: { id: string; webhookUrl: unknown }[] };
    expect(data.find((partner) => partner.id === partnerId)?.webhookUrl).toBeNull();
  });

  it('judges the host the URL will call, whatever else it carries', async () => {
    // A fragment or a backslash can make a naive parser see 127.0.0.1; the URL parser, which also
    // writes the URL that is stored and called, sees the public host.
    for (const [webhookUrl, stored] of [
      ['https://hooks.partner.example#@127.0.0.1/', 'https://hooks.partner.example/#@127.0.0.1/'],
      ['https://hooks.partner.example\\@127.0.0.1/', 'https://hooks.partner.example/@127.0.0.1/'],
    ] as const) {
      const response = await subscribe(strict, strictAdmin, partnerId, webhookUrl);
      expect(response.status, await response.clone().text()).toBe(200);
      const { data } = (await response.json()) as { data: { webhookUrl: string } };
      expect(data.webhookUrl).toBe(stored);
    }
  });

  it('takes a public name whatever its DNS says: names are not resolved', async () => {
    // 127.0.0.1.nip.io answers 127.0.0.1 on the public DNS. Judged by name, it passes; on Workers
    // the POST leaves from Cloudflare's network, where it reaches none of our machines.
    const response = await subscribe(strict, strictAdmin, partnerId, 'https://127.0.0.1.nip.io/');
    expect(response.status, await response.clone().text()).toBe(200);
    await response.arrayBuffer();
  });
});

describe('a webhook URL, at delivery', () => {
  it.each([
    ['plain http to this machine', () => `${internal.url}/hook`, 'must use https'],
    [
      'https to 10/8',
      () => 'https://10.0.0.7/hook',
      'must not point at a private address (10.0.0.7)',
    ],
  ])(
    'is checked again: %s, stored under looser rules, is dead-lettered, never called',
    async (_, storedUrl, reason) => {
      const partnerId = await createPartner(strict, strictAdmin);
      const subscribed = await subscribe(
        strict,
        strictAdmin,
        partnerId,
        'https://hooks.partner.example/nexus',
      );
      expect(subscribed.status).toBe(200);
      await subscribed.arrayBuffer();
      // As a deployment that once ran with PARTNER_WEBHOOK_ALLOW_PRIVATE would have stored it.
      await strict.db.execute({
        sql: 'UPDATE partners SET webhook_url = ? WHERE id = ?',
        args: [storedUrl(), partnerId],
      });

      const { response } = await deliverNotify(strict, partnerId);
      const body = await expectErrorEnvelope(response, 489, 'JOB_FAILED');
      expect(response.headers.get('upstash-nonretryable-error')).toBe('true');
      expect(body.error.details).toEqual({
        error: `the partner's webhook URL is refused: it ${reason}`,
      });
      expect(internal.paths).toEqual([]);
    },
  );

  // No public receiver can run in a test, so these run on the Worker that takes 127.0.0.1 (the
  // receiver's address) as a webhook URL. What they show holds under any rules: a redirect is
  // not followed at all, whether it points inside our network or anywhere else.
  describe('a receiver that redirects', () => {
    let redirecting: HostileServer;

    beforeAll(async () => {
      redirecting = await startHostileServer((request, response) => {
        const [, status = '307', target = 'internal'] = (request.url ?? '').split('/');
        const location =
          target === 'metadata'
            ? 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'
            : `${internal.url}/admin`;
        response.writeHead(Number(status), { location }).end();
      });
    });

    afterAll(async () => {
      await redirecting?.close();
    });

    it.each([
      [301, 'internal'],
      [302, 'internal'],
      [303, 'internal'],
      [307, 'internal'],
      [308, 'internal'],
      [307, 'metadata'],
    ])(
      'answering %i to %s is a failed attempt, retried at the same URL',
      async (status, target) => {
        const partnerId = await createPartner(lenient, lenientAdmin);
        const subscribed = await subscribe(
          lenient,
          lenientAdmin,
          partnerId,
          `${redirecting.url}/${status}/${target}`,
        );
        expect(subscribed.status).toBe(200);
        await subscribed.arrayBuffer();

        const { jobId, response } = await deliverNotify(lenient, partnerId);
        await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
        expect(await retryReason(lenient, jobId)).toBe(
          `${new URL(redirecting.url).host} answered ${status} (redirects are not followed)`,
        );
        expect(redirecting.paths).toContain(`/${status}/${target}`);
        expect(internal.paths).toEqual([]);
      },
    );
  });
});
