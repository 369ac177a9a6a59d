// The scrape: every series the requests added up in Redis, and the gauges read at scrape time, as
// Prometheus's text format. The Node worker serves its own series through the same function,
// without the outbox, which is the edge's.
import { type MetricFamily, type MetricsStore, prometheusText } from '../../platform/metrics.ts';

export interface MetricsServiceDeps {
  metrics: MetricsStore;
  /** The rows waiting in the outbox; absent where there is none. */
  outboxBacklog?: () => Promise<number>;
}

function backlogFamily(rows: number): MetricFamily {
  return {
    name: 'outbox_backlog',
    help: 'Jobs staged in the outbox and not yet handed to QStash, counted at scrape time.',
    type: 'gauge',
    samples: [{ name: 'outbox_backlog', labels: '', value: rows }],
  };
}

/** One pipelined Redis read, and one count of the outbox beside it. */
export async function scrapeMetrics(deps: MetricsServiceDeps): Promise<string> {
  const [families, backlog] = await Promise.all([deps.metrics.read(), deps.outboxBacklog?.()]);
  return prometheusText(backlog === undefined ? families : [...families, backlogFamily(backlog)]);
}
