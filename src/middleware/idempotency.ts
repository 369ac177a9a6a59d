// Idempotency keys with Stripe's semantics, on the routes that create something: a POST that sends
// `Idempotency-Key: <a key of the client's own>` can be retried safely, and a retry with the same
// key answers what the first request answered instead of creating a second thing.
//
// - A key is the caller's: the signed-in user's, whichever credential sends it (a session and the
//   user's API keys share their keys, as a Stripe account's do); on registration, where nobody is
//   signed in, the client's address as the rate limiter counts it.
// - A request is fingerprinted by its method, path and query and its raw body's SHA-256. A
//   streamed upload is never buffered to be hashed: its Content-Length stands for its body. The
//   same key with another fingerprint is 422 IDEMPOTENCY_KEY_REUSED.
// - The first request claims the key with a lease (the request deadline plus the Redis timeout),
//   runs, and stores its answer for 24 hours before answering: status, body, Content-Type,
//   Location and Set-Cookie, sealed (src/platform/idempotency.ts). 4xx answers are kept, as
//   Stripe keeps them; a 5xx releases the key, so a retry runs again. A retry gets the stored
//   answer byte for byte with `Idempotent-Replayed: true`.
// - A retry while the first is still running waits for it, up to 5 s, and then answers as it did:
//   concurrent duplicates all get the one answer. Still running after that: 409
//   IDEMPOTENCY_REQUEST_IN_PROGRESS with Retry-After.
// - Redis unavailable: 503, where the rate limit and the cache would go on without it. A client
//   that sends a key has said a second creation must not happen, and without the record nothing
//   tells a retry from a first request. Requests without a key are not affected.
//
// Round trips: the claim leaves with the rate limit's check. describeIdempotentRequest(), mounted
// before the credential prefetches, reads and hashes the body while no Redis command is waiting;
// prefetchIdempotencyClaim(), mounted after them, issues the claim in the limiter's tick, for the
// address, or for the user a session token names (verified before the route takes the claim). An
// API key's owner is known only once its record has been read: that claim leaves after
// authentication, one round trip more. A claim the route never took (the request was refused
// before it: 401, 403, 429) is released after the response. The first prefetch finds the route's
// idempotency() among the handlers the request matched, so the route's own middleware list is
// the one place that says a route honours the header.
import { z } from '@hono/zod-openapi';
import type { Context, Next } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../app-env.ts';
import { toHex } from '../lib/base64.ts';
import { AppError } from '../lib/errors.ts';
import { sha256Hex } from '../lib/opaque-tokens.ts';
import { failure } from '../lib/route-responses.ts';
import { waitUntil } from '../lib/wait-until.ts';
import {
  type ClaimOutcome,
  claimSlot,
  completeSlot,
  type DoneRecord,
  type IdempotencyCaller,
  type IdempotencySlot,
  type IdempotentRequest,
  idempotencyKeyHash,
  openAnswer,
  readSlot,
  releaseSlot,
  sealAnswer,
  slotName,
} from '../platform/idempotency.ts';
import { RedisUnavailableError } from '../platform/redis.ts';
import { byClientIp } from './rate-limit.ts';

const headerName = 'Idempotency-Key';

/** Stripe's length; printable ASCII, which every HTTP client sends as it is. */
const wellFormedKey = /^[\x20-\x7E]{1,255}$/;

/** How long a duplicate waits for the first request before answering 409. */
const duplicateWaitMs = 5_000;

/** The 409's advice: the retry waits for the first request again. */
const retryAfterSeconds = 1;

export interface IdempotencyOptions {
  /** Whose keys: the signed-in user's (the default), or the client address's for open routes. */
  caller?: IdempotencyCaller;
  /** The body is a streamed upload: fingerprinted by its Content-Length, never read ahead. */
  streamed?: boolean;
}

type RouteIdempotency = Required<IdempotencyOptions>;

/** Each route's idempotency() instance, as the prefetches find it among the matched handlers. */
const routeIdempotency = new WeakMap<object, RouteIdempotency>();

function routeIdempotencyOf(c: Context<AppEnv>): RouteIdempotency | undefined {
  for (const { handler } of matchedRoutes(c)) {
    const route = routeIdempotency.get(handler);
    if (route !== undefined) return route;
  }
  return undefined;
}

async function bytesSha256Hex(bytes: ArrayBuffer): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

async function fingerprintOf(c: Context<AppEnv>, streamed: boolean): Promise<string> {
  const { pathname, search } = new URL(c.req.url);
  // An upload is read once, as it arrives, by its handler. A chunked one announces no length: its
  // key then stands for any upload to the route.
  const body = streamed
    ? `length:${c.req.header('Content-Length') ?? 'chunked'}`
    : `sha256:${await bytesSha256Hex(await c.req.arrayBuffer())}`;
  return sha256Hex(`${c.req.method} ${pathname}${search}\n${body}`);
}

async function describeRequest(
  c: Context<AppEnv>,
  key: string,
  route: RouteIdempotency,
): Promise<IdempotentRequest> {
  const [keyHash, fingerprint] = await Promise.all([
    idempotencyKeyHash(key),
    fingerprintOf(c, route.streamed),
  ]);
  return { key, keyHash, fingerprint, caller: route.caller };
}

const leaseMsOf = (c: Context<AppEnv>) => {
  const { config } = c.get('deps');
  return config.REQUEST_TIMEOUT_MS + config.REDIS_TIMEOUT_MS;
};

function logOutcome(c: Context<AppEnv>, outcome: string, waitedMs = 0): void {
  c.get('event').idempotency = waitedMs > 0 ? { outcome, waitedMs } : { outcome };
}

/**
 * Reads the Idempotency-Key and fingerprints the request, for the claim that
 * prefetchIdempotencyClaim() starts. Mount it before the credential prefetches: the body is read
 * here, before any command of the round trip is issued.
 */
export const describeIdempotentRequest = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header(headerName);
    if (key !== undefined && wellFormedKey.test(key)) {
      const route = routeIdempotencyOf(c);
      if (route !== undefined) c.set('idempotentRequest', await describeRequest(c, key, route));
    }
    return next();
  });

function expectedCaller(c: Context<AppEnv>, caller: IdempotencyCaller): string | undefined {
  if (caller === 'address') return byClientIp(c);
  const token = c.get('tokenRevocation');
  return token === undefined ? undefined : `user:${token.userId}`;
}

/**
 * Starts the claim of a described request in the general rate limit's tick; mount it after the
 * credential prefetches (it names a session's user from the token they peeked) and right before
 * the limit.
 */
export const prefetchIdempotencyClaim = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const request = c.get('idempotentRequest');
    const caller = request === undefined ? undefined : expectedCaller(c, request.caller);
    if (request === undefined || caller === undefined) return next();
    const slot = { name: slotName(caller, request.keyHash), fingerprint: request.fingerprint };
    const redis = c.get('deps').redis;
    const outcome = claimSlot(redis, slot, leaseMsOf(c));
    // Once the route takes it, a failure is the route's to answer; untaken, nobody awaits it.
    outcome.catch(() => {});
    let taken = false;
    c.set('idempotencyClaim', {
      slot,
      take: () => {
        taken = true;
        return outcome;
      },
    });
    try {
      await next();
    } finally {
      if (!taken) {
        const release = outcome.then(
          (claim) => (claim.claimed ? releaseSlot(redis, slot, claim.lease) : undefined),
          () => undefined,
        );
        waitUntil(c, 'idempotency release', release);
      }
    }
  });

function callerOf(c: Context<AppEnv>, caller: IdempotencyCaller): string {
  if (caller === 'address') return byClientIp(c);
  const principal = c.get('principal');
  if (principal === undefined) throw new Error('idempotency() must come after authentication');
  return `user:${principal.userId}`;
}

/** Redis's answer, or 503: without the record a retry cannot be told from a first request. */
async function fromRedis<T>(c: Context<AppEnv>, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    logOutcome(c, 'unavailable');
    throw new AppError('SERVICE_UNAVAILABLE', 'Temporarily unable to honour the Idempotency-Key', {
      details: { backend: 'redis' },
      cause: error,
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 50 ms, doubling up to 400 ms: quick for a short first request, few reads for a long one. */
const pollDelayMs = (attempt: number) => Math.min(50 * 2 ** attempt, 400);

/** What Redis says of the slot once the first request has had a little more time. */
async function lookAgain(
  c: Context<AppEnv>,
  slot: IdempotencySlot,
  ms: number,
): Promise<ClaimOutcome> {
  await sleep(ms);
  const redis = c.get('deps').redis;
  const current = await fromRedis(c, readSlot(redis, slot.name));
  // Released after a 5xx, or its lease ended: this request runs in its place.
  if (current === undefined) return fromRedis(c, claimSlot(redis, slot, leaseMsOf(c)));
  return { claimed: false, record: current };
}

/** The headers an answer is replayed with; the rest are the replaying request's own. */
function keptHeaders(res: Response): [string, string][] {
  const kept: [string, string][] = [];
  for (const name of ['Content-Type', 'Location']) {
    const value = res.headers.get(name);
    if (value !== null) kept.push([name, value]);
  }
  for (const cookie of res.headers.getSetCookie()) kept.push(['Set-Cookie', cookie]);
  return kept;
}

async function runFirst(
  c: Context<AppEnv>,
  next: Next,
  request: IdempotentRequest,
  slot: IdempotencySlot,
  lease: string,
): Promise<void> {
  await next();
  // The deadline answered while the handler ran: whether it created something is unknown, so the
  // claim stays until its lease ends rather than let a retry create it twice.
  if (c.get('event').timedOut !== undefined) return;
  const { redis, logger } = c.get('deps');
  const { res } = c;
  try {
    if (res.status >= 500) {
      await releaseSlot(redis, slot, lease);
      logOutcome(c, 'released');
      return;
    }
    const body = new Uint8Array(await res.clone().arrayBuffer());
    const answer = await sealAnswer(request.key, { headers: keptHeaders(res), body });
    // Awaited, not left to waitUntil: a client holding this answer finds it stored when it retries.
    await completeSlot(redis, slot, lease, { status: res.status, answer });
    logOutcome(c, 'stored');
  } catch (error) {
    // The work is done and answered; a retry meets the claim until its lease ends (409), then
    // runs again.
    logOutcome(c, 'not-stored');
    logger.warn('idempotency record not stored', {
      requestId: c.get('requestId'),
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

async function replay(c: Context<AppEnv>, key: string, done: DoneRecord, waitedMs: number) {
  const answer = await openAnswer(key, done.answer);
  const headers = new Headers(answer.headers);
  headers.set('Idempotent-Replayed', 'true');
  logOutcome(c, 'replayed', waitedMs);
  return new Response(answer.body, { status: done.status, headers });
}

/**
 * Honours Idempotency-Key on a route that creates something; put it after the route's
 * authentication, which names the caller.
 */
export function idempotency(options: IdempotencyOptions = {}) {
  const route: RouteIdempotency = {
    caller: options.caller ?? 'user',
    streamed: options.streamed ?? false,
  };
  const middleware = createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header(headerName);
    if (key === undefined) return next();
    if (!wellFormedKey.test(key)) {
      throw new AppError(
        'IDEMPOTENCY_KEY_INVALID',
        `${headerName} takes 1 to 255 printable ASCII characters`,
        { details: { header: headerName } },
      );
    }
    const request = c.get('idempotentRequest') ?? (await describeRequest(c, key, route));
    const slot = {
      name: slotName(callerOf(c, route.caller), request.keyHash),
      fingerprint: request.fingerprint,
    };
    const prefetched = c.get('idempotencyClaim');
    let outcome = await fromRedis(
      c,
      prefetched?.slot.name === slot.name
        ? prefetched.take()
        : claimSlot(c.get('deps').redis, slot, leaseMsOf(c)),
    );
    let waitedMs = 0;
    for (let attempt = 0; !outcome.claimed; attempt++) {
      const { record: held } = outcome;
      if (held.fingerprint !== slot.fingerprint) {
        logOutcome(c, 'reused', waitedMs);
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          `This ${headerName} was used for another request; send a new key for a new request`,
        );
      }
      if (held.state === 'done') return replay(c, key, held, waitedMs);
      if (waitedMs >= duplicateWaitMs) {
        logOutcome(c, 'in-progress', waitedMs);
        throw new AppError(
          'IDEMPOTENCY_REQUEST_IN_PROGRESS',
          `The first request with this ${headerName} is still running; retry in ${retryAfterSeconds} s`,
          { headers: { 'Retry-After': String(retryAfterSeconds) }, details: { retryAfterSeconds } },
        );
      }
      const delay = pollDelayMs(attempt);
      outcome = await lookAgain(c, slot, delay);
      waitedMs += delay;
    }
    await runFirst(c, next, request, slot, outcome.lease);
  });
  routeIdempotency.set(middleware, route);
  return middleware;
}

/** The header in a route's OpenAPI `request.headers`; malformed keys are refused before it. */
export const idempotencyKeyHeaders = z.object({
  [headerName]: z
    .string()
    .regex(wellFormedKey)
    .optional()
    .openapi({
      description:
        'A key of your own, new for each new request (a UUID v4): a retry with the same key ' +
        'answers what the first request answered, for 24 hours, with `Idempotent-Replayed: ' +
        'true`, and creates nothing more. 1 to 255 printable ASCII characters.',
      example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    }),
});

const refusals = {
  400: `An ${headerName} that is empty, over 255 characters or not printable ASCII (IDEMPOTENCY_KEY_INVALID).`,
  409: `The first request with this ${headerName} still running after ${duplicateWaitMs / 1000} s (IDEMPOTENCY_REQUEST_IN_PROGRESS, with Retry-After).`,
  422: `An ${headerName} already used for another request (IDEMPOTENCY_KEY_REUSED).`,
} as const;

type Refusal = ReturnType<typeof failure>;

/** A route's responses with the idempotency refusals, beside what it answers those statuses for. */
export function withIdempotencyRefusals<T extends { [status: number]: { description: string } }>(
  responses: T,
): Omit<T, keyof typeof refusals> & Record<keyof typeof refusals, Refusal> {
  const merged: { [status: number]: unknown } = { ...responses };
  for (const status of [400, 409, 422] as const) {
    const own = responses[status]?.description;
    merged[status] = failure(own === undefined ? refusals[status] : `${own} ${refusals[status]}`);
  }
  return merged as Omit<T, keyof typeof refusals> & Record<keyof typeof refusals, Refusal>;
}
