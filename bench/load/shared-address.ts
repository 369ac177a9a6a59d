// The general limit's exactness under load: a group of clients behind one address, each sending
// one read after another for the whole run, far over the limit. The policy is a token bucket
// (src/platform/rate-limits.ts): `limit` tokens when the address is first seen, at t0, and
// `limit / step` more every `window / step` ms after t0, where step is the greatest common divisor
// of limit and window. Refused clients keep asking, so every token is taken soon after it comes:
// by the last check, at t1, exactly limit + refills(t1 - t0) requests must have been admitted. The
// clients know t0 and t1 to within one round trip each, which makes the quota a range, almost
// always of one number.
//
// The documented slack: a check that waits longer than RATE_LIMIT_TIMEOUT_MS fails open (the
// request is served, unmetered, and answered without RateLimit-* headers), while its script may
// still spend a token in Redis. Each such answer widens the range by one.
import type { RateLimitRule } from '../../src/config.ts';
import type { Recorder } from './recorder.ts';
import { type LoadTarget, send } from './traffic.ts';

export interface SharedAddressFigures {
  admitted: number;
  /** Admitted without RateLimit-* headers: the check timed out and the policy failed open. */
  unmetered: number;
  refused: number;
  /** Epoch milliseconds: the first request's sending and answer, the last one's. */
  firstSent: number;
  firstAnswered: number;
  lastSent: number;
  lastAnswered: number;
}

export const sharedAddressKind = 'shared address';

export function emptyFigures(): SharedAddressFigures {
  return {
    admitted: 0,
    unmetered: 0,
    refused: 0,
    firstSent: Number.POSITIVE_INFINITY,
    firstAnswered: Number.POSITIVE_INFINITY,
    lastSent: 0,
    lastAnswered: 0,
  };
}

/** One client of the group, until `deadline` (performance.now()). */
export async function runSharedAddressClient(
  target: LoadTarget,
  recorder: Recorder,
  figures: SharedAddressFigures,
  ip: string,
  path: string,
  deadline: number,
): Promise<void> {
  while (performance.now() < deadline) {
    const sent = Date.now();
    const answer = await send(target, recorder, sharedAddressKind, 'GET', path, { ip });
    const answered = Date.now();
    if (answer === undefined) continue;
    figures.firstSent = Math.min(figures.firstSent, sent);
    figures.firstAnswered = Math.min(figures.firstAnswered, answered);
    figures.lastSent = Math.max(figures.lastSent, sent);
    figures.lastAnswered = Math.max(figures.lastAnswered, answered);
    if (answer.status === 429) figures.refused += 1;
    else {
      figures.admitted += 1;
      if (!answer.headers.has('ratelimit-limit')) figures.unmetered += 1;
    }
  }
}

const greatestCommonDivisor = (a: number, b: number): number =>
  b === 0 ? a : greatestCommonDivisor(b, a % b);

interface Quota {
  low: number;
  high: number;
  /** Tokens back per refill, and how often. */
  perRefill: number;
  refillEveryMs: number;
}

/** What the bucket may have admitted between the group's first and last requests. */
function quotaOf({ limit, windowMs }: RateLimitRule, figures: SharedAddressFigures): Quota {
  const step = greatestCommonDivisor(limit, windowMs);
  const perRefill = limit / step;
  const refillEveryMs = windowMs / step;
  const admissible = (ms: number) =>
    limit + Math.floor(Math.max(0, ms) / refillEveryMs) * perRefill;
  return {
    low: admissible(figures.lastSent - figures.firstAnswered),
    high: admissible(figures.lastAnswered - figures.firstSent),
    perRefill,
    refillEveryMs,
  };
}

/** The group's line, and its budget: within the quota, and equal to it once it was reached. */
export function exactnessReport(
  rule: RateLimitRule,
  figures: SharedAddressFigures,
  description: string,
): { line: string; overBudget: string[] } {
  const quota = quotaOf(rule, figures);
  const metered = figures.admitted - figures.unmetered;
  // Never refused: the clients asked for less than the quota, which then says nothing.
  const reached = figures.refused > 0;
  const exact = metered <= quota.high && (!reached || metered >= quota.low - figures.unmetered);
  const span = ((figures.lastAnswered - figures.firstSent) / 1000).toFixed(1);
  const quotaText = quota.low === quota.high ? String(quota.low) : `${quota.low}-${quota.high}`;
  const verdict = !exact
    ? 'MISS'
    : !reached
      ? 'quota never reached: untested'
      : figures.unmetered === 0
        ? 'PASS (exact)'
        : `PASS (within the slack of ${figures.unmetered} unmetered)`;
  return {
    line:
      `${description} for ${span} s: admitted ${figures.admitted} (${figures.unmetered} ` +
      `unmetered), refused ${figures.refused}; quota ${quotaText} (${rule.limit} + ` +
      `${quota.perRefill} every ${quota.refillEveryMs / 1000} s)   ${verdict}`,
    overBudget: exact
      ? []
      : [`rate limit: ${metered} metered admissions from one address, quota ${quotaText}`],
  };
}
