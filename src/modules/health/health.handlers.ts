import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import type { livenessRoute, readinessRoute } from './health.routes.ts';
import { type Backend, type CheckResult, checkReadiness } from './health.service.ts';

type PublicCheck = Omit<CheckResult, 'fault'>;

function publicChecks(checks: Record<Backend, CheckResult>): Record<Backend, PublicCheck> {
  const strip = ({ fault: _, ...rest }: CheckResult): PublicCheck => rest;
  return { db: strip(checks.db), redis: strip(checks.redis), queue: strip(checks.queue) };
}

export const livenessHandler: RouteHandler<typeof livenessRoute, AppEnv> = (c) =>
  ok(c, { status: 'ok' as const }, 200);

export const readinessHandler: RouteHandler<typeof readinessRoute, AppEnv> = async (c) => {
  const { ready, checks, failing } = await checkReadiness(c.get('deps'));
  const shown = publicChecks(checks);
  if (ready) return ok(c, { status: 'ok' as const, checks: shown }, 200);
  // The errors themselves go to the request's log line; the client learns only which and why.
  c.get('event').readiness = {
    failing,
    faults: Object.fromEntries(failing.map((backend) => [backend, checks[backend].fault])),
  };
  throw new AppError('SERVICE_UNAVAILABLE', `Not ready: ${failing.join(', ')} failing`, {
    details: { checks: shown, failing },
  });
};
