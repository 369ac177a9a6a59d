// A typed client for this API: hono/client over the app's own type, so every route's path,
// parameters, body and answer are checked by the compiler in the caller's code, and a route whose
// schema changes breaks the callers that no longer fit at build time rather than in production.
import { type ClientRequestOptions, hc } from 'hono/client';
import type { App } from './app.ts';

/** The type of every route of the API, for `hc<AppType>()`. */
export type AppType = App;

export function createApiClient(baseUrl: string, options?: ClientRequestOptions) {
  return hc<AppType>(baseUrl, options);
}
