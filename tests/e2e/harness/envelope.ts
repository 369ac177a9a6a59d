// The error envelope as a client receives it, checked the same way in every e2e test, so each
// test states only what is particular to it.
import type { Response } from 'miniflare';
import { expect } from 'vitest';

export interface ErrorBody {
  success: false;
  error: { code: string; message: string; details?: unknown };
  meta: { timestamp: string; requestId: string; version: string };
}

/** Asserts status, JSON type, code and the request id (header and body agree); returns the body. */
export async function expectErrorEnvelope(
  response: Response,
  status: number,
  code: string,
): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorBody;
  expect(body).toEqual({
    success: false,
    error: expect.objectContaining({ code, message: expect.any(String) }),
    meta: {
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      requestId: response.headers.get('x-request-id'),
      version: expect.any(String),
    },
  });
  expect(body.meta.requestId).toEqual(expect.any(String));
  return body;
}
