// Readiness: can this instance reach each backend it needs right now? The three probes run
// concurrently and each is cut off at the configured timeout, so a hung backend costs the probe
// at most HEALTH_TIMEOUT_MS in all, whatever the clients' own retries would do.
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.ts';
import { TimeoutError, withTimeout } from '../../lib/timeout.ts';
import { QueueError, QueueUnreachableError } from '../../platform/queue.ts';

export const backends = ['db', 'redis', 'queue'] as const;
export type Backend = (typeof backends)[number];

/** What a client may see: no error text, only one of a few fixed reasons. */
export type FailureReason = 'timeout' | 'unreachable' | 'unexpected reply';

export interface CheckResult {
  status: 'ok' | 'fail';
  latencyMs: number;
  reason?: FailureReason;
  /** The underlying error, for the log line only. */
  fault?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<Backend, CheckResult>;
  failing: Backend[];
}

class UnexpectedReply extends Error {
  override name = 'UnexpectedReply';
}

const probes: Record<Backend, (deps: Deps) => Promise<void>> = {
  db: async ({ db }) => {
    await db.run(sql`select 1`);
  },
  redis: async ({ redis }) => {
    const reply = await redis.ping();
    if (reply !== 'PONG') throw new UnexpectedReply(`PING answered ${String(reply)}`);
  },
  queue: ({ queue }) => queue.ping(),
};

function reasonOf(error: unknown): FailureReason {
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof QueueUnreachableError) return 'unreachable';
  if (error instanceof UnexpectedReply || error instanceof QueueError) return 'unexpected reply';
  return 'unreachable';
}

async function check(backend: Backend, deps: Deps): Promise<CheckResult> {
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  try {
    await withTimeout(probes[backend](deps), deps.config.HEALTH_TIMEOUT_MS);
    return { status: 'ok', latencyMs: latencyMs() };
  } catch (error) {
    return {
      status: 'fail',
      latencyMs: latencyMs(),
      reason: reasonOf(error),
      fault: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}

export async function checkReadiness(deps: Deps): Promise<Readiness> {
  const results = await Promise.all(backends.map((backend) => check(backend, deps)));
  const checks = Object.fromEntries(backends.map((backend, i) => [backend, results[i]])) as Record<
    Backend,
    CheckResult
  >;
  const failing = backends.filter((backend) => checks[backend].status === 'fail');
  return { ready: failing.length === 0, checks, failing };
}
