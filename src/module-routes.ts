// A module's routes: an OpenAPIHono of the app's env, mounted by the app, whose failed request
// validations answer 422 in the envelope. Each module chains its routes on one, so the app's type
// carries every route's input and output (the typed client reads it).
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './app-env.ts';
import { validationHook } from './middleware/error-handler.ts';

export function moduleRoutes() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
