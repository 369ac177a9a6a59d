// The CPU time of an authenticated read on Node, per request: the whole path in createApp (request
// id, log line, secure headers, CORS, rate limit, JWT verification with the deny-list read,
// validation, the cached profile, the envelope) for GET /v1/users/{id} answered from cache.
// The budget: that read costs at most 1.2x an anchor stack (Hono, jose and zod doing the least an
// authenticated, validated read does; read-cpu/anchor.ts), judged with the backends' replies
// replayed in-process (read-cpu/replay.ts), as the socket work of Node's fetch is not ours to
// shrink. The backends run in another process, so only this process's work is counted.
//
// Beside them, for where the time goes: the same read over real sockets, GET /v1/me (which reads
// the database) and a bare /health (the middleware every request passes).
//
// These machines are shared and noisy, so the subjects are measured interleaved: round after
// round, each subject runs a batch in turn, and a slow stretch of the machine falls on all of them
// alike. A subject's first requests after another one ran pay for what that one left behind (its
// timers and garbage, the caches it evicted), so a batch starts with a few requests not counted.
// Each subject is warmed up until its figure stops moving, not for a fixed count.
//
// The anchor's figure depends on the machine more than the app's: jose verifies with WebCrypto,
// which on Node computes the HMAC on libuv's thread pool. The anchor has nothing else to do
// meanwhile, so its thread sleeps and is woken, which cost some 105 us per request on a quiet
// two-CPU machine and 25 us on a busy one (the anchor measured 165 against 80 us; with the HMAC
// computed in-thread, 60 either way); the app has work of its own to overlap with it.
import { median, withStackProcess } from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';
import { anchorApp } from './read-cpu/anchor.ts';
import { createReplay } from './read-cpu/replay.ts';
import { expectOk, signedIn } from './read-cpu/signed-in.ts';

/** Warm-up: rounds of this many requests per subject, until every subject's median is steady. */
const warmUpBatch = 100;
const steady = 0.05;
const steadyRounds = 2;
const maxWarmUpRounds = 20;
/** Measurement: `rounds` rounds of `batch` counted requests per subject, after `settle` uncounted. */
const rounds = 40;
const batch = 20;
const settle = 5;
/** The budget: the replayed cached read at most this many times the anchor. */
const budgetRatio = 1.2;

interface Subject {
  label: string;
  /** The CPU of each of `count` requests, made after `settle` uncounted ones, in microseconds. */
  batch(count: number): Promise<number[]>;
}

/** `around` runs each batch, outside what is counted (the replay swaps globalThis.fetch there). */
function subject(
  label: string,
  request: () => Promise<void>,
  around: (batch: () => Promise<number[]>) => Promise<number[]> = (batch) => batch(),
): Subject {
  return {
    label,
    batch: (count) =>
      around(async () => {
        for (let i = 0; i < settle; i += 1) await request();
        const costs: number[] = [];
        for (let i = 0; i < count; i += 1) {
          const before = process.cpuUsage();
          await request();
          const used = process.cpuUsage(before);
          costs.push(used.user + used.system);
        }
        return costs;
      }),
  };
}

/**
 * Warm-up rounds until the median of every subject has moved less than `steady` from one round to
 * the next `steadyRounds` times in a row, or `maxWarmUpRounds`; a steady subject keeps running, so
 * the rounds stay interleaved. Answers the labels of the subjects that never got steady.
 */
async function warmUp(subjects: Subject[]): Promise<{ rounds: number; unsteady: string[] }> {
  const previous: number[] = [];
  const steadyFor = subjects.map(() => 0);
  const isSteady = () => steadyFor.every((times) => times >= steadyRounds);
  let round = 0;
  while (round < maxWarmUpRounds && !isSteady()) {
    round += 1;
    for (const [i, s] of subjects.entries()) {
      const current = median(await s.batch(warmUpBatch));
      const last = previous[i] ?? Number.POSITIVE_INFINITY;
      const times = steadyFor[i] ?? 0;
      if (times < steadyRounds)
        steadyFor[i] = Math.abs(current - last) < steady * last ? times + 1 : 0;
      previous[i] = current;
    }
  }
  const unsteady = subjects.filter((_, i) => (steadyFor[i] ?? 0) < steadyRounds);
  return { rounds: round, unsteady: unsteady.map((s) => s.label) };
}

/** Each subject's median over `rounds` interleaved rounds. */
async function measure(subjects: Subject[]): Promise<number[]> {
  const costs: number[][] = subjects.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, s] of subjects.entries()) costs[i]?.push(...(await s.batch(batch)));
  }
  return costs.map(median);
}

const us = (value: number) => `${value.toFixed(0).padStart(5)} us`;

export const readCpu: Benchmark = {
  name: 'read-cpu',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
      const { userId, token, read } = await signedIn(stack.env);
      const anchor = await anchorApp();
      const replay = createReplay();
      const cachedPath = `/v1/users/${userId}`;
      // The first replayed request records the replies; the warm-up is where that happens.
      const subjects = [
        subject('GET /v1/users/{id}, from cache, replayed', () => read(cachedPath), replay.run),
        subject('anchor: Hono + jose HS256 + zod param', async () =>
          expectOk(await anchor.request(`/users/${userId}`, token), 'the anchor'),
        ),
        subject('GET /v1/users/{id}, from cache, sockets', () => read(cachedPath)),
        subject('GET /v1/me, from the database, sockets', () => read('/v1/me')),
        subject('GET /health, no backend', () => read('/health')),
      ];
      const warm = await warmUp(subjects);
      const recorded = replay.fetched;
      const medians = await measure(subjects);
      const [replayed = 0, anchored = 0, sockets = 0] = medians;
      const fetchedWhileMeasured = replay.fetched - recorded;
      const ratio = replayed / anchored;
      const within = ratio <= budgetRatio;
      return {
        lines: [
          `median CPU (user + system) per request, ${rounds * batch} requests each in ${rounds} interleaved rounds of ${batch} (after ${settle} uncounted), on Node ${process.version}`,
          `after ${warm.rounds} warm-up rounds of ${warmUpBatch}, until each median moved < ${steady * 100}% in ${steadyRounds} rounds in a row`,
          ...warm.unsteady.map((label) => `(not steady after ${maxWarmUpRounds} rounds: ${label})`),
          ...subjects.map((s, i) => `${s.label.padEnd(44)} ${us(medians[i] ?? 0)}`),
          `${"sockets less replayed: Node's fetch".padEnd(44)} ${us(sockets - replayed)}`,
          `${'replayed cached read / anchor'.padEnd(44)} ${ratio.toFixed(2).padStart(5)} x   budget ${budgetRatio}x: ${within ? 'within budget' : 'over budget'}`,
          ...(fetchedWhileMeasured > 0
            ? [
                `(${fetchedWhileMeasured} replies fetched for real while measuring: not recorded before)`,
              ]
            : []),
        ],
        overBudget: within
          ? []
          : [
              `an authenticated read from cache costs ${ratio.toFixed(2)}x the anchor (${replayed.toFixed(0)} us against ${anchored.toFixed(0)} us) > ${budgetRatio}x`,
            ],
      };
    }),
};
