// The CPU time of an authenticated read on Node, per request: the whole path in createApp (request
// id, log line, secure headers, CORS, rate limit, JWT verification with the deny-list read,
// validation, the cached profile, the envelope) for GET /v1/users/{id} answered from cache, and
// GET /v1/me, which reads the database. The backends run in another process, so only this
// process's work is counted: ours, and Node's fetch client's for the one or two round trips.
// Beside them, that fetch cost alone (a Redis pipeline sent by itself) and a bare /health (the
// middleware every request passes) show where the time goes. The budget (150 us on Node)
// is judged on the cached read less its Redis round trip: the part that is ours to make faster.
import { UpstashRedis } from '../src/lib/redis.ts';
import {
  benchApp,
  loginBenchAccount,
  medianCost,
  registerBenchAccount,
  withStackProcess,
} from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';

const runs = 400;
const warmUp = 100;
/** DESIGN: an authenticated, validated read under 150 us of CPU on Node. */
const budgetUs = 150;

/** Median CPU (user + system) of one call of `work`, in microseconds. */
async function medianCpuUs(work: () => Promise<unknown>): Promise<number> {
  return (await medianCost(work, { runs, warmUp })).cpuUs;
}

const us = (value: number) => `${value.toFixed(0).padStart(5)} us`;

export const readCpu: Benchmark = {
  name: 'read-cpu',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
      const app = benchApp(stack.env);
      const userId = await registerBenchAccount(app);
      const token = await loginBenchAccount(app);
      // Neither read hands work to waitUntil, so nothing is left to wait for between requests.
      const read = async (path: string) => {
        const response = await app.request('GET', path, { token });
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
        await response.arrayBuffer();
      };
      const cached = await medianCpuUs(() => read(`/v1/users/${userId}`));
      const me = await medianCpuUs(() => read('/v1/me'));
      const health = await medianCpuUs(() => read('/health'));
      const redis = new UpstashRedis({
        url: stack.env.UPSTASH_REDIS_REST_URL ?? '',
        token: stack.env.UPSTASH_REDIS_REST_TOKEN ?? '',
        timeoutMs: 10_000,
      });
      const pipelineAlone = await medianCpuUs(() =>
        Promise.all([redis.get('bench:a'), redis.get('bench:b'), redis.get('bench:c')]),
      );
      const ours = cached - pipelineAlone;
      return {
        lines: [
          `median of ${runs} requests after ${warmUp} warm-up ones, on Node ${process.version}; CPU is user + system time`,
          `GET /v1/users/{id}, from cache, bearer token   ${us(cached)}`,
          `GET /v1/me, from the database, bearer token    ${us(me)}`,
          `GET /health, no backend                        ${us(health)}`,
          `one Redis pipeline alone (the fetch client)    ${us(pipelineAlone)}`,
          `the cached read less its round trip            ${us(ours)}   budget ${budgetUs} us: ${ours <= budgetUs ? 'within budget' : 'over budget'}`,
        ],
        overBudget:
          ours <= budgetUs
            ? []
            : [`an authenticated read from cache costs ${ours.toFixed(0)} us > ${budgetUs} us`],
      };
    }),
};
