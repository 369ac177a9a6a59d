// Gives every request an id: a well-formed incoming X-Request-Id is kept so one id follows a call
// across services; anything else is replaced, so a client cannot inject arbitrary text into logs.
// Ours rather than hono/request-id, which refuses the dots and colons of common trace ids
// (`client-trace:0a1b2c3d.e4`) yet keeps a 3-character one.
import { createMiddleware } from 'hono/factory';
import type { RequestEnv } from '../lib/request-env.ts';

const requestIdHeader = 'X-Request-Id';
const wellFormed = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

function acceptedRequestId(incoming: string | undefined): string | undefined {
  return incoming !== undefined && wellFormed.test(incoming) ? incoming : undefined;
}

export const requestId = () =>
  createMiddleware<RequestEnv>(async (c, next) => {
    const id = acceptedRequestId(c.req.header(requestIdHeader)) ?? crypto.randomUUID();
    c.set('requestId', id);
    c.header(requestIdHeader, id);
    await next();
    // onError and notFound build fresh responses: the id must be on those too.
    c.res.headers.set(requestIdHeader, id);
  });
