// Our app on Node, as src/entries/node.ts serves it (@hono/node-server, with its compression, which
// autocannon never asks for), on a free port that it prints, for bench/throughput.ts to load from
// another process.
import { serve } from '@hono/node-server';
import { compress } from 'hono/compress';
import { createApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import { createSharedDeps } from '../../src/deps.ts';

const app = createApp(createSharedDeps(parseConfig(process.env)), { compress: compress() });
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`listening ${info.port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
