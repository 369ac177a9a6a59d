// Every request an API key authenticated leaves a usage row (method, route pattern, address,
// status) and moves the key's lastUsedAt. Both are written after the response, once its status
// is known, and off its path (waitUntil): the client never waits for them.
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../../app-env.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { waitUntil } from '../../lib/wait-until.ts';
import { createApiKeysRepository } from './api-keys.repository.ts';

/** Registered ahead of every route, so it sees the principal the route's requireAuth set. */
export const recordApiKeyUsage = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const apiKeyId = c.get('principal')?.apiKeyId;
    if (apiKeyId === undefined) return;
    const deps = c.get('deps');
    const ip = clientIp(c, deps.config.CLIENT_IP_HEADER);
    const use = createApiKeysRepository(deps.db).recordUse({
      apiKeyId,
      method: c.req.method,
      // The pattern (/v1/users/:id), not the path: usage groups by endpoint, ids stay out.
      endpoint: routePath(c),
      ip: ip === 'unknown' ? null : ip,
      status: c.res.status,
      at: deps.clock.now(),
    });
    waitUntil(c, 'api-key usage', use);
  });
