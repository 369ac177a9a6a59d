// Every failure leaves the real Worker in the envelope with a stable code and the request id:
// unknown route, wrong method, oversized body, malformed and invalid input, uncaught exception.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalFaultText } from '../../src/modules/diagnostics/diagnostics.handlers.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

const maxBodyBytes = 1_024;
let worker: E2eWorker;

beforeAll(async () => {
  worker = await startE2eWorker({ vars: { MAX_BODY_BYTES: String(maxBodyBytes) } });
});

afterAll(async () => {
  await worker?.close();
});

const json = (body: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});

describe('routing', () => {
  it('answers an unknown path with 404 NOT_FOUND', async () => {
    const response = await worker.fetch('/no/such/route');
    await expectErrorEnvelope(response, 404, 'NOT_FOUND');
  });

  it('answers a known path under the wrong method with 405 and an Allow header', async () => {
    const response = await worker.fetch('/diagnostics/echo', { method: 'DELETE' });
    const body = await expectErrorEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('POST');
    expect(body.error.details).toEqual({ allowed: ['POST'] });
  });

  it('lists GET and HEAD in Allow for a read-only path', async () => {
    const response = await worker.fetch('/health/ready', { method: 'POST' });
    await expectErrorEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('request bodies', () => {
  it('accepts a valid JSON body', async () => {
    const response = await worker.fetch('/diagnostics/echo', json('{"message":"hi","count":2}'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      success: true,
      data: { message: 'hi', count: 2 },
      meta: { requestId: response.headers.get('x-request-id') },
    });
  });

  it('refuses a body over MAX_BODY_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    const oversized = JSON.stringify({ message: 'x'.repeat(maxBodyBytes), count: 1 });
    const response = await worker.fetch('/diagnostics/echo', json(oversized));
    const body = await expectErrorEnvelope(response, 413, 'PAYLOAD_TOO_LARGE');
    expect(body.error.details).toEqual({ maxBytes: maxBodyBytes });
  });

  it('refuses malformed JSON with 400 BAD_REQUEST', async () => {
    const response = await worker.fetch('/diagnostics/echo', json('{"message": '));
    await expectErrorEnvelope(response, 400, 'BAD_REQUEST');
  });

  it('refuses a body that is not JSON with 415, naming the media type it takes', async () => {
    const response = await worker.fetch('/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=ada%40example.com&password=x',
    });
    const body = await expectErrorEnvelope(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(body.error.message).toBe(
      'Send the body as application/json, not application/x-www-form-urlencoded',
    );
    expect(body.error.details).toEqual({
      accepted: ['application/json'],
      received: 'application/x-www-form-urlencoded',
    });
  });

  it('refuses a body that fails the schema with 422 and a detail for each field', async () => {
    const response = await worker.fetch('/diagnostics/echo', json('{"message":"","count":99}'));
    const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
    expect(body.error.details).toMatchObject({
      target: 'json',
      fields: expect.arrayContaining([
        expect.objectContaining({ path: 'message' }),
        expect.objectContaining({ path: 'count' }),
      ]),
    });
  });
});

describe('an uncaught exception', () => {
  it('answers 500 INTERNAL_ERROR with the request id and nothing internal', async () => {
    const response = await worker.fetch('/diagnostics/error', {
      headers: { 'x-request-id': 'e2e-uncaught-0001' },
    });
    const raw = await response.clone().text();
    const body = await expectErrorEnvelope(response, 500, 'INTERNAL_ERROR');
    expect(body.meta.requestId).toBe('e2e-uncaught-0001');
    expect(body.error).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(raw).not.toContain('SELECT');
    expect(raw).not.toContain('credentials');
    expect(raw).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('logs the fault, stack included, on the request line with the same id', async () => {
    await worker.fetch('/diagnostics/error', { headers: { 'x-request-id': 'e2e-uncaught-0002' } });
    const line = await worker.logs.requestLine('e2e-uncaught-0002');
    expect(line).toMatchObject({
      level: 'error',
      method: 'GET',
      path: '/diagnostics/error',
      status: 500,
      error: { message: internalFaultText, stack: expect.stringContaining(internalFaultText) },
    });
  });
});
