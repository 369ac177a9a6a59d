// What counting a request into the metrics costs, on the cached read (GET /v1/users/{id} answered
// from cache, with a bearer token): the app with METRICS_ENABLED=true against the same app with
// it false, on one stack. The backends' replies are replayed in-process (read-cpu/replay.ts), so
// the CPU counted is this process's work on them, not the socket work of Node's fetch; each
// request is counted until its waitUntil work has settled, so the metrics' own write after the
// response is in its figure. Beside the CPU, the Redis requests each read sends. Reported, with no
// budget: the figure to weigh against what the series tell.
//
// The two subjects run interleaved, batch after batch, so a slow stretch of the shared machine
// falls on both alike; each batch starts with a few requests not counted (what the other subject
// left behind: its garbage, the caches it evicted).
import type { ExecutionContext } from 'hono';
import { createApp } from '../src/app.ts';
import { jsonRequest } from '../tests/support/json-request.ts';
import {
  benchApp,
  loginBenchAccount,
  median,
  registerBenchAccount,
  withStackProcess,
} from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';
import { createReplay } from './read-cpu/replay.ts';
import { expectOk } from './read-cpu/signed-in.ts';

const warmUpRounds = 15;
const rounds = 40;
const batch = 25;
const settle = 5;

/** One GET; resolves once its response is read and its waitUntil work has settled. */
type Read = () => Promise<void>;

interface Subject {
  label: string;
  read: Read;
  /** CPU per counted request, in microseconds. */
  costs: number[];
  counted: number;
  redisRequests: number;
}

/**
 * The app on `env`, each request with an execution context of its own, whose work is awaited
 * before the next request starts, and is counted as that request's.
 */
function reader(env: Record<string, string>, path: string, token: string): Read {
  const app = createApp(benchApp(env).deps);
  return async () => {
    const background: Promise<unknown>[] = [];
    const executionCtx: ExecutionContext = {
      waitUntil: (work) => background.push(work),
      passThroughOnException: () => {},
      props: {},
    };
    const init = jsonRequest('GET', { ip: '198.18.0.1', token });
    await expectOk(await app.request(path, init, {}, executionCtx), path);
    // Work may hand over more work (a cache fill): until none is left.
    while (background.length > 0) await Promise.all(background.splice(0));
  };
}

/** globalThis.fetch, counting the requests to `url` on their way to the fetch it wraps. */
async function countingRequestsTo<T>(
  url: string,
  onRequest: () => void,
  work: () => Promise<T>,
): Promise<T> {
  const inner = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (String(input).startsWith(url)) onRequest();
    return inner(input, init);
  };
  try {
    return await work();
  } finally {
    globalThis.fetch = inner;
  }
}

const us = (value: number) => `${value.toFixed(0).padStart(5)} us`;

export const metrics: Benchmark = {
  name: 'metrics',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
      const setUp = benchApp(stack.env);
      const userId = await registerBenchAccount(setUp);
      const token = await loginBenchAccount(setUp);
      const path = `/v1/users/${userId}`;
      const subjects: Subject[] = (['false', 'true'] as const).map((enabled) => ({
        label: `cached read, METRICS_ENABLED=${enabled}`,
        read: reader({ ...stack.env, METRICS_ENABLED: enabled }, path, token),
        costs: [],
        counted: 0,
        redisRequests: 0,
      }));
      // The first read misses and fills the cache after its response; every later one hits.
      await subjects[0]?.read();

      const replay = createReplay();
      const redisUrl = stack.env.UPSTASH_REDIS_REST_URL ?? '';
      const runBatch = (subject: Subject, counted: boolean) =>
        replay.run(async () => {
          for (let i = 0; i < settle; i += 1) await subject.read();
          await countingRequestsTo(
            redisUrl,
            () => {
              if (counted) subject.redisRequests += 1;
            },
            async () => {
              for (let i = 0; i < batch; i += 1) {
                const before = process.cpuUsage();
                await subject.read();
                const used = process.cpuUsage(before);
                if (!counted) continue;
                subject.costs.push(used.user + used.system);
                subject.counted += 1;
              }
            },
          );
        });
      // The first replayed requests record the replies; the warm-up is where that happens.
      for (let round = 0; round < warmUpRounds; round += 1) {
        for (const subject of subjects) await runBatch(subject, false);
      }
      const recorded = replay.fetched;
      for (let round = 0; round < rounds; round += 1) {
        for (const subject of subjects) await runBatch(subject, true);
      }
      const fetchedWhileMeasured = replay.fetched - recorded;

      const cpu = subjects.map((subject) => median(subject.costs));
      const requests = subjects.map((subject) => subject.redisRequests / subject.counted);
      const [cpuOff = 0, cpuOn = 0] = cpu;
      const [requestsOff = 0, requestsOn = 0] = requests;
      const share = ((cpuOn - cpuOff) / cpuOff) * 100;
      return {
        lines: [
          `median CPU (user + system) per request, waitUntil work included, ${rounds * batch} requests each in ${rounds} interleaved rounds of ${batch} (after ${settle} uncounted, ${warmUpRounds} warm-up rounds), backends replayed, on Node ${process.version}`,
          ...subjects.map(
            (subject, i) =>
              `${subject.label.padEnd(38)} ${us(cpu[i] ?? 0)}   ${(requests[i] ?? 0).toFixed(2)} Redis requests per request`,
          ),
          `${'counting a request'.padEnd(38)} ${us(cpuOn - cpuOff)} (${share >= 0 ? '+' : ''}${share.toFixed(0)}%)   ${(requestsOn - requestsOff >= 0 ? '+' : '') + (requestsOn - requestsOff).toFixed(2)} Redis requests per request, sent after the response`,
          ...(fetchedWhileMeasured > 0
            ? [
                `(${fetchedWhileMeasured} replies fetched for real while measuring: a duration bucket first seen then)`,
              ]
            : []),
        ],
        overBudget: [],
      };
    }),
};
