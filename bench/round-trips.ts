// The outbound round trips of a request, counted where they arrive: a counting proxy in front of
// each local server (libSQL, Upstash Redis REST, QStash) forwards every HTTP request and notes
// which backend it reached and whether the response had already left.
// The budgets: an authenticated read answered from cache waits for ONE round trip, to Redis (rate
// limit, token deny-list and cache read leave together; the official client may send them as two
// concurrent requests, reads and writes apart), none to the database; an uncached read two (Redis,
// database); a write at most three, its publish to QStash leaving after the response.
import { once } from 'node:events';
import { createServer, request as forward, type Server } from 'node:http';
import { signPartnerHmac } from '../src/lib/signatures/partner-hmac.ts';
import { createPartnersRepository } from '../src/modules/partners/partners.repository.ts';
import { createPartner } from '../src/modules/partners/partners.service.ts';
import { createCache } from '../src/platform/cache.ts';
import {
  type BenchApp,
  benchAccount,
  benchApp,
  loginBenchAccount,
  registerBenchAccount,
  type StackEnv,
  startStackProcess,
} from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';

type Backend = 'database' | 'redis' | 'qstash';

const backendUrls: Record<Backend, string> = {
  database: 'TURSO_DATABASE_URL',
  redis: 'UPSTASH_REDIS_REST_URL',
  qstash: 'QSTASH_URL',
};

interface Arrival {
  backend: Backend;
  path: string;
  /** Redis: the commands the request carried (a pipeline carries several). */
  commands: string[];
  /** Arrived after the response had been returned: waitUntil work, not on the user's path. */
  background: boolean;
  /** When it arrived and when its answer had been sent (performance.now(), ms). */
  arrivedAt: number;
  answeredAt: number;
}

interface CountingProxies {
  env: StackEnv;
  /** Starts a new count; `answered()` marks the moment the response was returned. */
  count(): { arrivals: Arrival[]; answered(): void };
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/**
 * Each answer is held back as a network between regions would hold it. Requests the app sends
 * together are then in flight together however busy the machine is, and only a real dependency
 * (one request waiting for another's answer) makes a chain: on loopback alone, a Redis answer
 * could come back before the database request sent beside it had arrived, and count as before it.
 */
const simulatedLatencyMs = 25;

async function startCountingProxies(stackEnv: StackEnv): Promise<CountingProxies> {
  let current: { arrivals: Arrival[]; responded: boolean } = { arrivals: [], responded: false };
  const servers: Server[] = [];
  const env = { ...stackEnv };
  for (const [backend, variable] of Object.entries(backendUrls) as [Backend, string][]) {
    const target = new URL(stackEnv[variable] ?? '');
    const server = createServer((incoming, outgoing) => {
      const arrival: Arrival = {
        backend,
        path: incoming.url ?? '/',
        commands: [],
        background: current.responded,
        arrivedAt: performance.now(),
        answeredAt: Number.POSITIVE_INFINITY,
      };
      current.arrivals.push(arrival);
      outgoing.on('finish', () => {
        arrival.answeredAt = performance.now();
      });
      let body = '';
      incoming.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      incoming.on('end', () => {
        if (backend === 'redis') arrival.commands = redisCommandsOf(body);
      });
      const upstream = forward(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: target.host },
        },
        (answer) => {
          setTimeout(() => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          }, simulatedLatencyMs);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      incoming.pipe(upstream);
    });
    servers.push(server);
    const port = await listen(server);
    const proxied = new URL(target);
    proxied.port = String(port);
    env[variable] = proxied.toString().replace(/\/$/, '');
  }
  return {
    env,
    count() {
      current = { arrivals: [], responded: false };
      const counted = current;
      return {
        arrivals: counted.arrivals,
        answered: () => {
          counted.responded = true;
        },
      };
    },
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
    },
  };
}

/** The command names of an Upstash REST body: one command (`["GET","k"]`) or a pipeline of them. */
function redisCommandsOf(body: string): string[] {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!Array.isArray(parsed)) return [];
    const commands = Array.isArray(parsed[0]) ? (parsed as unknown[][]) : [parsed];
    return commands.map((command) => String(command[0]).toUpperCase());
  } catch {
    return [];
  }
}

interface Scenario {
  name: string;
  /** `METHOD /path` as the report shows it. */
  route: string;
  /** Sends the request; called twice, the first time as the warm-up. */
  send(): Promise<Response>;
  status: number;
  /**
   * The budget, which fails the run: the round trips one after another before the response, and
   * for the cached read also how many HTTP requests they may be and that none reaches the database.
   */
  budget: { sequential: number; requests?: number; noDatabase?: boolean };
  goal: string;
}

/** A partner as the admin API creates it, with its secret in the clear. */
async function benchPartner(app: BenchApp, actorId: string) {
  const { deps } = app;
  const { partner, secret } = await createPartner(
    {
      partners: createPartnersRepository(deps.db),
      clock: deps.clock,
      config: deps.config,
      cache: createCache(deps),
    },
    actorId,
    { name: 'Bench Partner', scheme: 'hmac-sha256' },
  );
  return { id: partner.id, secret: secret.secret };
}

/** A new signed event each time, as a partner sends them. */
function partnerEventSender(app: BenchApp, partner: { id: string; secret: string }) {
  return async () => {
    const event = { id: crypto.randomUUID(), type: 'invoice.paid', data: { amount: 4200 } };
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signPartnerHmac(partner.secret, timestamp, JSON.stringify(event));
    return app.request('POST', `/webhooks/partners/${partner.id}`, {
      body: event,
      headers: { 'x-timestamp': String(timestamp), 'x-signature': signature },
    });
  };
}

/**
 * Round trips one after another: the longest chain of requests each sent after the one before had
 * its answer. Requests in flight together (a Redis SET beside a database batch) count once.
 */
function sequentialRoundTrips(arrivals: Arrival[]): number {
  const byArrival = [...arrivals].sort((a, b) => a.arrivedAt - b.arrivedAt);
  const chain = new Map<Arrival, number>();
  for (const arrival of byArrival) {
    const before = byArrival.filter((other) => other.answeredAt <= arrival.arrivedAt);
    chain.set(arrival, 1 + Math.max(0, ...before.map((other) => chain.get(other) ?? 0)));
  }
  return Math.max(0, ...chain.values());
}

function describeArrivals(arrivals: Arrival[]): string {
  if (arrivals.length === 0) return 'none';
  return arrivals
    .map((arrival) => {
      const commands = arrival.commands.length > 0 ? ` [${arrival.commands.join(', ')}]` : '';
      return `${arrival.backend} ${arrival.path}${commands}`;
    })
    .join(', ');
}

export const roundTrips: Benchmark = {
  name: 'round-trips',
  async run(workDir) {
    const stack = await startStackProcess(workDir);
    const proxies = await startCountingProxies(stack.env).catch(async (error: unknown) => {
      await stack.close();
      throw error;
    });
    try {
      const app = benchApp(proxies.env);
      const userId = await registerBenchAccount(app);
      const token = await loginBenchAccount(app);
      await app.settled();

      const partner = await benchPartner(app, userId);
      const scenarios: Scenario[] = [
        // No route both requires a session and answers from cache yet: the cached profile read,
        // sent with a bearer token, pays for the same deny-list read and rate-limit check.
        {
          name: 'read answered from cache, with a bearer token',
          route: 'GET /v1/users/{id}',
          send: () => app.request('GET', `/v1/users/${userId}`, { token }),
          status: 200,
          budget: { sequential: 1, requests: 2, noDatabase: true },
          goal: 'budget: 1 round trip, at most 2 concurrent requests to Redis, none to the database',
        },
        {
          name: 'authenticated read, uncached',
          route: 'GET /v1/me',
          send: () => app.request('GET', '/v1/me', { token }),
          status: 200,
          budget: { sequential: 2 },
          goal: 'budget 2: Redis, then the database',
        },
        {
          name: 'partner webhook, partner cached',
          route: 'POST /webhooks/partners/{id}',
          send: partnerEventSender(app, partner),
          status: 202,
          budget: { sequential: 3 },
          goal:
            'write budget 3: Redis pipeline (rate limit, partner record), Redis (replay guard), ' +
            'database batch (event and its job); the publish after the response',
        },
        {
          name: 'registration',
          route: 'POST /v1/auth/register',
          send: () =>
            app.request('POST', '/v1/auth/register', {
              body: { ...benchAccount, email: `bench-${crypto.randomUUID()}@bench.test` },
            }),
          status: 201,
          budget: { sequential: 3 },
          goal:
            'write budget 3: Redis pipeline (general and sign-up limits), database batch ' +
            '(account, first session, staged jobs); the batch publish after the response',
        },
        {
          name: 'login',
          route: 'POST /v1/auth/login',
          send: () =>
            app.request('POST', '/v1/auth/login', {
              body: { email: benchAccount.email, password: benchAccount.password },
            }),
          status: 200,
          budget: { sequential: 3 },
          goal:
            'write budget 3: Redis (general limit), Redis (guess taken) beside the account read, ' +
            'Redis (guess given back) beside the session insert',
        },
      ];
      const lines: string[] = [
        'HTTP requests arriving at the local servers, per request (after one warm-up request)',
      ];
      const overBudget: string[] = [];
      for (const scenario of scenarios) {
        // The warm-up fills the cache and the limiter's script cache, as traffic would.
        const warm = await scenario.send();
        if (warm.status !== scenario.status) {
          throw new Error(`${scenario.route} answered ${warm.status}: ${await warm.text()}`);
        }
        await app.settled();
        const counted = proxies.count();
        const response = await scenario.send();
        counted.answered();
        if (response.status !== scenario.status) {
          throw new Error(
            `${scenario.route} answered ${response.status}: ${await response.text()}`,
          );
        }
        await response.arrayBuffer();
        await app.settled();
        const onPath = counted.arrivals.filter((arrival) => !arrival.background);
        const after = counted.arrivals.filter((arrival) => arrival.background);
        const sequential = sequentialRoundTrips(onPath);
        lines.push(
          `${scenario.name}, ${scenario.route}: ${onPath.length} request(s), ${sequential} round trip(s) in sequence, before the response (${scenario.goal})`,
          `    before: ${describeArrivals(onPath)}`,
          `    after the response (waitUntil): ${describeArrivals(after)}`,
        );
        const { budget } = scenario;
        if (sequential > budget.sequential) {
          overBudget.push(
            `${scenario.name}: ${sequential} round trips in sequence > ${budget.sequential}`,
          );
        }
        if (budget.requests !== undefined && onPath.length > budget.requests) {
          overBudget.push(`${scenario.name}: ${onPath.length} requests > ${budget.requests}`);
        }
        if (budget.noDatabase && onPath.some((arrival) => arrival.backend === 'database')) {
          overBudget.push(`${scenario.name}: the database was asked`);
        }
      }
      return { lines, overBudget };
    } finally {
      await proxies.close();
      await stack.close();
    }
  },
};
