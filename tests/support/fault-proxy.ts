// An HTTP proxy in front of a destination that plays the network's and the receiver's failures,
// so tests see what at-least-once delivery does to our handlers:
// - 'fail-before': answers 500 without forwarding (the receiver never saw the request);
// - 'fail-after': forwards, then replaces the answer by 500 (the effect happened, the answer was
//   lost, so the sender tries again);
// - 'duplicate': forwards the request twice at once and answers with the first answer (the
//   sender's retry raced the original);
// - 'delay': forwards after `delayMs`, and answers what came back (a slow backend or network).
// It can also pause, as a backend whose process is stopped: requests are taken in and held, and
// go on to the destination once it resumes.
// A rule applies to the first N requests to a path, or to a share of them chosen by a seeded PRNG
// (one draw per request, and the rates of the matching rules add up, so rates 0.15 + 0.15 fail
// 30% of the requests). The proxy counts what it did.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../src/lib/seeded-random.ts';

export type FaultKind = 'fail-before' | 'fail-after' | 'duplicate' | 'delay';

export interface FaultRule {
  kind: FaultKind;
  /** Which requests the rule looks at: an exact path, a pattern, or all when absent. */
  path?: string | RegExp;
  /** Applies to the first `first` requests that match. */
  first?: number;
  /** Applies to this share (0–1) of the matching requests. */
  rate?: number;
  /**
   * Only to deliveries QStash has retried at most this often (its Upstash-Retried header), so a
   * message's last attempts get through and no run depends on the PRNG sparing a job six times.
   */
  maxRetried?: number;
  /** How long a 'delay' rule holds each request before forwarding it. */
  delayMs?: number;
}

export interface FaultCounts {
  /** Requests that came in. */
  requests: number;
  /** Requests sent on to the destination (a duplicate counts twice). */
  forwarded: number;
  'fail-before': number;
  'fail-after': number;
  duplicate: number;
  delay: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly counts: FaultCounts;
  /** The paths of the requests that came in, in order. */
  readonly paths: string[];
  /** Requests a 'delay' rule holds right now. */
  readonly delayed: number;
  /** Replaces the rules; counters of `first` start again from zero. */
  setRules(rules: FaultRule[]): void;
  /** Points the proxy at its destination, for one that must know the proxy's URL first. */
  setTarget(url: string): void;
  /** Holds every request from now on until resume(). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  target: string;
  rules?: FaultRule[];
  /** Seed of the PRNG behind `rate` rules. */
  seed?: number;
}

// Hop-by-hop headers, and those fetch sets or changes (it decompresses bodies), are not copied.
const skippedHeaders = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'host',
]);

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function matchesPath(rule: FaultRule, path: string): boolean {
  if (rule.path === undefined) return true;
  return typeof rule.path === 'string' ? rule.path === path : rule.path.test(path);
}

function write(response: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!skippedHeaders.has(name)) headers[name] = value;
  });
  response.writeHead(answer.status, headers).end(answer.body);
}

const injectedFailure = (): Answer => ({
  status: 500,
  headers: new Headers({ 'content-type': 'application/json' }),
  body: new TextEncoder().encode('{"injected":"fault-proxy"}'),
});

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const random = seededRandom(options.seed ?? 1);
  let rules: FaultRule[] = options.rules ?? [];
  let seen = new Map<FaultRule, number>();
  const counts: FaultCounts = {
    requests: 0,
    forwarded: 0,
    'fail-before': 0,
    'fail-after': 0,
    duplicate: 0,
    delay: 0,
  };
  const paths: string[] = [];
  let target = options.target.replace(/\/$/, '');
  let paused: { until: Promise<void>; resume(): void } | undefined;
  let delayed = 0;

  function pick(path: string, retried: number): FaultRule | undefined {
    const draw = random();
    let share = 0;
    for (const rule of rules) {
      if (!matchesPath(rule, path)) continue;
      if (rule.maxRetried !== undefined && retried > rule.maxRetried) continue;
      const index = (seen.get(rule) ?? 0) + 1;
      seen.set(rule, index);
      if (rule.first !== undefined && index <= rule.first) return rule;
      if (rule.rate !== undefined) {
        if (draw >= share && draw < share + rule.rate) return rule;
        share += rule.rate;
      }
    }
    return undefined;
  }

  async function forward(request: IncomingMessage, body: Buffer): Promise<Answer> {
    counts.forwarded++;
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || skippedHeaders.has(name)) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const method = request.method ?? 'GET';
    const response = await fetch(`${target}${request.url ?? '/'}`, {
      method,
      headers,
      body: method === 'GET' || method === 'HEAD' ? null : new Uint8Array(body),
      redirect: 'manual',
    });
    return {
      status: response.status,
      headers: response.headers,
      body: new Uint8Array(await response.arrayBuffer()),
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = new URL(request.url ?? '/', 'http://proxy').pathname;
    counts.requests++;
    paths.push(path);
    await paused?.until;
    const rule = pick(path, Number(request.headers['upstash-retried'] ?? 0));
    const fault = rule?.kind;
    if (fault !== undefined) counts[fault]++;
    if (fault === 'fail-before') return write(response, injectedFailure());
    if (fault === 'delay') {
      delayed++;
      await new Promise((done) => setTimeout(done, rule?.delayMs));
      delayed--;
    }
    if (fault === 'duplicate') {
      const [first] = await Promise.all([forward(request, body), forward(request, body)]);
      return write(response, first);
    }
    const answer = await forward(request, body);
    write(response, fault === 'fail-after' ? injectedFailure() : answer);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // The destination did not answer: the sender sees a gateway error, as behind any proxy.
      if (response.headersSent) return response.destroy();
      response
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    paths,
    get delayed() {
      return delayed;
    },
    setRules(next) {
      rules = next;
      seen = new Map();
    },
    setTarget(url) {
      target = url.replace(/\/$/, '');
    },
    pause() {
      if (paused !== undefined) return;
      let resume = () => {};
      const until = new Promise<void>((done) => {
        resume = done;
      });
      paused = { until, resume };
    },
    resume() {
      paused?.resume();
      paused = undefined;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
