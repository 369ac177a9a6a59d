// The job queue: QStash, spoken to over its REST API with fetch. The official client costs about
// 9 KiB of the Worker's 150 KiB gzip budget for features the Worker does not use (workflows, LLM
// calls, URL groups); tooling and the contract tests keep using it, so the wire format the Worker
// relies on is checked by the official client against the local broker.
import type { Config } from '../config.ts';

/** QStash answered, but not with success (a bad token, an outage page). */
export class QueueError extends Error {
  override name = 'QueueError';
}

export interface Queue {
  /** One authenticated, read-only call: proves QStash is reachable and the token is accepted. */
  ping(): Promise<void>;
}

export function createQueue(config: Pick<Config, 'QSTASH_URL' | 'QSTASH_TOKEN'>): Queue {
  const baseUrl = config.QSTASH_URL.replace(/\/+$/, '');
  const authorization = `Bearer ${config.QSTASH_TOKEN}`;
  return {
    async ping() {
      const response = await fetch(`${baseUrl}/v2/queues`, { headers: { authorization } });
      await response.body?.cancel();
      if (!response.ok) throw new QueueError(`QStash answered ${response.status}`);
    },
  };
}
