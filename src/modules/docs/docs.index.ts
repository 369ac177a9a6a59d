import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Config } from '../../config.ts';
import { docsPageRoute, openApiDocumentRoute } from './docs.routes.ts';
import { docsPage } from './docs-page.ts';
import { registerSharedComponents } from './error-responses.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document.ts';

/** The one HTML page: it runs a script and styles itself, so it gets a CSP of its own. */
export const docsPagePath = docsPageRoute.path;

/**
 * GET /openapi.json and /docs. Where this is called does not matter: the document is generated on
 * the first request for it, when every route is in place, and kept for the life of the isolate
 * (routes do not change after start-up), so later modules appear without registering anything.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  registerSharedComponents(app);
  let document: OpenApiDocument | undefined;
  const documentFor = (config: Config) => {
    document ??= buildOpenApiDocument(app, config);
    return document;
  };

  app.openapi(openApiDocumentRoute, (c) => c.json(documentFor(c.get('deps').config), 200));
  // Scalar's middleware is the handler: the route is only described, not validated (it takes no
  // input).
  app.openAPIRegistry.registerPath(docsPageRoute);
  app.get(docsPageRoute.path, docsPage(openApiDocumentRoute.path));
}
