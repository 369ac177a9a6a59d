// `npm run stack`: the local libSQL, Upstash Redis and QStash servers in the foreground. Prints
// one NAME=value line per variable on stdout (so `npm run -s stack > .env` works) and everything
// meant for a person on stderr. Ctrl-C stops all three.
import { type LocalStackOptions, localStackDefaults, startLocalStack } from './stack.ts';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(
      `local-stack: ${name} must be a port number (0-65535, 0 for any free port), got "${raw}"`,
    );
    process.exit(1);
  }
  return port;
}

const options: Partial<LocalStackOptions> = {
  host: process.env.LOCAL_STACK_HOST || localStackDefaults.host,
  dataDir: process.env.LOCAL_STACK_DIR || localStackDefaults.dataDir,
  redisUrl: process.env.REDIS_URL || localStackDefaults.redisUrl,
  libsqlPort: portFromEnv('LIBSQL_PORT', localStackDefaults.libsqlPort),
  redisRestPort: portFromEnv('UPSTASH_REDIS_REST_PORT', localStackDefaults.redisRestPort),
  qstashPort: portFromEnv('QSTASH_PORT', localStackDefaults.qstashPort),
};

const stack = await startLocalStack(options).catch((error: unknown) => {
  console.error(
    `local-stack: could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});

console.error(`local-stack: Upstash Redis REST backed by ${stack.redisBackend}`);
console.error(`local-stack: data in ${options.dataDir}; Ctrl-C stops the stack`);
for (const [name, value] of Object.entries(stack.env)) console.log(`${name}=${value}`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await stack.close();
  console.error('local-stack: stopped');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
