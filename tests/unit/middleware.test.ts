// The cross-cutting middleware, seen from a client: request ids, the log line, secure headers,
// CORS, body size and 404/405.
import { compress } from 'hono/compress';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ok } from '../../src/lib/envelope.ts';
import { offlineDeps } from '../support/offline-deps.ts';

function appWithEcho(overrides: Record<string, string> = {}) {
  const { deps, logLines } = offlineDeps(overrides);
  const app = createApp(deps);
  app.post('/echo', async (c) => ok(c, { length: (await c.req.text()).length }));
  app.get('/echo', (c) => ok(c, { hello: 'world' }));
  return { app, logLines };
}

describe('request id', () => {
  it('keeps a well-formed incoming X-Request-Id and echoes it', async () => {
    const { app } = appWithEcho();
    const res = await app.request('/echo', { headers: { 'X-Request-Id': 'client-id-1234' } });
    expect(res.headers.get('X-Request-Id')).toBe('client-id-1234');
    expect(await res.json()).toMatchObject({ meta: { requestId: 'client-id-1234' } });
  });

  it('replaces a malformed one with a fresh UUID', async () => {
    const { app } = appWithEcho();
    const res = await app.request('/echo', { headers: { 'X-Request-Id': 'bad id <script>' } });
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts the same id on error responses and in the one log line', async () => {
    const { app, logLines } = appWithEcho();
    const res = await app.request('/nowhere', { headers: { 'X-Request-Id': 'trace-abcdef01' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('X-Request-Id')).toBe('trace-abcdef01');
    const requestLines = logLines.filter((line) => line.msg === 'request');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      requestId: 'trace-abcdef01',
      method: 'GET',
      path: '/nowhere',
      status: 404,
    });
    expect(typeof requestLines[0]?.durationMs).toBe('number');
  });
});

describe('not found and wrong method', () => {
  it('answers an unknown path with the 404 envelope', async () => {
    const res = await appWithEcho().app.request('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      success: false,
      error: { code: 'NOT_FOUND' },
      meta: { version: '1.0.0' },
    });
  });

  it('answers a known path with the wrong method 405 and Allow', async () => {
    const res = await appWithEcho().app.request('/echo', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, HEAD, POST');
    expect(await res.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });
});

describe('body limit', () => {
  it('refuses a body over MAX_BODY_BYTES with the 413 envelope', async () => {
    const { app } = appWithEcho({ MAX_BODY_BYTES: '16' });
    const res = await app.request('/echo', { method: 'POST', body: 'x'.repeat(17) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 16 } },
    });
  });

  it('lets a body at the limit through', async () => {
    const { app } = appWithEcho({ MAX_BODY_BYTES: '16' });
    const res = await app.request('/echo', { method: 'POST', body: 'x'.repeat(16) });
    expect(res.status).toBe(200);
  });
});

describe('secure headers', () => {
  it('sends a deny-all CSP and the usual hardening headers', async () => {
    const res = await appWithEcho().app.request('/echo');
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('Strict-Transport-Security')).toContain('max-age=');
  });
});

describe('CORS', () => {
  const allowed = 'https://app.example.com';

  it('allows a configured origin, naming it (never *)', async () => {
    const { app } = appWithEcho({ CORS_ORIGINS: `${allowed}, https://admin.example.com` });
    const res = await app.request('/echo', {
      method: 'OPTIONS',
      headers: { Origin: allowed, 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(allowed);
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBe('true');
  });

  it('refuses a preflight from another origin with the envelope', async () => {
    const { app } = appWithEcho({ CORS_ORIGINS: allowed });
    const res = await app.request('/echo', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(await res.json()).toMatchObject({ error: { code: 'CORS_ORIGIN_NOT_ALLOWED' } });
  });

  it('never reflects an unknown origin on a simple request', async () => {
    const { app } = appWithEcho({ CORS_ORIGINS: allowed });
    const res = await app.request('/echo', { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('compression', () => {
  it('compresses where the runtime does not, when asked', async () => {
    const { deps } = offlineDeps();
    const app = createApp(deps, { compress: compress() });
    app.get('/big', (c) => ok(c, { text: 'a'.repeat(4096) }));
    const res = await app.request('/big', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers.get('Content-Encoding')).toBe('gzip');
  });
});
