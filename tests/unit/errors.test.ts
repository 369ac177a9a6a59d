// Every failure leaves in the envelope with a stable code and the request id, and nothing internal:
// unknown routes, wrong methods, unreadable and invalid bodies, and exceptions of every kind.
import { createRoute, z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ok } from '../../src/lib/envelope.ts';
import { AppError } from '../../src/lib/errors.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const secret = 'SELECT password_hash FROM users WHERE token = sk_live_secret';

const createOrderRoute = createRoute({
  method: 'post',
  path: '/orders',
  request: {
    query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({
            sku: z.string().min(3),
            quantity: z.int().min(1),
            address: z.object({ country: z.string().length(2) }),
          }),
        },
      },
    },
  },
  responses: { 201: { description: 'Created.' } },
});

function testApp() {
  const { deps, logLines } = offlineDeps();
  const app = createApp(deps);
  app.openapi(createOrderRoute, (c) => ok(c, c.req.valid('json'), 201));
  app.get('/boom', () => {
    throw new Error(secret);
  });
  app.get('/teapot', () => {
    throw new HTTPException(418, { message: secret });
  });
  app.get('/forbidden', () => {
    throw new HTTPException(403, { message: 'Not yours' });
  });
  app.get('/busy', () => {
    throw new AppError('RATE_LIMITED', 'Slow down', {
      headers: { 'Retry-After': '30' },
      details: { retryAfterSeconds: 30 },
      cause: new Error(secret),
    });
  });
  return { app, logLines };
}

const validOrder = { sku: 'abc-1', quantity: 2, address: { country: 'FR' } };

function post(body: string, headers: Record<string, string> = {}) {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'client-req-0001', ...headers },
    body,
  };
}

function expectEnvelope(body: unknown, code: string, requestId?: string) {
  expect(body).toMatchObject({
    success: false,
    error: { code, message: expect.any(String) },
    meta: {
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestId: requestId ?? expect.any(String),
      version: '1.0.0',
    },
  });
}

describe('routing errors', () => {
  it('answers an unknown path 404 NOT_FOUND', async () => {
    const res = await testApp().app.request('/no/such/thing');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    const body = await res.json();
    expectEnvelope(body, 'NOT_FOUND', res.headers.get('X-Request-Id') ?? '');
  });

  it('answers a wrong method 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const { app } = testApp();
    const res = await app.request('/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, HEAD');
    const body = await res.json();
    expectEnvelope(body, 'METHOD_NOT_ALLOWED');
    expect(body).toMatchObject({ error: { details: { allowed: ['GET', 'HEAD'] } } });
    const order = await app.request('/orders', { method: 'GET' });
    expect(order.status).toBe(405);
    expect(order.headers.get('Allow')).toBe('POST');
  });
});

describe('request bodies', () => {
  it('accepts a valid body', async () => {
    const res = await testApp().app.request('/orders', post(JSON.stringify(validOrder)));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ success: true, data: validOrder });
  });

  it('answers malformed JSON 400 BAD_REQUEST', async () => {
    const res = await testApp().app.request('/orders', post('{"sku": "abc-1",'));
    expect(res.status).toBe(400);
    expectEnvelope(await res.json(), 'BAD_REQUEST', 'client-req-0001');
  });

  it('answers a body that is not JSON 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await testApp().app.request(
      '/orders',
      post(JSON.stringify(validOrder), { 'Content-Type': 'text/plain' }),
    );
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: unknown };
    expectEnvelope(body, 'UNSUPPORTED_MEDIA_TYPE', 'client-req-0001');
    expect(body.error).toMatchObject({
      message: 'Send the body as application/json, not text/plain',
      details: { accepted: ['application/json'], received: 'text/plain' },
    });
  });

  it('answers a schema failure 422 VALIDATION_FAILED with each field', async () => {
    const bad = { sku: 'a', quantity: 0.5, address: { country: 'France' }, extra: true };
    const res = await testApp().app.request('/orders', post(JSON.stringify(bad)));
    expect(res.status).toBe(422);
    const body = await res.json();
    expectEnvelope(body, 'VALIDATION_FAILED', 'client-req-0001');
    const field = (path: string) => ({
      path,
      message: expect.any(String),
      code: expect.any(String),
    });
    expect(body).toMatchObject({
      error: {
        details: {
          target: 'json',
          fields: [field('sku'), field('quantity'), field('address.country')],
        },
      },
    });
  });

  it('answers an invalid query 422 naming the query field', async () => {
    const res = await testApp().app.request(
      '/orders?dryRun=maybe',
      post(JSON.stringify(validOrder)),
    );
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      error: { details: { target: 'query', fields: [{ path: 'dryRun' }] } },
    });
  });
});

describe('thrown errors', () => {
  it('answers an uncaught exception 500 INTERNAL_ERROR with the request id and nothing else', async () => {
    const { app, logLines } = testApp();
    const res = await app.request('/boom', { headers: { 'X-Request-Id': 'client-req-0500' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('X-Request-Id')).toBe('client-req-0500');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      success: false,
      error: { code: 'INTERNAL_ERROR', message: 'Internal server error' },
      meta: { timestamp: expect.any(String), requestId: 'client-req-0500', version: '1.0.0' },
    });
    expect(text).not.toContain('password_hash');
    expect(text).not.toContain('stack');
    // What the client does not see is in the request's one log line.
    const line = logLines.find((entry) => entry.msg === 'request');
    expect(line).toMatchObject({
      level: 'error',
      requestId: 'client-req-0500',
      status: 500,
      error: { message: secret, stack: expect.stringContaining('Error') },
    });
  });

  it('maps an HTTPException to the code of its status, and an unknown status to 500', async () => {
    const { app } = testApp();
    const forbidden = await app.request('/forbidden');
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({
      error: { code: 'FORBIDDEN', message: 'Not yours' },
    });
    const teapot = await app.request('/teapot');
    expect(teapot.status).toBe(500);
    const text = await teapot.text();
    expectEnvelope(JSON.parse(text), 'INTERNAL_ERROR');
    expect(text).not.toContain('password_hash');
  });

  it('sends an AppError with its status, details and headers but never its cause', async () => {
    const res = await testApp().app.request('/busy');
    expect(res.status).toBe(429);
    expect(res.headers.get('Retry-After')).toBe('30');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'RATE_LIMITED', message: 'Slow down', details: { retryAfterSeconds: 30 } },
    });
    expect(text).not.toContain('cause');
    expect(text).not.toContain('password_hash');
  });
});
