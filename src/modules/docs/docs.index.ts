import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Config } from '../../config.ts';
import { docsPageRoute, openApiDocumentRoute } from './docs.routes.ts';
import { type DocsPage, renderDocsPage } from './docs-page.ts';
import { registerSharedComponents } from './error-responses.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document.ts';

/**
 * GET /openapi.json and /docs. Where this is called does not matter: the document is generated on
 * the first request for it, when every route is in place, and kept for the life of the isolate
 * (routes do not change after start-up), so later modules appear without registering anything.
 */
/** The one HTML page: it styles itself inline, under the request's CSP nonce. */
export const docsPagePath = docsPageRoute.path;

export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  registerSharedComponents(app);
  let built: { document: OpenApiDocument; page: DocsPage } | undefined;
  const docs = (config: Config) => {
    if (built === undefined) {
      const document = buildOpenApiDocument(app, config);
      built = { document, page: renderDocsPage(document) };
    }
    return built;
  };

  app.openapi(openApiDocumentRoute, (c) => c.json(docs(c.get('deps').config).document, 200));
  app.openapi(docsPageRoute, (c) =>
    c.html(docs(c.get('deps').config).page.html(c.get('secureHeadersNonce')), 200),
  );
}
