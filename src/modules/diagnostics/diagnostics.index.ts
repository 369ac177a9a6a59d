import { moduleRoutes } from '../../module-routes.ts';
import { echoHandler, uncaughtErrorHandler } from './diagnostics.handlers.ts';
import { echoRoute, uncaughtErrorRoute } from './diagnostics.routes.ts';

/** GET /diagnostics/error and POST /diagnostics/echo; the app mounts them in the test environment only. */
export const diagnosticsRoutes = moduleRoutes()
  .openapi(uncaughtErrorRoute, uncaughtErrorHandler)
  .openapi(echoRoute, echoHandler);
