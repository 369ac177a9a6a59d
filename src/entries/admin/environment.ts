// Where the admin CLI finds the deployment: the API's own variables, parsed by src/config.ts with
// the API's rules, from process.env. When none of them names a backend and APP_ENV is not
// production, the defaults are `npm run dev`'s: the local stack on its fixed ports and the keys the
// Worker runs with there, so against `npm run dev` no variable is needed. Any variable that is set
// still wins.
import { type Config, parseConfig } from '../../config.ts';
import { createSharedDeps, forRequest } from '../../deps.ts';
import { createLogger } from '../../lib/logger.ts';
import { createCache } from '../../platform/cache.ts';
import { type AdminContext, CommandFailed } from './cli.ts';

/** Any of these set names a deployment, and then nothing falls back to the local stack. */
export const backendVariables = [
  'TURSO_DATABASE_URL',
  'UPSTASH_REDIS_REST_URL',
  'QSTASH_TOKEN',
] as const;

export type Environment = Record<string, string | undefined>;

export interface AdminConfig {
  config: Config;
  /** npm run dev's local stack was assumed: said when a backend does not answer. */
  usesLocalStack: boolean;
}

async function localStackEnv(): Promise<Record<string, string>> {
  // Imported only here: the local servers need the dev dependencies, which a deployment's
  // `npm install --omit=dev` leaves out.
  const { localStackDefaults: local, developmentKeys } = await import(
    '../../../local-stack/stack.ts'
  ).catch(() => {
    throw new CommandFailed(
      `none of ${backendVariables.join(', ')} is set, and npm run dev's local stack is not ` +
        "installed here: set the API's variables (docs/configuration.md)",
    );
  });
  const at = (port: number) => `http://${local.host}:${port}`;
  return {
    APP_ENV: 'development',
    TURSO_DATABASE_URL: at(local.libsqlPort),
    TURSO_AUTH_TOKEN: local.tursoAuthToken,
    UPSTASH_REDIS_REST_URL: at(local.redisRestPort),
    UPSTASH_REDIS_REST_TOKEN: local.redisRestToken,
    QSTASH_URL: at(local.qstashPort),
    QSTASH_TOKEN: local.qstashToken,
    QSTASH_CURRENT_SIGNING_KEY: local.qstashCurrentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: local.qstashNextSigningKey,
    ...developmentKeys,
  };
}

/** Throws the API's ConfigError, naming every variable missing or malformed. */
export async function adminConfig(env: Environment): Promise<AdminConfig> {
  if (env.APP_ENV === 'production' || backendVariables.some((name) => env[name])) {
    return { config: parseConfig(env), usesLocalStack: false };
  }
  // Empty counts as unset, as parseConfig has it, so `FOO=` keeps the local default.
  const set = Object.entries(env).filter(([, value]) => value !== undefined && value !== '');
  return {
    config: parseConfig({ ...(await localStackEnv()), ...Object.fromEntries(set) }),
    usesLocalStack: true,
  };
}

export function adminContext(config: Config): AdminContext {
  // Warnings only, on stderr: stdout carries the answer, which a script may parse.
  const logger = createLogger('warn', (line) => console.error(line));
  const deps = forRequest({ ...createSharedDeps(config), logger });
  return { config, deps, cache: createCache(deps) };
}
