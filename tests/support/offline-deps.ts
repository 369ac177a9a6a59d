// Deps for unit tests of HTTP behaviour that never reaches a backend: real clients, pointed at a
// port nothing listens on, so a test that touches one by mistake fails loudly.
import { parseConfig } from '../../src/config.ts';
import { createDeps, type Deps } from '../../src/deps.ts';
import { createLogger, type LogFields } from '../../src/lib/logger.ts';

const nowhere = 'http://127.0.0.1:9';

/** The unit tests' JWT keys, as during a rotation: the first signs, both verify. */
export const testJwtKeys = [
  { kid: 'test-current', secret: 'unit-test-current-signing-secret-0123456789' },
  { kid: 'test-previous', secret: 'unit-test-previous-signing-secret-0123456789' },
] as const;

export function offlineDeps(overrides: Record<string, string> = {}): {
  deps: Deps;
  logLines: LogFields[];
} {
  const config = parseConfig({
    APP_ENV: 'test',
    TURSO_DATABASE_URL: nowhere,
    UPSTASH_REDIS_REST_URL: nowhere,
    UPSTASH_REDIS_REST_TOKEN: 'unused',
    QSTASH_URL: nowhere,
    QSTASH_TOKEN: 'unused',
    QSTASH_CURRENT_SIGNING_KEY: 'unused',
    QSTASH_NEXT_SIGNING_KEY: 'unused',
    JWT_SIGNING_KEYS: testJwtKeys.map(({ kid, secret }) => `${kid}:${secret}`).join(','),
    PARTNER_SECRETS_KEY: 'dW5pdC10ZXN0LXBhcnRuZXItc2VjcmV0cy1rZXktMzI',
    // Production's 1 s (limits) and 500 ms (cache), on a shared and loaded test machine, turn slow
    // Redis answers into 503s and cache misses; the tests of that behaviour set their own.
    RATE_LIMIT_TIMEOUT_MS: '10000',
    CACHE_TIMEOUT_MS: '10000',
    // Metrics add a Redis request after each answer: tests that count requests count without it,
    // and the metrics tests turn it on.
    METRICS_ENABLED: 'false',
    ...overrides,
  });
  const logLines: LogFields[] = [];
  const logger = createLogger('debug', (line) => logLines.push(JSON.parse(line)));
  return { deps: { ...createDeps(config), logger }, logLines };
}
