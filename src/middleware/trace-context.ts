// Puts each request in a W3C trace (src/lib/trace-context.ts): a valid incoming traceparent is
// continued, anything else starts a new trace, and the answer's traceparent names the request's
// own span. QStash forwards the traceparent a job was published with, so a job's delivery, here or
// on the Node worker, continues the trace of the request that caused it.
import { createMiddleware } from 'hono/factory';
import type { RequestEnv } from '../lib/request-env.ts';
import {
  formatTraceparent,
  parseTraceparent,
  traceOf,
  traceparentHeader,
} from '../lib/trace-context.ts';

export const traceContext = () =>
  createMiddleware<RequestEnv>(async (c, next) => {
    const trace = traceOf(parseTraceparent(c.req.header(traceparentHeader)));
    const traceparent = formatTraceparent(trace);
    c.set('trace', trace);
    c.header(traceparentHeader, traceparent);
    await next();
    // onError and notFound build fresh responses: the header must be on those too.
    c.res.headers.set(traceparentHeader, traceparent);
  });
