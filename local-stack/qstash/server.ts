// A local QStash: the REST API @upstash/qstash calls, and a broker that delivers each message to
// its destination signed exactly as QStash signs it, with retries, delays, queues, schedules, URL
// groups, flow control, a DLQ, callbacks and logs, all kept in one SQLite file so a restart loses
// nothing it accepted.
import { type RunningHttpServer, serveHttp } from '../http-server.ts';
import { createApi } from './api.ts';
import { createDispatcher } from './dispatcher.ts';
import { errorResponse } from './responses.ts';
import { openStore } from './store.ts';

export interface QstashBrokerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** QSTASH_TOKEN: every API call must carry `Authorization: Bearer <token>`. */
  token: string;
  /** QSTASH_CURRENT_SIGNING_KEY: deliveries are signed with it. */
  currentSigningKey: string;
  /** QSTASH_NEXT_SIGNING_KEY: accepted by receivers during a rotation; never used to sign here. */
  nextSigningKey: string;
  /** SQLite file holding messages, DLQ, queues, schedules, URL groups, logs and the rest. */
  stateFile: string;
  /** Log events kept (`client.logs()`): the oldest are dropped beyond this many. */
  logRetention?: number;
  /** Multiplies every retry delay (backoff, expression or Retry-After): 1 in dev, 0.001 in tests. */
  retryDelayScale?: number;
  /** Largest accepted request body; QStash's free tier allows 1 MiB. */
  maxBodyBytes?: number;
  /** Deliveries in flight at once, all destinations together. */
  maxInFlight?: number;
  /**
   * The broker's clock (ms) for due times of delayed messages, retries and schedules. Tests move
   * it forward and call `tick()` instead of waiting; signatures always use the wall clock, since
   * receivers check them against theirs.
   */
  now?: () => number;
}

export interface QstashBroker extends RunningHttpServer {
  /** Starts whatever is due by the broker's clock right now, without waiting for its timer. */
  tick(): void;
}

const defaultMaxBodyBytes = 1024 * 1024;
const defaultMaxInFlight = 32;
const defaultLogRetention = 10_000;

export async function startQstashBroker(options: QstashBrokerOptions): Promise<QstashBroker> {
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const store = openStore(options.stateFile, {
    logRetention: options.logRetention ?? defaultLogRetention,
  });
  store.forgetExpiredDeduplications(now());
  const dispatcher = createDispatcher({
    store,
    signingKey: options.currentSigningKey,
    retryDelayScale: options.retryDelayScale ?? 1,
    maxInFlight: options.maxInFlight ?? defaultMaxInFlight,
    now,
  });
  let server: RunningHttpServer;
  try {
    server = await serveHttp(createApi({ store, dispatcher, now }, options.token), {
      port: options.port,
      ...(options.host !== undefined && { host: options.host }),
      maxBodyBytes,
      onTooLarge: () =>
        errorResponse({
          status: 413,
          message: `message size exceeds the limit of ${maxBodyBytes} bytes`,
        }),
    });
  } catch (error) {
    store.close();
    throw error;
  }
  dispatcher.pump();
  return {
    url: server.url,
    port: server.port,
    tick: () => dispatcher.pump(),
    async close() {
      await server.close();
      await dispatcher.close();
      store.close();
    },
  };
}
