// Node entry (`node src/entries/node.ts`): the same app on @hono/node-server, for tooling and for
// hosts without Workers. Node's server does not compress, so the app does (Workers and Deno do
// it themselves). Config comes from process.env; a bad variable stops start-up, naming it.
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { createApp } from '../app.ts';
import { type Config, ConfigError, parseConfig } from '../config.ts';
import { createSharedDeps } from '../deps.ts';
import { docsAssetsPath } from '../modules/docs/docs-page.ts';
import { s3StorageFromConfig } from '../platform/storage-s3.ts';
import { type ListenOptions, listenOptions } from './listen.ts';

const shutdownGraceMs = 10_000;

function configOrExit(): { config: Config; listen: ListenOptions } {
  try {
    return { config: parseConfig(process.env), listen: listenOptions(process.env, 8788) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const { config, listen } = configOrExit();
const deps = createSharedDeps(config, s3StorageFromConfig(config));
const app = createApp(deps, { compress: compress() });

// The /docs page's script and styles (static/, filled by local-stack/docs-assets.ts), served ahead
// of the app as Workers serves its static assets: no log line, no rate limit. Anything else, and
// a file that is not there, goes to the app.
const withDocsAssets = new Hono()
  .use(
    `${docsAssetsPath}/*`,
    compress(),
    serveStatic({ root: fileURLToPath(new URL('../../static', import.meta.url)) }),
  )
  .all('*', (c) => app.fetch(c.req.raw, c.env));

const server = serve(
  { fetch: withDocsAssets.fetch, hostname: listen.hostname, port: listen.port },
  (info) => {
    deps.logger.info('listening', { url: `http://${info.address}:${info.port}`, runtime: 'node' });
  },
);

function shutdown(signal: string): void {
  deps.logger.info('shutting down', { signal });
  // In-flight requests finish; whatever still runs after the grace period is cut off.
  setTimeout(() => process.exit(1), shutdownGraceMs).unref();
  server.close(() => process.exit(0));
}

process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
