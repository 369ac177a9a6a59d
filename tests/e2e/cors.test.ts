// CORS from config: the configured origins get their own origin back; any other origin gets no
// CORS grant (a browser then refuses the response) and a refused preflight says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

const allowed = 'https://app.example.com';
const other = 'https://admin.example.com';
let worker: E2eWorker;

beforeAll(async () => {
  worker = await startE2eWorker({ vars: { CORS_ORIGINS: `${allowed}, ${other}` } });
});

afterAll(async () => {
  await worker?.close();
});

const preflight = (origin: string) =>
  worker.fetch('/diagnostics/echo', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-request-id',
    },
  });

describe('an allowed origin', () => {
  it('gets Access-Control-Allow-Origin for that origin, never a wildcard', async () => {
    for (const origin of [allowed, other]) {
      const response = await worker.fetch('/no/such/route', { headers: { origin } });
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(response.headers.get('vary')).toMatch(/origin/i);
      expect(response.headers.get('access-control-expose-headers')).toMatch(/x-request-id/i);
    }
  });

  it('passes a preflight with the methods and headers it may use', async () => {
    const response = await preflight(allowed);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(response.headers.get('access-control-allow-methods')).toMatch(/\bPOST\b/);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
    await response.arrayBuffer();
  });
});

describe('a disallowed origin', () => {
  it.each([
    'https://evil.example.net',
    'https://app.example.com.evil.example.net',
    'http://app.example.com',
    'null',
  ])('%s is never reflected on a simple request', async (origin) => {
    const response = await worker.fetch('/no/such/route', { headers: { origin } });
    await expectErrorEnvelope(response, 404, 'NOT_FOUND');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is refused at preflight with 403 CORS_ORIGIN_NOT_ALLOWED and no CORS grant', async () => {
    const response = await preflight('https://evil.example.net');
    const body = await expectErrorEnvelope(response, 403, 'CORS_ORIGIN_NOT_ALLOWED');
    expect(body.error.message).toContain('https://evil.example.net');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });
});
