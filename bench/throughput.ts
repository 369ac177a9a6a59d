// Requests per second, side by side, under the same load (bench/throughput/load.ts: autocannon in
// a process of its own, 10 connections): each pair of servers runs in turns, A B A B A B, one
// at a time, and the median of each is compared, which evens out a shared, noisy machine.
// - Node: our cached authenticated read, GET /v1/users/{id} with a bearer token answered from
//   cache, against the same route written the Express way (bench/throughput/serve-express.ts) doing
//   the same Redis requests through the same clients. Goal: ours at least 1.5x Express.
// - workerd: the real Worker bundle serving that read, against a bare Hono app answering a constant
//   JSON (bench/throughput/bare-worker.ts). Goal: ours at least half the bare app.
// Both sides of each pair talk to the same local stack (a child process), so its Redis REST server
// is part of both figures; the logs are at error level, as in the other benches.
import { join } from 'node:path';
import { buildWorker } from '../local-stack/wrangler.ts';
import { forgetCachedProfiles } from '../src/modules/users/users.service.ts';
import { createCache } from '../src/platform/cache.ts';
import {
  benchApp,
  benchJwtVars,
  loginBenchAccount,
  median,
  registerBenchAccount,
  withStackProcess,
} from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';
import { loadSettings, requestsPerSecond } from './throughput/load.ts';
import { type RunningServer, startNodeServer, startWorker } from './throughput/servers.ts';

const rounds = 3;
/** Goals, the project treats them as budgets: ours / Express on Node, ours / bare Hono on workerd. */
const nodeGoal = 1.5;
const workerdGoal = 0.5;

interface Contender {
  /** Short name for the ratio line, e.g. "Express". */
  name: string;
  label: string;
  start(): Promise<RunningServer>;
  /** Throws unless the server's answer to the measured request is the expected one. */
  check(response: Response): Promise<void>;
}

interface Measured extends Contender {
  perRound: number[];
}

/** Runs ours and the other in turns, each started for its round and stopped after it. */
async function measureInTurns(
  pair: [Contender, Contender],
  path: string,
  headers: Record<string, string>,
  beforeRound: () => Promise<void>,
): Promise<[Measured, Measured]> {
  const measured: [Measured, Measured] = [
    { ...pair[0], perRound: [] },
    { ...pair[1], perRound: [] },
  ];
  for (let round = 0; round < rounds; round += 1) {
    for (const contender of measured) {
      await beforeRound();
      const server = await contender.start();
      try {
        await contender.check(await fetch(`${server.origin}${path}`, { headers }));
        contender.perRound.push(await requestsPerSecond(`${server.origin}${path}`, headers));
      } finally {
        await server.stop();
      }
    }
  }
  return measured;
}

function expectStatus(status: number) {
  return async (response: Response) => {
    const text = await response.text();
    if (response.status !== status)
      throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  };
}

const rate = (value: number) => `${value.toFixed(0).padStart(6)} req/s`;

function comparison([ours, other]: [Measured, Measured], goal: number) {
  const ratio = median(ours.perRound) / median(other.perRound);
  const within = ratio >= goal;
  const row = ({ label, perRound }: Measured) =>
    `  ${label.padEnd(52)} ${rate(median(perRound))}   (rounds ${perRound.map((v) => v.toFixed(0)).join(', ')})`;
  return {
    lines: [
      row(ours),
      row(other),
      `  ours / ${other.name}: ${ratio.toFixed(2)}x   goal >= ${goal}x: ${within ? 'met' : 'MISSED'}`,
    ],
    overBudget: within ? [] : [`${ours.label}: ${ratio.toFixed(2)}x ${other.name} < ${goal}x`],
  };
}

export const throughput: Benchmark = {
  name: 'throughput',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
      const app = benchApp(stack.env);
      const userId = await registerBenchAccount(app);
      const token = await loginBenchAccount(app);
      const path = `/v1/users/${userId}`;
      const headers = { authorization: `Bearer ${token}` };
      // A cached profile lives 60 s, less than the run: each round starts with a fresh entry, filled
      // by the app itself (invalidate the group, read once, wait for the fill).
      const recache = async () => {
        await forgetCachedProfiles(createCache(app.deps));
        await expectStatus(200)(await app.request('GET', path, { token }));
        await app.settled();
      };
      const expectProfile = async (response: Response) => {
        const body = (await response.json()) as { success?: boolean; data?: { id?: string } };
        if (response.status !== 200 || body.success !== true || body.data?.id !== userId) {
          throw new Error(`expected the profile, got ${response.status}: ${JSON.stringify(body)}`);
        }
      };
      const serverEnv = {
        ...stack.env,
        ...benchJwtVars,
        APP_ENV: 'test',
        LOG_LEVEL: 'error',
        // The load comes from one address; limits are counted, never reached.
        RATE_LIMIT_GENERAL: '1000000/1h',
        // As in the e2e tests: a loaded machine is not a Redis outage.
        RATE_LIMIT_TIMEOUT_MS: '10000',
        CACHE_TIMEOUT_MS: '10000',
      };

      const node = await measureInTurns(
        [
          {
            name: 'ours',
            label: 'ours: createApp on @hono/node-server',
            start: () => startNodeServer('bench/throughput/serve-app.ts', serverEnv),
            check: expectProfile,
          },
          {
            name: 'Express',
            label: 'Express + jsonwebtoken + zod, same Redis requests',
            start: () => startNodeServer('bench/throughput/serve-express.ts', serverEnv),
            check: expectProfile,
          },
        ],
        path,
        headers,
        recache,
      );

      const worker = await buildWorker(join(workDir, 'worker'));
      const bare = await buildWorker(join(workDir, 'bare'), 'bench/throughput/bare-worker.ts');
      const workerd = await measureInTurns(
        [
          {
            name: 'ours',
            label: 'ours: the Worker bundle, same read',
            start: () => startWorker(worker, serverEnv),
            check: expectProfile,
          },
          {
            name: 'bare Hono',
            label: 'bare Hono Worker, constant JSON',
            start: () => startWorker(bare, {}),
            check: expectStatus(200),
          },
        ],
        path,
        headers,
        recache,
      );

      const { connections, warmUpSeconds, seconds } = loadSettings;
      const onNode = comparison(node, nodeGoal);
      const onWorkerd = comparison(workerd, workerdGoal);
      return {
        lines: [
          `GET /v1/users/{id} from cache with a bearer token; autocannon in its own process, ${connections} connections,`,
          `${warmUpSeconds} s warm-up then ${seconds} s measured; median of ${rounds} rounds, servers in turns, one at a time`,
          `Node ${process.version}`,
          ...onNode.lines,
          'workerd (Miniflare)',
          ...onWorkerd.lines,
        ],
        overBudget: [...onNode.overBudget, ...onWorkerd.overBudget],
      };
    }),
};
