// Deno entry: `deno run --allow-net --allow-env --allow-read src/entries/deno.ts`, the same app on
// Deno.serve, which compresses responses natively once asked (off by default since Deno 2.8).
// npm packages come from node_modules (package.json makes Deno use it), so no
// download happens. A bad variable stops start-up, naming it.
import { Hono } from 'hono';
import { serveStatic } from 'hono/serve-static';
import { createApp } from '../app.ts';
import { ConfigError, parseConfig } from '../config.ts';
import { createSharedDeps } from '../deps.ts';
import { docsAssetsPath } from '../modules/docs/docs-page.ts';
import { s3StorageFromConfig } from '../platform/storage-s3.ts';
import { listenOptions } from './listen.ts';

// The few Deno APIs used here, declared locally so src/ type-checks without Deno's types.
interface DenoServeInfo {
  remoteAddr: { hostname: string; port: number };
}
declare const Deno: {
  env: { toObject(): Record<string, string> };
  stat(path: URL): Promise<{ isFile: boolean }>;
  open(path: URL): Promise<{ readable: ReadableStream<Uint8Array> }>;
  exit(code: number): never;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  serve(
    options: {
      hostname: string;
      port: number;
      automaticCompression: boolean;
      onListen(address: { hostname: string; port: number }): void;
    },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
};

function start() {
  const env = Deno.env.toObject();
  try {
    return { config: parseConfig(env), listen: listenOptions(env, 8000) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }
}

const { config, listen } = start();
const deps = createSharedDeps(config, s3StorageFromConfig(config));
const app = createApp(deps);

// The /docs page's script and styles (static/, filled by local-stack/docs-assets.ts), served ahead
// of the app as Workers serves its static assets: no log line, no rate limit. Anything else, and
// a file that is not there, goes to the app. serveStatic has already refused `..` in the path.
const staticRoot = new URL('../../static/', import.meta.url);
const docsAsset = async (path: string) => {
  const file = new URL(`.${path}`, staticRoot);
  const found = await Deno.stat(file).then(
    (info) => info.isFile,
    () => false,
  );
  return found ? (await Deno.open(file)).readable : null;
};
const withDocsAssets = new Hono<{ Bindings: DenoServeInfo }>()
  .use(`${docsAssetsPath}/*`, serveStatic({ root: '/', getContent: docsAsset }))
  .all('*', (c) => app.fetch(c.req.raw, c.env));

const server = Deno.serve(
  {
    hostname: listen.hostname,
    port: listen.port,
    automaticCompression: true,
    onListen: ({ hostname, port }) => {
      deps.logger.info('listening', { url: `http://${hostname}:${port}`, runtime: 'deno' });
    },
  },
  // The connection info goes in as the bindings: per-client rate limits read the peer address there.
  (request, info) => withDocsAssets.fetch(request, info),
);

function shutdown(signal: string): void {
  deps.logger.info('shutting down', { signal });
  void server.shutdown();
}

Deno.addSignalListener('SIGINT', () => shutdown('SIGINT'));
Deno.addSignalListener('SIGTERM', () => shutdown('SIGTERM'));
await server.finished;
Deno.exit(0);
