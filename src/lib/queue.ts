// The job queue: QStash, reached through its official client.
import { Client } from '@upstash/qstash';
import type { Config } from '../config.ts';

export interface Queue {
  readonly client: Client;
}

export function createQueue(config: Config): Queue {
  return {
    client: new Client({
      baseUrl: config.QSTASH_URL,
      token: config.QSTASH_TOKEN,
      // The client's default (5 retries, exponential) would outlive any request. Jobs that must
      // not be lost belong in an outbox that retries on its own schedule (DESIGN.md, "Jobs").
      retry: { retries: 1, backoff: () => 100 },
    }),
  };
}
