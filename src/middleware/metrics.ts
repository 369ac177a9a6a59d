// Counts every request into the metrics (src/platform/metrics.ts) once its response is built: its
// route pattern, method, status and duration, and what its wide event says happened on the way
// (cache reads, rate-limit refusals, the job a delivery ran). The increments leave after the
// response, through waitUntil, in one pipelined Redis request. Registered inside the log line's
// middleware, which creates the event, in the edge API and the Node worker alike.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../lib/errors.ts';
import type { LogFields } from '../lib/logger.ts';
import { constantTimeEqual } from '../lib/opaque-tokens.ts';
import type { RequestEnv } from '../lib/request-env.ts';
import { routePattern } from '../lib/route-pattern.ts';
import { waitUntil } from '../lib/wait-until.ts';
import type { EventCounter, MetricsStore, RequestSample } from '../platform/metrics.ts';

type Events = [EventCounter, string][];

// Any other method a client invents would be a series of its own.
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const methodLabel = (method: string) => (knownMethods.has(method) ? method : 'other');

/** `cache` is one outcome, or a list when a request read more than once. */
function cacheEvents(event: LogFields): Events {
  const outcomes = [event.cache ?? []].flat();
  return outcomes.map((outcome) => ['cache_requests_total', String(outcome)]);
}

/** `rateLimit` holds each policy's outcome; `limited` is a 429. */
function refusalEvents(event: LogFields): Events {
  const policies = (event.rateLimit ?? {}) as Record<string, { outcome?: unknown }>;
  return Object.entries(policies)
    .filter(([, result]) => result.outcome === 'limited')
    .map(([policy]) => ['rate_limit_refusals_total', policy]);
}

/**
 * The job a delivery ran: the edge notes its type, the Node worker `{ type, … }`, both once the
 * type is one they run, so no label comes from an unchecked path.
 */
function jobTypeOf(event: LogFields): string | undefined {
  const { job } = event;
  if (typeof job === 'string') return job;
  if (typeof job === 'object' && job !== null && 'type' in job && typeof job.type === 'string') {
    return job.type;
  }
  return undefined;
}

function jobEvents<E extends RequestEnv>(c: Context<E>): Events {
  const type = jobTypeOf(c.get('event'));
  if (type === undefined) return [];
  const events: Events = [];
  if (c.res.ok) events.push(['jobs_delivered_total', type]);
  // QStash's count of the earlier deliveries that failed; read once the signature held.
  if (Number(c.req.header('upstash-retried') ?? 0) > 0) events.push(['jobs_retried_total', type]);
  return events;
}

function sampleOf<E extends RequestEnv>(c: Context<E>, seconds: number): RequestSample {
  const event = c.get('event');
  return {
    route: routePattern(c),
    method: methodLabel(c.req.method),
    status: c.res.status,
    seconds,
    events: [
      ...cacheEvents(event),
      ...refusalEvents(event),
      ...jobEvents(c),
      // The failure callback notes the type of the job QStash gave up on.
      ...(typeof event.deadJob === 'string'
        ? [['jobs_dead_lettered_total', event.deadJob] as [EventCounter, string]]
        : []),
    ],
  };
}

/** Counts each request into the store `storeOf` gives for it. */
export const requestMetrics = <E extends RequestEnv>(storeOf: (c: Context<E>) => MetricsStore) =>
  createMiddleware<E>(async (c, next) => {
    const started = performance.now();
    await next();
    const sample = sampleOf(c, (performance.now() - started) / 1000);
    waitUntil(c, 'metrics', storeOf(c).record(sample));
  });

/**
 * Guards a scrape with a bearer token: the Node worker's GET /metrics, which carries no user
 * credentials, when its METRICS_TOKEN is set.
 */
export const scrapeToken = <E extends RequestEnv>(token: string) =>
  createMiddleware<E>(async (c, next) => {
    const presented = c.req.header('authorization')?.replace(/^Bearer /i, '') ?? '';
    if (!constantTimeEqual(presented, token)) {
      throw new AppError('UNAUTHORIZED', 'The metrics take the scrape token as a bearer token', {
        headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
      });
    }
    await next();
  });
