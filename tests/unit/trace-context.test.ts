// W3C Trace Context: which traceparent a request continues, what it answers, the trace id on every
// line logged while serving it, and the traceparent its jobs carry to QStash.
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { prepareJob, publishRequest } from '../../src/jobs/enqueue.ts';
import { ok } from '../../src/lib/envelope.ts';
import { createLogger } from '../../src/lib/logger.ts';
import {
  formatTraceparent,
  parseTraceparent,
  type TraceContext,
  traceOf,
} from '../../src/lib/trace-context.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const parentId = '00f067aa0ba902b7';
const traceparent = `00-${traceId}-${parentId}-01`;

describe('parseTraceparent', () => {
  it('reads a version 00 header: the trace, the caller’s span and the flags', () => {
    expect(parseTraceparent(traceparent)).toEqual({ traceId, parentId, flags: '01' });
    expect(parseTraceparent(`00-${traceId}-${parentId}-00`)).toMatchObject({ flags: '00' });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${parentId}-01`],
    ['an all-zero parent id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${traceId.slice(1)}-${parentId}-01`],
    ['a long parent id', `00-${traceId}-${parentId}0-01`],
    ['one-digit flags', `00-${traceId}-${parentId}-1`],
    ['uppercase hex', `00-${traceId.toUpperCase()}-${parentId}-01`],
    ['version ff', `ff-${traceId}-${parentId}-01`],
    ['version 00 with more after the flags', `${traceparent}-extra`],
    ['a version that is not hex', `0g-${traceId}-${parentId}-01`],
    ['another separator', `00_${traceId}_${parentId}_01`],
  ])('refuses %s', (_, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('reads a later version as far as version 00 goes, keeping only the sampled flag', () => {
    expect(parseTraceparent(`01-${traceId}-${parentId}-03-future`)).toEqual({
      traceId,
      parentId,
      flags: '01',
    });
    expect(parseTraceparent(`cc-${traceId}-${parentId}-02`)).toMatchObject({ flags: '00' });
    expect(parseTraceparent(`01-${traceId}-${parentId}-01future`)).toBeUndefined();
  });
});

describe('traceOf and formatTraceparent', () => {
  it('continue the incoming trace and flags as a span of their own', () => {
    const trace = traceOf(parseTraceparent(traceparent));
    expect(trace).toMatchObject({ traceId, flags: '01' });
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.spanId).not.toBe(parentId);
    expect(formatTraceparent(trace)).toBe(`00-${traceId}-${trace.spanId}-01`);
  });

  it('start a new, sampled trace when none came, with fresh ids each time', () => {
    const first = traceOf(undefined);
    const second = traceOf(undefined);
    expect(first.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.flags).toBe('01');
    expect(second.traceId).not.toBe(first.traceId);
    expect(second.spanId).not.toBe(first.spanId);
    // What we send on is what we accept.
    expect(parseTraceparent(formatTraceparent(first))).toEqual({
      traceId: first.traceId,
      parentId: first.spanId,
      flags: '01',
    });
  });
});

function tracedApp() {
  const { deps, logLines } = offlineDeps();
  const app = createApp(deps);
  app.get('/traced/:name', (c) => {
    c.get('deps').logger.warn('inside the handler', { name: c.req.param('name') });
    return ok(c, { traced: true });
  });
  return { app, logLines };
}

describe('a request’s trace', () => {
  it('answers the incoming trace with its own span as the parent', async () => {
    const { app } = tracedApp();
    const res = await app.request('/traced/ada', { headers: { traceparent } });
    expect(res.status).toBe(200);
    const answered = parseTraceparent(res.headers.get('traceparent') ?? undefined);
    expect(answered).toMatchObject({ traceId, flags: '01' });
    expect(answered?.parentId).not.toBe(parentId);
  });

  it('starts a new trace when the incoming traceparent is invalid, error answers included', async () => {
    const { app } = tracedApp();
    const invalid = `00-${traceId.toUpperCase()}-${parentId}-01`;
    const res = await app.request('/nowhere', { headers: { traceparent: invalid } });
    expect(res.status).toBe(404);
    const answered = parseTraceparent(res.headers.get('traceparent') ?? undefined);
    expect(answered?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(answered?.traceId).not.toBe(traceId);
    expect(res.headers.get('x-request-id')).not.toBeNull();
  });

  it('puts its request id and trace id on the request line and every other line it logs', async () => {
    const { app, logLines } = tracedApp();
    const res = await app.request('/traced/ada?ref=mail', {
      headers: { traceparent, 'x-request-id': 'client-request-0001' },
    });
    expect(res.status).toBe(200);
    const ids = { requestId: 'client-request-0001', traceId };
    // The limiter's warning (Redis is offline here) among them: whatever is logged on the way.
    expect(logLines.map((line) => line.msg)).toEqual([
      'rate limit unavailable; request allowed',
      'inside the handler',
      'request',
    ]);
    for (const line of logLines) expect(line).toMatchObject(ids);
    expect(logLines.at(-1)).toMatchObject({
      method: 'GET',
      route: '/traced/:name',
      path: '/traced/ada',
      status: 200,
    });
  });

  it('labels a request no route answered as unmatched, with the path asked for', async () => {
    const { app, logLines } = tracedApp();
    await app.request('/v1/nothing/here');
    expect(logLines.find((line) => line.msg === 'request')).toMatchObject({
      route: 'unmatched',
      path: '/v1/nothing/here',
      status: 404,
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });
});

describe('a logger’s child', () => {
  it('adds its fields to every line, a line’s own fields winning', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line)));
    const child = logger.child({ requestId: 'r-1', traceId }).child({ job: 'email.welcome' });
    child.info('sent', { job: 'email.verification' });
    child.debug('below the level');
    logger.info('unbound');
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'sent',
        requestId: 'r-1',
        traceId,
        job: 'email.verification',
      }),
      expect.not.objectContaining({ traceId }),
    ]);
  });
});

describe('a job prepared within a request', () => {
  const clock = { now: () => new Date('2026-11-02T10:00:00.000Z') };
  const trace: TraceContext = { traceId, spanId: 'b7ad6b7169203331', flags: '01' };
  const config = {
    JOBS_BASE_URL: 'https://jobs.example.com',
    API_PUBLIC_URL: 'https://api.example.com',
  };
  const welcome = { to: 'ada@example.com', name: 'Ada Lovelace' };

  it('keeps the request’s traceparent in its message and has QStash forward it', () => {
    const job = prepareJob({ clock, trace }, 'email.welcome', welcome);
    const sent = `00-${traceId}-b7ad6b7169203331-01`;
    expect(job.message.traceparent).toBe(sent);
    expect(publishRequest(config, job).headers).toEqual({ traceparent: sent });
  });

  it('carries none when prepared outside a request', () => {
    const job = prepareJob({ clock }, 'email.welcome', welcome);
    expect(job.message).not.toHaveProperty('traceparent');
    expect(publishRequest(config, job)).not.toHaveProperty('headers');
  });
});
