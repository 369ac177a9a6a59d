// Cloudflare Workers entry (wrangler.toml `main`). The app and its clients are built once per
// isolate, on the first request, from the Worker's bindings.
import { type App, createApp } from '../app.ts';
import { ConfigError, parseConfig } from '../config.ts';
import { createSharedDeps } from '../deps.ts';
import { r2Storage } from '../platform/storage-r2.ts';

let app: App | undefined;

function misconfigured(error: ConfigError): Response {
  // The variable names go to the log; the client learns only that the server cannot serve.
  console.error(JSON.stringify({ level: 'error', msg: error.message, variables: error.variables }));
  return Response.json(
    {
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', message: 'Server is misconfigured' },
      meta: {
        timestamp: new Date().toISOString(),
        requestId: crypto.randomUUID(),
        version: 'unknown',
      },
    },
    { status: 503 },
  );
}

export default {
  fetch(request, env, ctx) {
    if (app === undefined) {
      try {
        // wrangler.toml binds the uploads bucket as FILES; a deployment without it serves no files.
        const bucket = env.FILES as R2Bucket | undefined;
        app = createApp(
          createSharedDeps(parseConfig(env), bucket === undefined ? undefined : r2Storage(bucket)),
        );
      } catch (error) {
        if (error instanceof ConfigError) return misconfigured(error);
        throw error;
      }
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Record<string, unknown>>;
