// `npm run worker` (`node worker-jobs/main.ts`): the thin Node worker on @hono/node-server.
// Config comes from process.env; a bad variable stops start-up, naming it. SIGINT / SIGTERM let
// in-flight deliveries finish (an unfinished one is retried by QStash after its lease anyway).
import { serve } from '@hono/node-server';
import { ConfigError } from '../src/config.ts';
import { createWorkerApp } from './app.ts';
import { parseWorkerConfig, type WorkerConfig } from './config.ts';
import { createWorkerDeps } from './deps.ts';

const shutdownGraceMs = 10_000;

function configOrExit(): WorkerConfig {
  try {
    return parseWorkerConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const config = configOrExit();
const deps = createWorkerDeps(config);
const app = createWorkerApp(deps);

const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  deps.logger.info('listening', {
    url: `http://${info.address}:${info.port}`,
    runtime: 'node',
    service: 'worker-jobs',
    publicUrl: config.JOBS_BASE_URL,
  });
});

function shutdown(signal: string): void {
  deps.logger.info('shutting down', { signal });
  setTimeout(() => process.exit(1), shutdownGraceMs).unref();
  server.close(() => {
    deps.mailer.close();
    process.exit(0);
  });
}

process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
