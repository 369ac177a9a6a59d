import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { getUser } from './users.handlers.ts';
import { getUserRoute } from './users.routes.ts';

/** GET /v1/users/{id}. */
export function registerUsers(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getUserRoute, getUser);
}
