// OWASP API8:2023, security misconfiguration, as a client of the real Worker sees it: the security
// headers on every kind of answer (success, error, 404, 405, a file's bytes, the /docs page, the
// OpenAPI document, a refused preflight), the /docs page's own CSP, CORS that grants nothing to an
// origin not configured, error bodies that never carry a stack, SQL, a file path or a library's
// name (however the request is malformed, and when the database fails or answers with its own
// internals), and methods no route takes answered with the envelope.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'miniflare';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalFaultText } from '../../src/modules/diagnostics/diagnostics.handlers.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  newClientIp,
  register,
  startIdentityWorker,
} from './harness/identity.ts';
import { multipartFiles, rawHttp } from './harness/multipart.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

const allowedOrigin = 'https://app.example.com';
/** What a database's own error says: SQL, a file path, a stack frame, the driver's name. */
const databaseInternals =
  'SQLITE_ERROR: no such column: password_hash in "SELECT password_hash FROM users" ' +
  'at Object.execute (/srv/nexus/node_modules/@libsql/hrana-client/lib/http.js:42:7)';

let worker: IdentityWorker;
/** Production configuration, its database answering every statement with its internals. */
let leakyDatabase: E2eWorker;
/** Production configuration, its database at a host name that does not resolve. */
let unresolvableDatabase: E2eWorker;
let database: Server;
let token: string;
let file: { id: string; url: string };

/** A libSQL server that speaks Hrana over HTTP (v2) and fails every statement, saying too much. */
function startLeakyDatabase(): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'GET') {
        response.writeHead(request.url === '/v2' ? 200 : 404).end();
        return;
      }
      const { requests = [] } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
        requests?: { type: string }[];
      };
      const results = requests.map((step) =>
        step.type === 'close'
          ? { type: 'ok', response: { type: 'close' } }
          : { type: 'error', error: { message: databaseInternals, code: 'SQLITE_ERROR' } },
      );
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ baton: null, base_url: null, results }));
    });
  });
  return new Promise((listening) => server.listen(0, '127.0.0.1', () => listening(server)));
}

beforeAll(async () => {
  database = await startLeakyDatabase();
  const { port } = database.address() as AddressInfo;
  const production = { APP_ENV: 'production', RATE_LIMIT_GENERAL: '100000/1h' };
  [worker, leakyDatabase, unresolvableDatabase] = await Promise.all([
    startIdentityWorker({ CORS_ORIGINS: allowedOrigin }),
    startE2eWorker({ vars: { ...production, TURSO_DATABASE_URL: `http://127.0.0.1:${port}` } }),
    startE2eWorker({
      vars: { ...production, TURSO_DATABASE_URL: 'libsql://nexus-edge-db.invalid' },
    }),
  ]);
  const user = await register(worker, 'misconfig');
  token = user.session.accessToken;
  const png = await sharp({
    create: { width: 8, height: 8, channels: 3, background: '#204060' },
  })
    .png()
    .toBuffer();
  const upload = await multipartFiles([{ name: 'pixel.png', bytes: png, type: 'image/png' }]);
  [file] = await dataOf<[{ id: string; url: string }]>(
    await worker.fetch('/v1/files', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': upload.contentType },
      body: upload.body,
    }),
    201,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([worker?.close(), leakyDatabase?.close(), unresolvableDatabase?.close()]);
  database?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  call(worker, 'GET', path, { ip: newClientIp(), headers });

const postJson = (
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  contentType = 'application/json',
) =>
  worker.fetch(path, {
    method: 'POST',
    headers: { 'content-type': contentType, 'cf-connecting-ip': newClientIp() },
    body,
  });

const encoder = new TextEncoder();
/** JSON text with raw bytes inside, such as bytes no UTF-8 text contains. */
const bytesAround = (before: string, bytes: number[], after: string) =>
  new Uint8Array([...encoder.encode(before), ...bytes, ...encoder.encode(after)]);

/** Names of what runs behind the API, and traces of its code: none may reach a client. */
const internals =
  /\bat \S+ \(|\.(?:ts|js|mjs):\d+|node_modules|\/(?:srv|src|home|tmp|usr|work)\/|\bSELECT\b|\bINSERT INTO\b|\bDELETE FROM\b|sqlite|libsql|hrana|drizzle|upstash|\bzod\b|\bhono\b|\bjose\b|workerd|miniflare|\b(?:Type|Reference|Range|Syntax)Error\b|stack|\.invalid\b|127\.0\.0\.1/i;

describe('security headers', () => {
  const answers: [string, () => Promise<Response>][] = [
    ['a JSON success', () => get('/health')],
    ['an authenticated JSON answer', () => get('/v1/me', { authorization: `Bearer ${token}` })],
    ['a 400', () => postJson('/diagnostics/echo', '{"message":')],
    ['a 401', () => get('/v1/me')],
    ['a 404', () => get('/no/such/route')],
    ['a 405', () => worker.fetch('/health', { method: 'DELETE' })],
    ['a 500', () => get('/diagnostics/error')],
    ['a 503', () => leakyDatabase.fetch('/health/ready')],
    ['a file’s bytes', () => get(file.url, { authorization: `Bearer ${token}` })],
    ['the /docs page', () => get('/docs')],
    ['the OpenAPI document', () => get('/openapi.json')],
    [
      'a refused preflight',
      () =>
        worker.fetch('/v1/me', {
          method: 'OPTIONS',
          headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' },
        }),
    ],
  ];

  it.each(answers)('come with %s', async (_, send) => {
    const response = await send();
    await response.arrayBuffer();
    const headers = response.headers;
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    const policy = headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/(^|; )default-src 'none'(;|$)/);
    expect(policy).toMatch(/(^|; )frame-ancestors 'none'(;|$)/);
    const hsts = /^max-age=(\d+); includeSubDomains/.exec(
      headers.get('strict-transport-security') ?? '',
    );
    expect(Number(hsts?.[1])).toBeGreaterThanOrEqual(180 * 24 * 3600);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('cross-origin-resource-policy')).toBe('same-site');
    expect(headers.get('x-powered-by')).toBeNull();
    expect(headers.get('server')).toBeNull();
    expect(headers.get('cache-control')).not.toBeNull();
  });

  it('tell caches to keep no copy of an answer about the caller', async () => {
    for (const response of [
      await get('/v1/me', { authorization: `Bearer ${token}` }),
      await get('/v1/api-keys', { authorization: `Bearer ${token}` }),
      await get('/v1/me'),
    ]) {
      await response.arrayBuffer();
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('serve a file as the type its bytes are, never sniffed, inline only for an image', async () => {
    const response = await get(file.url, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-disposition')).toMatch(/^inline; /);
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
  });
});

describe('the /docs page', () => {
  const page = async () => {
    const response = await get('/docs');
    expect(response.status).toBe(200);
    const policy = response.headers.get('content-security-policy') ?? '';
    return { html: await response.text(), policy };
  };

  it('runs only scripts from this origin and the inline one with this request’s nonce', async () => {
    const { html, policy } = await page();
    const directives = new Map(
      policy.split('; ').map((directive) => {
        const [name = '', ...sources] = directive.split(' ');
        return [name, sources];
      }),
    );
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
    expect(nonce).toBeDefined();
    expect(directives.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    // Nothing may come from elsewhere: no scheme, host or wildcard in any directive.
    expect(policy).not.toMatch(/https?:|\*|'unsafe-eval'|'strict-dynamic'/);

    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((match) => match[1] ?? '');
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) {
      const source = /\bsrc="([^"]*)"/.exec(attributes)?.[1];
      if (source === undefined) expect(attributes).toContain(`nonce="${nonce}"`);
      else expect(source).toMatch(/^\/(?!\/)/);
    }
  });

  it('draws a new nonce for every request', async () => {
    const [first, second] = await Promise.all([page(), page()]);
    const nonceOf = (policy: string) => /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonceOf(first.policy)).not.toBe(nonceOf(second.policy));
  });

  it('has its script served, before the Worker runs, never sniffed and only to this site', async () => {
    const response = await get('/docs/assets/standalone.esm.js');
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
    // The file that sets those headers is read by the platform, never served.
    const headersFile = await get('/_headers');
    await headersFile.arrayBuffer();
    expect(headersFile.status).toBe(404);
  });

  it('is the only answer allowed to run a script', async () => {
    for (const path of ['/openapi.json', '/health', '/no/such/route']) {
      const response = await get(path);
      await response.arrayBuffer();
      expect(response.headers.get('content-security-policy')).not.toMatch(/script-src/);
    }
  });
});

describe('CORS', () => {
  it.each([
    'https://evil.example.net',
    'https://app.example.com.evil.example.net',
    'https://evil-app.example.com',
    'http://app.example.com',
    'null',
  ])('grants %s nothing, signed in or not', async (origin) => {
    for (const response of [
      await get('/v1/me', { origin, authorization: `Bearer ${token}` }),
      await get('/v1/me', { origin, cookie: '__Host-session=stolen' }),
      await get('/openapi.json', { origin }),
    ]) {
      await response.arrayBuffer();
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('refuses the preflight of a disallowed origin with 403 CORS_ORIGIN_NOT_ALLOWED', async () => {
    const response = await worker.fetch('/v1/me', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example.net',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    await expectErrorEnvelope(response, 403, 'CORS_ORIGIN_NOT_ALLOWED');
    for (const name of ['origin', 'credentials', 'methods', 'headers']) {
      expect(response.headers.get(`access-control-allow-${name}`)).toBeNull();
    }
  });

  it('grants credentials to the configured origin alone, by name, never a wildcard', async () => {
    const response = await get('/v1/me', {
      origin: allowedOrigin,
      authorization: `Bearer ${token}`,
    });
    await response.arrayBuffer();
    expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')).toMatch(/\borigin\b/i);
  });

  it('lets the configured origin use only the API’s methods and headers', async () => {
    const response = await worker.fetch('/v1/me', {
      method: 'OPTIONS',
      headers: {
        origin: allowedOrigin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'x-forwarded-host, content-type',
      },
    });
    expect(response.status).toBe(204);
    await response.arrayBuffer();
    const methods = (response.headers.get('access-control-allow-methods') ?? '').split(',');
    expect(methods.map((method) => method.trim()).sort()).toEqual(
      ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'].sort(),
    );
    expect(response.headers.get('access-control-allow-headers')).not.toMatch(/x-forwarded-host/i);
  });
});

describe('error bodies', () => {
  const provocations: [string, () => Promise<Response>, number, string][] = [
    ['malformed JSON', () => postJson('/diagnostics/echo', '{"message":'), 400, 'BAD_REQUEST'],
    [
      'JSON nested 200,000 deep',
      () => postJson('/diagnostics/echo', '['.repeat(200_000)),
      400,
      'BAD_REQUEST',
    ],
    [
      'bytes that are not UTF-8',
      () =>
        postJson('/v1/auth/login', bytesAround('{"email":"', [0xff, 0xfe], '","password":"x"}')),
      422,
      'VALIDATION_FAILED',
    ],
    [
      'JSON sent as text/plain',
      () => postJson('/v1/auth/login', '{}', 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a field no route takes',
      () =>
        postJson(
          '/v1/auth/login',
          '{"email":"a@example.com","password":"x","role":"admin","__proto__":{"admin":true}}',
        ),
      422,
      'VALIDATION_FAILED',
    ],
    ['SQL in a path parameter', () => get("/v1/users/1'%20OR%20'1'='1"), 422, 'VALIDATION_FAILED'],
    ['a broken percent-escape', () => get('/v1/users/%E0%A4%A'), 422, 'VALIDATION_FAILED'],
    [
      'SQL in query parameters',
      () => get('/v1/products?limit=1e309&sortBy=name;DROP%20TABLE%20users'),
      422,
      'VALIDATION_FAILED',
    ],
    ['a forged cursor', () => get('/v1/products?cursor=%27%20OR%201%3D1--'), 400, 'INVALID_CURSOR'],
    [
      'a garbage bearer token',
      () => get('/v1/me', { authorization: `Bearer ${'x'.repeat(4_000)}.y.z` }),
      401,
      'UNAUTHORIZED',
    ],
    [
      'a token signed with alg none',
      () => get('/v1/me', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' }),
      401,
      'UNAUTHORIZED',
    ],
    [
      'an API key with SQL in it',
      () => get('/v1/me', { 'x-api-key': "sk_' OR 1=1--" }),
      401,
      'API_KEY_INVALID',
    ],
    ['a 405', () => worker.fetch('/v1/me', { method: 'PUT' }), 405, 'METHOD_NOT_ALLOWED'],
    [
      'a WebDAV method',
      () => worker.fetch('/health', { method: 'PROPFIND' }),
      405,
      'METHOD_NOT_ALLOWED',
    ],
    ['an unknown path', () => get('/v1/users/../../etc/passwd'), 404, 'NOT_FOUND'],
    [
      'an uncaught exception with SQL in it',
      () => get('/diagnostics/error'),
      500,
      'INTERNAL_ERROR',
    ],
  ];

  it.each(provocations)('say nothing of the internals for %s', async (_, send, status, code) => {
    const response = await send();
    const raw = await response.clone().text();
    await expectErrorEnvelope(response, status, code);
    expect(raw).not.toMatch(internals);
    expect(raw).not.toContain(internalFaultText);
  });

  describe.each([
    ['answering with its internals', () => leakyDatabase, 500, 'INTERNAL_ERROR'],
    ['at a host that does not resolve', () => unresolvableDatabase, 503, 'SERVICE_UNAVAILABLE'],
  ])('with the database %s', (_, target, status, code) => {
    it.each([
      [
        'a public read',
        (ip: string) => call(target(), 'GET', `/v1/users/${crypto.randomUUID()}`, { ip }),
      ],
      [
        'a sign-in',
        (ip: string) =>
          call(target(), 'POST', '/v1/auth/login', {
            ip,
            body: { email: 'ada@example.com', password: 'Quartz#Meadow7Lantern' },
          }),
      ],
    ])('say nothing of it for %s', async (_, send) => {
      const response = await send(newClientIp());
      const raw = await response.clone().text();
      await expectErrorEnvelope(response, status, code);
      expect(raw).not.toMatch(internals);
    });

    it('say only which backend fails in the readiness probe', async () => {
      const response = await target().fetch('/health/ready');
      const raw = await response.clone().text();
      const body = await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
      expect(body.error.details).toMatchObject({ failing: ['db'] });
      expect(raw).not.toMatch(internals);
    });
  });
});

describe('methods no route takes', () => {
  it('answers TRACE with the envelope: 405 on a route, 404 elsewhere', async () => {
    // fetch refuses to send TRACE, so it goes on a socket of its own.
    const trace = (path: string) =>
      rawHttp(worker.url, {
        method: 'TRACE',
        path,
        headers: { 'content-length': '0', cookie: '__Host-session=secret-cookie-value' },
        body: new Uint8Array(),
      });
    const onRoute = await trace('/health');
    expect(onRoute.status).toBe(405);
    expect(JSON.parse(onRoute.body)).toMatchObject({
      success: false,
      error: { code: 'METHOD_NOT_ALLOWED', details: { allowed: ['GET', 'HEAD'] } },
    });
    const elsewhere = await trace('/no/such/route');
    expect(elsewhere.status).toBe(404);
    expect(JSON.parse(elsewhere.body)).toMatchObject({
      success: false,
      error: { code: 'NOT_FOUND' },
    });
    // Nothing of the request is echoed back, as a TRACE answer would.
    expect(onRoute.body + elsewhere.body).not.toContain('secret-cookie-value');
  });

  it('leaves methods HTTP does not know to the runtime, which refuses them before the app', async () => {
    for (const method of ['TRACK', 'FOO', 'CONNECT']) {
      const answer = await rawHttp(worker.url, {
        method,
        path: '/health',
        headers: { 'content-length': '0' },
        body: new Uint8Array(),
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body).not.toMatch(internals);
    }
  });
});
