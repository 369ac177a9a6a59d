// The request metrics, kept in Redis: a Worker's isolates come and go and each serves a slice of
// the traffic, so counts kept in memory would be partial and lost at eviction, where Redis holds
// one total for every isolate and process. One hash per sample name, one field per label set,
// written as the Prometheus text it is read back as (`route="/v1/users/:id",method="GET"`), so a
// request's increments leave in one pipelined HTTP request and a scrape reads every hash in one
// more, with nothing to list or scan.
import type { Redis } from './redis.ts';

/** Upper bounds of the request-duration buckets, in seconds: Prometheus's default buckets. */
export const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const httpRequests = 'http_requests_total';
const duration = 'http_request_duration_seconds';

/** The counters a request adds to by what happened on its way, each with one label. */
const eventCounters = {
  rate_limit_refusals_total: {
    label: 'policy',
    help: 'Requests refused with 429 by a rate-limit policy.',
  },
  cache_requests_total: {
    label: 'outcome',
    help: 'Cache reads by outcome: hit, miss, or unavailable (Redis down or slow).',
  },
  jobs_delivered_total: {
    label: 'type',
    help: 'Job deliveries answered 2xx: the job done, or found done by an earlier delivery.',
  },
  jobs_retried_total: {
    label: 'type',
    help: 'Job deliveries QStash sent again after an earlier one failed, whatever their answer.',
  },
  jobs_dead_lettered_total: {
    label: 'type',
    help: 'Jobs QStash gave up on, as its failure callback reported them.',
  },
} as const;

export type EventCounter = keyof typeof eventCounters;

/** What one request adds to the series. */
export interface RequestSample {
  /** The route's pattern, never the raw path: a label must not grow with every id sent. */
  route: string;
  method: string;
  status: number;
  seconds: number;
  /** One increment of `counter` with its label's value, as often as it happened. */
  events: readonly (readonly [EventCounter, string])[];
}

export interface Sample {
  /** The sample's name: the family's, or with `_bucket`, `_sum`, `_count`. */
  name: string;
  /** Prometheus label pairs, escaped; empty for none. */
  labels: string;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: Sample[];
}

export interface MetricsStore {
  /** Adds one request's sample, in one pipelined Redis request. */
  record(sample: RequestSample): Promise<void>;
  /** Every family with its totals, in one pipelined Redis request. */
  read(): Promise<MetricFamily[]>;
}

function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** `name="value",…` in the order given, as the text format writes labels. */
function labelPairs(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(',');
}

const bucketLabel = (seconds: number): string =>
  String(durationBuckets.find((bound) => seconds <= bound) ?? '+Inf');

/** The field of a bucket: the request's labels, then its `le`, always last. */
const withLe = (labels: string, le: string) => `${labels},le="${le}"`;

/**
 * Bucket fields count the requests of their own bucket alone, one increment per request;
 * read() adds them up into Prometheus's cumulative buckets.
 */
function cumulativeBuckets(buckets: Record<string, unknown>, sums: Record<string, unknown>) {
  const byLabels = new Map<string, Map<string, number>>();
  for (const [field, count] of Object.entries(buckets)) {
    const at = field.lastIndexOf(',le="');
    const labels = field.slice(0, at);
    const le = field.slice(at + ',le="'.length, -1);
    const counts = byLabels.get(labels) ?? new Map<string, number>();
    counts.set(le, Number(count));
    byLabels.set(labels, counts);
  }
  const samples: Sample[] = [];
  // In code-unit order, as the counters are: the same text on every machine, whatever its locale.
  for (const [labels, counts] of [...byLabels].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let total = 0;
    for (const le of [...durationBuckets.map(String), '+Inf']) {
      total += counts.get(le) ?? 0;
      samples.push({ name: `${duration}_bucket`, labels: withLe(labels, le), value: total });
    }
    samples.push(
      { name: `${duration}_sum`, labels, value: Number(sums[labels] ?? 0) },
      { name: `${duration}_count`, labels, value: total },
    );
  }
  return samples;
}

const counterSamples = (name: string, fields: Record<string, unknown>): Sample[] =>
  Object.keys(fields)
    .sort()
    .map((labels) => ({ name, labels, value: Number(fields[labels]) }));

/** The series under `prefix` (`metrics:api`): `<prefix>:<sample name>` hashes. */
export function createMetricsStore(redis: Redis, prefix: string): MetricsStore {
  const keys = {
    requests: `${prefix}:${httpRequests}`,
    buckets: `${prefix}:${duration}_bucket`,
    sums: `${prefix}:${duration}_sum`,
  };
  const counterKey = (counter: EventCounter) => `${prefix}:${counter}`;
  const counters = Object.keys(eventCounters) as EventCounter[];

  return {
    async record(sample) {
      const request = labelPairs({
        route: sample.route,
        method: sample.method,
        status: String(sample.status),
      });
      const timed = labelPairs({ route: sample.route, method: sample.method });
      const pipeline = redis
        .pipeline()
        .hincrby(keys.requests, request, 1)
        .hincrby(keys.buckets, withLe(timed, bucketLabel(sample.seconds)), 1)
        .hincrbyfloat(keys.sums, timed, sample.seconds);
      // A list of cache outcomes may name one twice: one increment by its count.
      const events = new Map<string, { key: string; field: string; by: number }>();
      for (const [counter, value] of sample.events) {
        const key = counterKey(counter);
        const field = labelPairs({ [eventCounters[counter].label]: value });
        const seen = events.get(`${key}\n${field}`);
        if (seen) seen.by += 1;
        else events.set(`${key}\n${field}`, { key, field, by: 1 });
      }
      for (const { key, field, by } of events.values()) pipeline.hincrby(key, field, by);
      await pipeline.exec();
    },

    async read() {
      const pipeline = redis.pipeline();
      for (const key of [keys.requests, keys.buckets, keys.sums, ...counters.map(counterKey)]) {
        pipeline.hgetall(key);
      }
      // HGETALL answers null for a hash never written.
      const [requests, buckets, sums, ...events] = (
        await pipeline.exec<(Record<string, unknown> | null)[]>()
      ).map((fields) => fields ?? {});
      return [
        {
          name: httpRequests,
          help: 'Requests answered, by route pattern (`unmatched` for none), method and status.',
          type: 'counter',
          samples: counterSamples(httpRequests, requests ?? {}),
        },
        {
          name: duration,
          help:
            'Time from the request reaching the app to its response starting (a streamed body ' +
            'may go on), by route and method.',
          type: 'histogram',
          samples: cumulativeBuckets(buckets ?? {}, sums ?? {}),
        },
        ...counters.map(
          (counter, index): MetricFamily => ({
            name: counter,
            help: eventCounters[counter].help,
            type: 'counter',
            samples: counterSamples(counter, events[index] ?? {}),
          }),
        ),
      ];
    },
  };
}

/** The content type of the text format, version 0.0.4, that Prometheus scrapes. */
export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** The text format: each family's HELP and TYPE lines, then its samples, one a line. */
export function prometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const { name, labels, value } of family.samples) {
      lines.push(`${labels === '' ? name : `${name}{${labels}}`} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
