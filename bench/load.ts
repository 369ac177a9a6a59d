// The whole edge under sustained mixed load: the Worker bundle in workerd (Miniflare), configured
// as wrangler.toml deploys it (production, LOG_LEVEL info, default rate limits and timeouts),
// bound to the local stack in a child process (libSQL, the Upstash REST server over a private
// redis-server, the QStash broker, which delivers the edge's jobs back to the Worker), with a
// seeded catalogue and accounts registered through the API. LOAD_CLIENTS clients (200) send
// requests one after another for LOAD_SECONDS (60) after a warm-up: nine in ten are visitors
// reading, searching, writing, signing up and in (bench/load/traffic.ts), one in ten share one
// address and hammer a product read, to check that the general limit admits exactly its quota
// under load (bench/load/shared-address.ts).
//
// Budgets: no 5xx and no request left without an answer; the shared address admitted its quota
// to the token, give or take the documented slack; workerd's, the stack's and redis-server's RSS
// grew less than 64 MiB from after the warm-up to after the run, each read once QStash's
// deliveries have stopped and after a full garbage collection where the process allows one
// (bench/load/garbage.ts), whose heap after it is printed beside. Around them, what explains the
// figures on a shared machine: the CPU each process had, the Upstash REST server's latency asked
// from outside the Worker, the Worker's own 5xx lines and warnings, and the RSS every 5 s. The
// clients run in this process, on the same cores.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { buildWorker } from '../local-stack/wrangler.ts';
import { configSchema } from '../src/config.ts';
import { seededRandom } from '../src/lib/seeded-random.ts';
import { startPrivateRedis } from '../tests/e2e/harness/redis-server.ts';
import {
  benchAccount,
  benchJwtVars,
  type StackProcess,
  startStackProcess,
} from './app-on-stack.ts';
import type { Benchmark, BenchmarkReport } from './benchmark.ts';
import {
  collectableNodeArgs,
  collectStackGarbage,
  collectWorkerdGarbage,
  type Heap,
} from './load/garbage.ts';
import { type JobSink, startJobSink } from './load/job-sink.ts';
import { Recorder } from './load/recorder.ts';
import { probeRedis } from './load/redis-probe.ts';
import {
  memoryLines,
  type ProcessMemory,
  statusList,
  tableHeader,
  tableRow,
  together,
} from './load/report.ts';
import { registerAccounts, seedCatalogue } from './load/setup.ts';
import {
  emptyFigures,
  exactnessReport,
  runSharedAddressClient,
  type SharedAddressFigures,
  sharedAddressKind,
} from './load/shared-address.ts';
import { type Account, kinds, type LoadTarget, runClient } from './load/traffic.ts';
import { countCpu, sampleRss, type Watched } from './load/usage.ts';
import { WorkerConsole } from './load/worker-console.ts';
import { descendantRunning, residentBytes } from './process-usage.ts';
import { startWorker } from './throughput/servers.ts';

const seededProducts = 3_000;
const registeredAccounts = 300;
const registrationConcurrency = 4;
/** One visitor in this many is anonymous. */
const anonymousEvery = 5;
const warmUpSeconds = 5;
/** Settled: QStash delivered nothing to the Worker for this long, or `settleMaxMs` passed. */
const quietMs = 3_000;
const settleMaxMs = 60_000;
const memoryBudgetMib = 64;
const sharedIp = '198.51.100.1';

interface LoadSettings {
  seconds: number;
  clients: number;
  /** Of `clients`, those sharing one address. */
  shared: number;
}

function positiveIntegerFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

function loadSettings(): LoadSettings {
  const seconds = positiveIntegerFrom('LOAD_SECONDS', 60);
  const clients = positiveIntegerFrom('LOAD_CLIENTS', 200);
  if (clients < 5) throw new Error(`LOAD_CLIENTS must be at least 5, got ${clients}`);
  return { seconds, clients, shared: Math.max(2, Math.round(clients / 10)) };
}

/** The rules the Worker runs with, none being set: its config parser's defaults. */
const defaultRules = {
  general: configSchema.shape.RATE_LIMIT_GENERAL.parse(undefined),
  signup: configSchema.shape.RATE_LIMIT_SIGNUP.parse(undefined),
};

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  await new Promise((done) => probe.close(done));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** 10.0.0.1, 10.0.0.2, ...: each address once. */
function addressCounter(): () => string {
  let next = 0;
  return () => {
    next += 1;
    return `10.${(next >> 16) & 255}.${(next >> 8) & 255}.${next & 255}`;
  };
}

interface Phase {
  recorder: Recorder;
  shared: SharedAddressFigures;
  seconds: number;
}

/** Every client at once for `seconds`, the shared-address group among them when asked. */
async function runPhase(
  target: LoadTarget,
  settings: LoadSettings,
  seconds: number,
  withSharedAddress: boolean,
  seed: number,
): Promise<Phase> {
  const recorder = new Recorder();
  const shared = emptyFigures();
  const visitors = withSharedAddress ? settings.clients - settings.shared : settings.clients;
  const readPath = `/v1/products/${target.productIds[0]}`;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all([
    ...Array.from({ length: visitors }, (_, i) => {
      const account: Account | undefined =
        i % anonymousEvery === 0 ? undefined : target.accounts[i % target.accounts.length];
      return runClient(target, recorder, seededRandom(seed + i), deadline, account);
    }),
    ...Array.from({ length: withSharedAddress ? settings.shared : 0 }, () =>
      runSharedAddressClient(target, recorder, shared, sharedIp, readPath, deadline),
    ),
  ]);
  return { recorder, shared, seconds: (performance.now() - started) / 1000 };
}

/** Until QStash's deliveries to the Worker have stopped, or `settleMaxMs`. */
async function settle(workerConsole: WorkerConsole): Promise<void> {
  const delivered = () => [...workerConsole.jobDeliveries.values()].reduce((a, b) => a + b, 0);
  const until = performance.now() + settleMaxMs;
  let seen = -1;
  while (seen !== delivered() && performance.now() < until) {
    seen = delivered();
    await sleep(quietMs);
  }
}

interface MemoryReading {
  rss: number[];
  /** The heap of each that can be asked, after its collection. */
  heap: (Heap | undefined)[];
}

/** Once settled: each of `watched` collected where it can be, then its RSS read. */
async function settledMemory(
  workerConsole: WorkerConsole,
  watched: readonly Watched[],
): Promise<MemoryReading> {
  await settle(workerConsole);
  const heap: (Heap | undefined)[] = [];
  for (const { collect } of watched) heap.push(await collect?.());
  return { rss: watched.map(({ pid }) => residentBytes(pid)), heap };
}

async function redisKeys(url: string): Promise<number> {
  const { stdout } = await promisify(execFile)('redis-cli', ['-u', url, 'dbsize']);
  return Number(stdout.trim());
}

interface Measured {
  settings: LoadSettings;
  target: LoadTarget;
  run: Phase;
  memory: ProcessMemory[];
  cpu: string;
  /** The Upstash REST server's PING latencies during the run, from this process. */
  redisPings: number[];
  redisKeyCount: number;
  workerConsole: WorkerConsole;
  sink: JobSink;
}

async function measure(
  workDir: string,
  settings: LoadSettings,
  stack: StackProcess,
  sink: JobSink,
  redisUrl: string,
): Promise<Measured> {
  const catalogue = await seedCatalogue(stack.env, seededProducts);
  const build = await buildWorker(join(workDir, 'worker'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const workerConsole = new WorkerConsole();
  const worker = await startWorker(
    build,
    {
      ...build.vars,
      ...stack.env,
      ...benchJwtVars,
      // QStash delivers the edge's jobs to the Worker itself, the Node worker's to the stand-in.
      API_PUBLIC_URL: origin,
      JOBS_BASE_URL: sink.url,
    },
    {
      r2Buckets: ['FILES'],
      port,
      inspect: true,
      handleRuntimeStdio: (stdout, stderr) => {
        workerConsole.follow(stdout);
        workerConsole.follow(stderr);
      },
    },
  );
  try {
    let accountNumbers = 0;
    const target: LoadTarget = {
      origin,
      ...catalogue,
      accounts: [],
      password: benchAccount.password,
      limits: { general: defaultRules.general.limit, signup: defaultRules.signup.limit },
      freshAddress: addressCounter(),
      freshAccountNumber: () => {
        accountNumbers += 1;
        return accountNumbers;
      },
      ownProducts: new Map(),
    };
    await registerAccounts(target, new Recorder(), registeredAccounts, registrationConcurrency);
    const inspector = worker.inspector;
    if (inspector === undefined) throw new Error('the Worker was started without its inspector');
    // The liveness probe, which has no rate limit and asks no backend, wakes the isolates.
    const poke = async () => {
      await (await fetch(`${origin}/health`)).arrayBuffer();
    };
    const watched: Watched[] = [
      {
        label: 'workerd',
        pid: descendantRunning('workerd'),
        collect: () => collectWorkerdGarbage(inspector, poke),
      },
      {
        label: 'stack (Node)',
        pid: stack.pid,
        collect: () => collectStackGarbage(stack.pid, stack.dir),
      },
      { label: 'redis-server', pid: descendantRunning('redis-server') },
    ];
    const idle = await settledMemory(workerConsole, watched);
    await runPhase(target, settings, Math.min(warmUpSeconds, settings.seconds), false, 1_000_000);
    const start = await settledMemory(workerConsole, watched);

    workerConsole.clear();
    const stopSampling = sampleRss(watched);
    const stopCounting = countCpu(watched);
    const probe = probeRedis(
      stack.env.UPSTASH_REDIS_REST_URL ?? '',
      stack.env.UPSTASH_REDIS_REST_TOKEN ?? '',
    );
    const run = await runPhase(target, settings, settings.seconds, true, 0);
    const redisPings = await probe.stop();
    const cpu = stopCounting();
    const rss = stopSampling();
    const end = await settledMemory(workerConsole, watched);

    const redisKeyCount = await redisKeys(redisUrl);
    if (redisKeyCount === 0) throw new Error('the stack did not use the private redis-server');
    const memory = watched.map(({ label }, i) => ({
      label,
      idle: idle.rss[i] ?? 0,
      start: start.rss[i] ?? 0,
      peak: rss.peaks[i] ?? 0,
      series: rss.series[i] ?? [],
      end: end.rss[i] ?? 0,
      heapStart: start.heap[i],
      heapEnd: end.heap[i],
    }));
    return { settings, target, run, memory, cpu, redisPings, redisKeyCount, workerConsole, sink };
  } finally {
    await worker.stop();
  }
}

const counted = (counts: ReadonlyMap<string, number>) =>
  [...counts].sort(([, a], [, b]) => b - a).map(([what, times]) => `  x${times} ${what}`);

function report(measured: Measured): BenchmarkReport {
  const { settings, target, run, workerConsole, sink } = measured;
  const { recorder, seconds } = run;
  const byKind = kinds.flatMap((kind) => {
    const figures = recorder.kinds.get(kind);
    return figures === undefined ? [] : [{ kind, figures }];
  });
  const visitors = together(byKind.map(({ figures }) => figures));
  const everything = together([...recorder.kinds.values()]);
  const sharedFigures = recorder.kinds.get(sharedAddressKind);
  const serverErrors = [...recorder.serverErrors.values()].reduce((a, b) => a + b, 0);
  const unanswered = [...everything.statuses]
    .filter(([status]) => status.startsWith('no answer'))
    .reduce((sum, [, times]) => sum + times, 0);
  const limit = exactnessReport(
    defaultRules.general,
    run.shared,
    `${settings.shared} clients sharing ${sharedIp}, GET /v1/products/{id}`,
  );
  const memory = memoryLines(measured.memory, memoryBudgetMib);
  const pings = { latencies: measured.redisPings, statuses: new Map<string, number>() };
  const warmUp = Math.min(warmUpSeconds, settings.seconds);
  return {
    lines: [
      'the Worker bundle in workerd (Miniflare) as wrangler.toml deploys it (production, LOG_LEVEL',
      'info, default limits and timeouts), on the local stack in a child process (libSQL, Upstash',
      'REST over a private redis-server, QStash delivering edge jobs to the Worker and Node jobs to',
      `a stand-in); seeded ${seededProducts} products (${target.productIds.length} listed), ` +
        `${registeredAccounts} accounts registered through the API, each with a session`,
      `${settings.clients} clients for ${settings.seconds} s after a ${warmUp} s warm-up: ` +
        `${settings.clients - settings.shared} visitors (1 in ${anonymousEvery} anonymous, each ` +
        `address left before ${target.limits.general} requests or ${target.limits.signup} ` +
        `sign-ups), ${settings.shared} sharing one address; Node ${process.version}`,
      `total ${everything.latencies.length} requests in ${seconds.toFixed(1)} s, ` +
        `${(everything.latencies.length / seconds).toFixed(0)} req/s`,
      tableHeader,
      tableRow('all visitors', visitors, seconds),
      ...byKind.map(({ kind, figures }) => tableRow(kind, figures, seconds)),
      ...(sharedFigures === undefined ? [] : [tableRow(sharedAddressKind, sharedFigures, seconds)]),
      tableRow('Redis PING', pings, seconds),
      '  (Redis PING: the Upstash REST server asked from this process every 250 ms)',
      `5xx answers: ${serverErrors}   budget 0: ${serverErrors === 0 ? 'PASS' : 'OVER'}`,
      ...counted(recorder.serverErrors),
      `requests without an answer: ${unanswered}   budget 0: ${unanswered === 0 ? 'PASS' : 'OVER'}`,
      `429s to visitors (none expected: no address went over its limits): ${visitors.statuses.get('429') ?? 0}`,
      `rate limit exactness: ${limit.line}`,
      measured.cpu,
      ...memory.lines,
      `redis-server: ${measured.redisKeyCount} keys at the end`,
      `QStash deliveries to the Worker, from the run on: ${statusList(workerConsole.jobDeliveries) || 'none'}`,
      `QStash deliveries to the Node worker's stand-in, from the start: ${statusList(sink.delivered) || 'none'}`,
      ...(workerConsole.serverErrors.size === 0
        ? []
        : [
            "workerd's 5xx request lines, from the run on:",
            ...counted(workerConsole.serverErrors),
          ]),
      ...(workerConsole.problems.size === 0
        ? []
        : ["workerd's warnings and errors, from the run on:", ...counted(workerConsole.problems)]),
      ...(workerConsole.text.size === 0
        ? []
        : ["workerd's other output:", ...counted(workerConsole.text).slice(0, 10)]),
    ],
    overBudget: [
      ...(serverErrors === 0 ? [] : [`${serverErrors} 5xx answers (budget 0)`]),
      ...(unanswered === 0 ? [] : [`${unanswered} requests without an answer (budget 0)`]),
      ...limit.overBudget,
      ...memory.overBudget,
    ],
  };
}

export const load: Benchmark = {
  name: 'load',
  run: async (workDir) => {
    const settings = loadSettings();
    const redis = await startPrivateRedis();
    try {
      const stack = await startStackProcess(workDir, {
        redisUrl: redis.url,
        nodeArgs: collectableNodeArgs,
      });
      try {
        const sink = await startJobSink();
        try {
          return report(await measure(workDir, settings, stack, sink, redis.url));
        } finally {
          await sink.close();
        }
      } finally {
        await stack.close();
      }
    } finally {
      await redis.stop();
    }
  },
};
