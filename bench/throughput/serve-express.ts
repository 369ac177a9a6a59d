// GET /v1/users/{id} written the Express way, to compare throughput with our app on Node
// (bench/throughput.ts runs it as a child process): express, jsonwebtoken, a zod schema for the id,
// and the Redis work the app does on a cached read, through the same official clients: the two
// deny-list reads, the cache's MGET of the group version and the entry, and @upstash/ratelimit's
// token bucket, issued together so auto-pipelining sends them as the app's leave (reads and writes
// as two concurrent requests). It has no database path: the bench keeps the profile cached, and a
// miss answers 503, which fails the run.
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import express from 'express';
import jwt from 'jsonwebtoken';
import * as z from 'zod';
import { parseConfig } from '../../src/config.ts';

const config = parseConfig(process.env);
const [signingKey] = config.JWT_SIGNING_KEYS;
if (signingKey === undefined) throw new Error('JWT_SIGNING_KEYS lists no key');
const { limit, windowMs } = config.RATE_LIMIT_GENERAL;
// Clients over the limit, refused from memory until their reset, as the app keeps them.
const blockedClients = new Map<string, number>();

const paramsSchema = z.object({ id: z.uuid() });
const claimsSchema = z.object({ sub: z.string(), jti: z.string(), sid: z.string() });

function envelope(requestId: string, body: Record<string, unknown>) {
  return {
    ...body,
    meta: { timestamp: new Date().toISOString(), requestId, version: config.API_VERSION },
  };
}

function fail(res: express.Response, status: number, code: string, message: string) {
  const requestId = String(res.getHeader('X-Request-Id'));
  res.status(status).json(envelope(requestId, { success: false, error: { code, message } }));
}

const app = express();

app.get('/v1/users/:id', async (req, res) => {
  const requestId = crypto.randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const params = paramsSchema.safeParse(req.params);
  if (!params.success) return fail(res, 400, 'VALIDATION_FAILED', 'The id is not a UUID');
  const token = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  let claims: z.infer<typeof claimsSchema>;
  try {
    const payload = jwt.verify(token ?? '', signingKey.secret, {
      algorithms: ['HS256'],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    });
    claims = claimsSchema.parse(payload);
  } catch {
    return fail(res, 401, 'UNAUTHORIZED', 'The access token is not valid');
  }

  // Clients per request, as the app builds them (src/deps.ts): auto-pipelining then batches this
  // request's commands only, never several requests' into one HTTP request.
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    enableTelemetry: false,
  });
  const limiter = new Ratelimit({
    redis,
    limiter: Ratelimit.tokenBucket(limit, `${windowMs} ms`, limit),
    prefix: 'ratelimit:general',
    ephemeralCache: blockedClients,
    analytics: false,
  });
  const [deniedToken, deniedSession, [version, entry], rate] = await Promise.all([
    redis.getex(`deny:${claims.jti}`),
    redis.getex(`deny-session:${claims.sid}`),
    redis.mget<[number | null, { v: number; d: unknown } | null]>(
      'cache:{users}:v',
      `cache:{users}:e:${params.data.id}`,
    ),
    limiter.limit(`ip:${req.ip}`),
  ]);

  res.setHeader('RateLimit-Limit', rate.limit);
  res.setHeader('RateLimit-Remaining', rate.remaining);
  res.setHeader('RateLimit-Reset', Math.max(0, Math.ceil((rate.reset - Date.now()) / 1000)));
  if (!rate.success) return fail(res, 429, 'RATE_LIMITED', 'Too many requests');
  if (deniedToken !== null || deniedSession !== null) {
    return fail(res, 401, 'UNAUTHORIZED', 'The access token has been revoked');
  }
  if (entry === null || entry.v !== version) {
    return fail(res, 503, 'SERVICE_UNAVAILABLE', 'The profile is not cached');
  }
  if (entry.d === null) return fail(res, 404, 'NOT_FOUND', 'User not found');
  res.json(envelope(requestId, { success: true, data: entry.d }));
});

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  console.log(`listening ${address.port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
