// The signature checks as a sender meets them: what each scheme accepts, and the exact 401 code it
// answers for each way a request can be wrong. QStash deliveries are signed by the local broker's
// signer, partner requests by our own signers, by the signing guide's openssl lines and by its
// TypeScript example, so the guide partners follow is checked against the verifiers it describes.
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import { sha256Hex } from '../../src/lib/opaque-tokens.ts';
import {
  partnerHmacToleranceSeconds,
  signPartnerHmac,
  verifyPartnerHmac,
} from '../../src/lib/signatures/partner-hmac.ts';
import { verifyQstashSignature } from '../../src/lib/signatures/qstash.ts';
import {
  generateStandardWebhookSecret,
  signStandardWebhook,
  standardWebhookToleranceSeconds,
  verifyStandardWebhook,
} from '../../src/lib/signatures/standard-webhooks.ts';
import { createRedis, type Redis } from '../../src/platform/redis.ts';
import { firstSighting, replayWindowSeconds } from '../../src/platform/replay-guard.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const encoder = new TextEncoder();
const now = 1_790_000_000;
const bodyText = '{"id":"evt_123","type":"order.paid","data":{"orderId":"ord_42"}}';
const body = encoder.encode(bodyText);
const tampered = encoder.encode(bodyText.replace('ord_42', 'ord_43'));

/** What the caller is refused with: the 401 and its code, as the error envelope carries them. */
async function refusalOf(check: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await check;
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return { status, code };
  }
  throw new Error('the request was accepted');
}

const refused = (code: string) => ({ status: 401, code });

describe('partner HMAC (X-Timestamp, X-Signature)', () => {
  const secret = 'pws_partner-secret';
  const signed = async (overrides: Partial<Parameters<typeof verifyPartnerHmac>[0]> = {}) => ({
    timestamp: String(now),
    signature: await signPartnerHmac(secret, now, body),
    body,
    secrets: [secret],
    nowSeconds: now,
    ...overrides,
  });

  it('signs hex HMAC-SHA-256 of the timestamp, a dot and the raw body, keyed with the secret text', async () => {
    const expected = createHmac('sha256', secret).update(`${now}.${bodyText}`).digest('hex');
    expect(await signPartnerHmac(secret, now, body)).toBe(expected);
    expect(await signPartnerHmac(secret, String(now), bodyText)).toBe(expected);
  });

  it('accepts a good signature, in upper case too', async () => {
    await expect(verifyPartnerHmac(await signed())).resolves.toBeUndefined();
    const upper = (await signPartnerHmac(secret, now, body)).toUpperCase();
    await expect(verifyPartnerHmac(await signed({ signature: upper }))).resolves.toBeUndefined();
  });

  it('refuses a tampered body, and the same JSON re-serialised, as SIGNATURE_INVALID', async () => {
    expect(await refusalOf(verifyPartnerHmac(await signed({ body: tampered })))).toEqual(
      refused('SIGNATURE_INVALID'),
    );
    const reserialised = encoder.encode(JSON.stringify(JSON.parse(bodyText), null, 1));
    expect(await refusalOf(verifyPartnerHmac(await signed({ body: reserialised })))).toEqual(
      refused('SIGNATURE_INVALID'),
    );
  });

  it('refuses a signature made with another secret as SIGNATURE_INVALID', async () => {
    const input = await signed({ signature: await signPartnerHmac('pws_other', now, body) });
    expect(await refusalOf(verifyPartnerHmac(input))).toEqual(refused('SIGNATURE_INVALID'));
  });

  it('accepts any active secret during a rotation, and none that was removed', async () => {
    const next = 'pws_rotated-secret';
    const byNext = await signPartnerHmac(next, now, body);
    await expect(
      verifyPartnerHmac(await signed({ signature: byNext, secrets: [secret, next] })),
    ).resolves.toBeUndefined();
    await expect(verifyPartnerHmac(await signed({ secrets: [secret, next] }))).resolves.toBe(
      undefined,
    );
    expect(await refusalOf(verifyPartnerHmac(await signed({ secrets: [next] })))).toEqual(
      refused('SIGNATURE_INVALID'),
    );
  });

  it('accepts 5 minutes either way and refuses one second more as SIGNATURE_EXPIRED', async () => {
    expect(partnerHmacToleranceSeconds).toBe(300);
    for (const skew of [-300, 300]) {
      await expect(verifyPartnerHmac(await signed({ nowSeconds: now + skew }))).resolves.toBe(
        undefined,
      );
    }
    for (const skew of [-301, 301]) {
      expect(await refusalOf(verifyPartnerHmac(await signed({ nowSeconds: now + skew })))).toEqual(
        refused('SIGNATURE_EXPIRED'),
      );
    }
    const inMilliseconds = String(now * 1000);
    const input = await signed({
      timestamp: inMilliseconds,
      signature: await signPartnerHmac(secret, inMilliseconds, body),
    });
    expect(await refusalOf(verifyPartnerHmac(input))).toEqual(refused('SIGNATURE_EXPIRED'));
  });

  it('refuses malformed headers as SIGNATURE_MALFORMED', async () => {
    const good = await signPartnerHmac(secret, now, body);
    const cases = [
      { timestamp: `${now}.5` },
      { timestamp: `-${now}` },
      { timestamp: ` ${now}` },
      { timestamp: '1.79e9' },
      { signature: good.slice(1) },
      { signature: `${good}0` },
      { signature: `${good.slice(1)}g` },
      { signature: `sha256=${good}` },
      { signature: Buffer.from(good, 'hex').toString('base64') },
    ];
    for (const overrides of cases) {
      expect(
        await refusalOf(verifyPartnerHmac(await signed(overrides))),
        JSON.stringify(overrides),
      ).toEqual(refused('SIGNATURE_MALFORMED'));
    }
  });

  it('refuses absent or empty headers as SIGNATURE_MISSING', async () => {
    for (const overrides of [
      { timestamp: null },
      { signature: null },
      { timestamp: '' },
      { signature: '' },
    ]) {
      expect(await refusalOf(verifyPartnerHmac(await signed(overrides)))).toEqual(
        refused('SIGNATURE_MISSING'),
      );
    }
  });
});

describe('Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)', () => {
  const secret = generateStandardWebhookSecret();
  const id = 'evt_123';
  const signed = async (overrides: Partial<Parameters<typeof verifyStandardWebhook>[0]> = {}) => ({
    id,
    timestamp: String(now),
    signature: await signStandardWebhook(secret, id, now, body),
    body,
    secrets: [secret],
    nowSeconds: now,
    ...overrides,
  });

  it("reproduces the specification's published test vector", async () => {
    const vector = {
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: '1614265330',
      body: encoder.encode('{"test": 2432232314}'),
      signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    expect(await signStandardWebhook(vector.secret, vector.id, vector.timestamp, vector.body)).toBe(
      vector.signature,
    );
    await expect(
      verifyStandardWebhook({ ...vector, secrets: [vector.secret], nowSeconds: 1614265330 }),
    ).resolves.toBeUndefined();
  });

  it('generates whsec_ secrets of 24 random bytes', () => {
    const secrets = [generateStandardWebhookSecret(), generateStandardWebhookSecret()];
    for (const generated of secrets) {
      expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(Buffer.from(generated.slice('whsec_'.length), 'base64')).toHaveLength(24);
    }
    expect(secrets[0]).not.toBe(secrets[1]);
  });

  it('accepts a good signature', async () => {
    await expect(verifyStandardWebhook(await signed())).resolves.toBeUndefined();
  });

  it('accepts a header listing several signatures when one v1 entry matches', async () => {
    const good = await signStandardWebhook(secret, id, now, body);
    const other = await signStandardWebhook(generateStandardWebhookSecret(), id, now, body);
    for (const header of [
      `${other} ${good}`,
      `${good} ${other}`,
      `v1a,${good.slice(3)} ${good}`,
      `v2,${other.slice(3)}  ${good}`,
    ]) {
      await expect(verifyStandardWebhook(await signed({ signature: header }))).resolves.toBe(
        undefined,
      );
    }
  });

  it('ignores other versions: a header with no matching v1 entry is SIGNATURE_INVALID', async () => {
    const good = await signStandardWebhook(secret, id, now, body);
    for (const header of [`v2,${good.slice(3)}`, `v1a,${good.slice(3)}`]) {
      expect(await refusalOf(verifyStandardWebhook(await signed({ signature: header })))).toEqual(
        refused('SIGNATURE_INVALID'),
      );
    }
  });

  it('refuses a tampered body, another id or another secret as SIGNATURE_INVALID', async () => {
    const other = await signStandardWebhook(generateStandardWebhookSecret(), id, now, body);
    for (const overrides of [{ body: tampered }, { id: 'evt_124' }, { signature: other }]) {
      expect(await refusalOf(verifyStandardWebhook(await signed(overrides)))).toEqual(
        refused('SIGNATURE_INVALID'),
      );
    }
  });

  it('accepts any active secret during a rotation', async () => {
    const next = generateStandardWebhookSecret();
    const byNext = await signStandardWebhook(next, id, now, body);
    await expect(
      verifyStandardWebhook(await signed({ signature: byNext, secrets: [secret, next] })),
    ).resolves.toBeUndefined();
    expect(await refusalOf(verifyStandardWebhook(await signed({ secrets: [next] })))).toEqual(
      refused('SIGNATURE_INVALID'),
    );
  });

  it('accepts 5 minutes either way and refuses one second more as SIGNATURE_EXPIRED', async () => {
    expect(standardWebhookToleranceSeconds).toBe(300);
    for (const skew of [-300, 300]) {
      await expect(verifyStandardWebhook(await signed({ nowSeconds: now + skew }))).resolves.toBe(
        undefined,
      );
    }
    for (const skew of [-301, 301]) {
      expect(
        await refusalOf(verifyStandardWebhook(await signed({ nowSeconds: now + skew }))),
      ).toEqual(refused('SIGNATURE_EXPIRED'));
    }
  });

  it('refuses malformed headers as SIGNATURE_MALFORMED', async () => {
    const good = await signStandardWebhook(secret, id, now, body);
    const cases = [
      { timestamp: `${now}.0` },
      { timestamp: 'yesterday' },
      { signature: good.slice(3) },
      { signature: `v1=${good.slice(3)}` },
      { signature: `v1,${good.slice(3)}!` },
      { signature: `${good},extra` },
      { signature: 'garbage v1=abc' },
    ];
    for (const overrides of cases) {
      expect(
        await refusalOf(verifyStandardWebhook(await signed(overrides))),
        JSON.stringify(overrides),
      ).toEqual(refused('SIGNATURE_MALFORMED'));
    }
  });

  it('accepts a v1 entry listed beside entries it does not understand', async () => {
    const good = await signStandardWebhook(secret, id, now, body);
    await expect(
      verifyStandardWebhook(await signed({ signature: `v1,abc-_ garbage v2,AAAA ${good}` })),
    ).resolves.toBeUndefined();
  });

  it('refuses absent or empty headers as SIGNATURE_MISSING', async () => {
    for (const overrides of [{ id: null }, { timestamp: null }, { signature: null }, { id: '' }]) {
      expect(await refusalOf(verifyStandardWebhook(await signed(overrides)))).toEqual(
        refused('SIGNATURE_MISSING'),
      );
    }
  });
});

describe('QStash (Upstash-Signature), signed by the local broker', () => {
  const keys = { current: 'sig_current_key', next: 'sig_next_key' };
  const url = 'https://api.example.test/jobs/email';
  // The official Receiver checks the token against the real clock.
  const signedAt = Math.floor(Date.now() / 1000);
  const wallClockMs = signedAt * 1000;
  const delivery = (overrides: Partial<Parameters<typeof signDelivery>[0]> = {}) =>
    signDelivery({ url, body, signingKey: keys.current, nowMs: wallClockMs, ...overrides });
  const verify = (signature: string | null, request: { url?: string; body?: Uint8Array } = {}) =>
    verifyQstashSignature({ signature, url, body, ...request }, keys, signedAt);

  it('accepts a delivery signed with the current key, and with the next key', async () => {
    const signed = { id: expect.stringMatching(/^jwt_/), expiresAt: signedAt + 300 };
    await expect(verify(delivery())).resolves.toEqual(signed);
    await expect(verify(delivery({ signingKey: keys.next }))).resolves.toEqual(signed);
  });

  it('accepts an empty body signed as empty', async () => {
    const empty = new Uint8Array();
    await expect(verify(delivery({ body: empty }), { body: empty })).resolves.toMatchObject({
      id: expect.any(String),
    });
  });

  it('refuses a delivery signed with an unknown key as SIGNATURE_INVALID', async () => {
    expect(await refusalOf(verify(delivery({ signingKey: 'sig_stranger' })))).toEqual(
      refused('SIGNATURE_INVALID'),
    );
  });

  it('refuses a body that is not UTF-8 text as SIGNATURE_BODY_MISMATCH: the Receiver hashes text', async () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    expect(await refusalOf(verify(delivery({ body: bytes }), { body: bytes }))).toEqual(
      refused('SIGNATURE_BODY_MISMATCH'),
    );
  });

  it('refuses a tampered body as SIGNATURE_BODY_MISMATCH', async () => {
    expect(await refusalOf(verify(delivery(), { body: tampered }))).toEqual(
      refused('SIGNATURE_BODY_MISMATCH'),
    );
  });

  it('refuses a delivery signed for another URL as SIGNATURE_WRONG_URL', async () => {
    for (const other of [
      'https://api.example.test/jobs/avatar',
      'https://api.example.test/jobs/email?x=1',
      'http://api.example.test/jobs/email',
    ]) {
      expect(await refusalOf(verify(delivery(), { url: other }))).toEqual(
        refused('SIGNATURE_WRONG_URL'),
      );
    }
  });

  it('refuses an expired or not yet valid token as SIGNATURE_EXPIRED', async () => {
    for (const signedAtMs of [wallClockMs - 10 * 60_000, wallClockMs + 10 * 60_000]) {
      expect(await refusalOf(verify(delivery({ nowMs: signedAtMs })))).toEqual(
        refused('SIGNATURE_EXPIRED'),
      );
    }
    const expiredNextKey = delivery({ signingKey: keys.next, nowMs: wallClockMs - 10 * 60_000 });
    expect(await refusalOf(verify(expiredNextKey))).toEqual(refused('SIGNATURE_EXPIRED'));
  });

  it('refuses a token from another issuer as SIGNATURE_WRONG_ISSUER', async () => {
    const token = await new SignJWT({ body: 'irrelevant' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('Someone')
      .setJti('jwt_someone')
      .setSubject(url)
      .setNotBefore(signedAt)
      .setExpirationTime(signedAt + 300)
      .sign(encoder.encode(keys.current));
    expect(await refusalOf(verify(token))).toEqual(refused('SIGNATURE_WRONG_ISSUER'));
  });

  it('refuses garbage as SIGNATURE_MALFORMED and nothing as SIGNATURE_MISSING', async () => {
    const [header, payload] = delivery().split('.');
    for (const garbage of ['not-a-jwt', `${header}.${payload}`, `${header}.${payload}.x.y`]) {
      expect(await refusalOf(verify(garbage)), garbage).toEqual(refused('SIGNATURE_MALFORMED'));
    }
    for (const missing of [null, '']) {
      expect(await refusalOf(verify(missing))).toEqual(refused('SIGNATURE_MISSING'));
    }
  });
});

describe('replay guard, against Redis through the local Upstash REST server', () => {
  const token = 'signatures-test-token';
  // Database 2 is shared with the Deno entry's tests and never flushed: scopes of this run's own.
  const run = `replay-test-${randomUUID()}`;
  let server: RunningHttpServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startTestRedisRest({ redisDb: 2, token });
    redis = createRedis({ url: server.url, token, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('remembers as long as a signature stays valid: its whole window, both ways', () => {
    expect(replayWindowSeconds).toBe(2 * partnerHmacToleranceSeconds);
    expect(replayWindowSeconds).toBe(2 * standardWebhookToleranceSeconds);
  });

  it('says true the first time a value is seen in a scope, false after', async () => {
    expect(await firstSighting(redis, `${run}:p1`, 'sig-a', replayWindowSeconds)).toBe(true);
    expect(await firstSighting(redis, `${run}:p1`, 'sig-a', replayWindowSeconds)).toBe(false);
    expect(await firstSighting(redis, `${run}:p1`, 'sig-b', replayWindowSeconds)).toBe(true);
    expect(await firstSighting(redis, `${run}:p2`, 'sig-a', replayWindowSeconds)).toBe(true);
  });

  it('keeps only a hash of the value, for the window', async () => {
    await firstSighting(redis, `${run}:p3`, 'sig-secret-looking', replayWindowSeconds);
    const key = `seen:${run}:p3:${await sha256Hex('sig-secret-looking')}`;
    expect(await redis.get(key)).toBe(1);
    expect(await redis.get(`seen:${run}:p3:sig-secret-looking`)).toBeNull();
  });

  it('lets exactly one of many simultaneous sightings through', async () => {
    const sightings = await Promise.all(
      Array.from({ length: 25 }, () => firstSighting(redis, `${run}:p4`, 'sig-race', 60)),
    );
    expect(sightings.filter(Boolean)).toHaveLength(1);
  });

  it('forgets a value once its window has passed', async () => {
    expect(await firstSighting(redis, `${run}:p5`, 'sig-short', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await firstSighting(redis, `${run}:p5`, 'sig-short', 1)).toBe(true);
  });
});

describe("the partners' signing guide (docs/partner-webhooks.md)", () => {
  const section = readFileSync(new URL('../../docs/partner-webhooks.md', import.meta.url), 'utf8');
  const blocks = (language: string) =>
    [...section.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
      (match) => match[1] ?? '',
    );
  /** The guide's signing lines of a bash block, run with fixed inputs instead of `date`. */
  const signingLines = (block: string) =>
    block
      .split('\n')
      .filter((line) => /^(KEY_HEX|SIG)=/.test(line))
      .join('\n');
  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const runBash = (script: string, variables: Record<string, string>) =>
    execFileSync('bash', ['-c', `${script}\nprintf '%s' "$SIG"`], {
      env: { ...process.env, ...variables },
      encoding: 'utf8',
    });

  it.skipIf(!hasOpenssl)('signs with openssl exactly as signPartnerHmac does', async () => {
    const [hmacBlock] = blocks('bash');
    const secret = 'pws_Zx8-fixed_secret';
    expect(signingLines(hmacBlock ?? '')).toContain('openssl dgst -sha256 -hmac');
    const signature = runBash(signingLines(hmacBlock ?? ''), {
      TS: String(now),
      BODY: bodyText,
      SECRET: secret,
    });
    expect(signature).toBe(await signPartnerHmac(secret, now, body));
    await expect(
      verifyPartnerHmac({
        timestamp: String(now),
        signature,
        body,
        secrets: [secret],
        nowSeconds: now,
      }),
    ).resolves.toBeUndefined();
  });

  it.skipIf(!hasOpenssl)('signs with openssl exactly as signStandardWebhook does', async () => {
    const [, standardBlock] = blocks('bash');
    const secret = generateStandardWebhookSecret();
    const signature = runBash(signingLines(standardBlock ?? ''), {
      TS: String(now),
      MSG_ID: 'evt_124',
      BODY: bodyText,
      SECRET: secret,
    });
    expect(signature).toBe(await signStandardWebhook(secret, 'evt_124', now, body));
  });

  it('sends with the TypeScript example a request the verifier accepts', async () => {
    const [example] = blocks('ts');
    const folder = await mkdtemp(join(tmpdir(), 'partner-guide-'));
    const received: { path?: string; contentType?: string } = {};
    const secret = 'pws_typescript-example';
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        received.path = request.url;
        received.contentType = request.headers['content-type'];
        const header = (name: string) => (request.headers[name] as string | undefined) ?? null;
        try {
          await verifyPartnerHmac({
            timestamp: header('x-timestamp'),
            signature: header('x-signature'),
            body: new Uint8Array(Buffer.concat(chunks)),
            secrets: [secret],
            nowSeconds: Math.floor(Date.now() / 1000),
          });
          response.writeHead(202, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ success: true, data: { received: true } }));
        } catch (error) {
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: { code: (error as { code: string }).code } }));
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const file = join(folder, 'send-partner-event.ts');
      await writeFile(file, `${example}\nexport { sendPartnerEvent };\n`);
      const { sendPartnerEvent } = (await import(file)) as {
        sendPartnerEvent: (...args: unknown[]) => Promise<unknown>;
      };
      const baseUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const event = { id: 'evt_9', type: 'order.paid', data: { orderId: 'ord_9', note: 'é "q"' } };
      await expect(sendPartnerEvent(baseUrl, 'partner-1', secret, event)).resolves.toEqual({
        success: true,
        data: { received: true },
      });
      expect(received).toEqual({
        path: '/webhooks/partners/partner-1',
        contentType: 'application/json',
      });
      await expect(sendPartnerEvent(baseUrl, 'partner-1', 'pws_wrong', event)).rejects.toThrow(
        /401.*SIGNATURE_INVALID/,
      );
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
      await rm(folder, { recursive: true, force: true });
    }
  });
});
