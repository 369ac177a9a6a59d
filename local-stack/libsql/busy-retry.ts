// Waiting for a lock without freezing the server. The driver is synchronous, so SQLite's own
// busy_timeout would block the event loop, and with it the HTTP request that would have released
// the lock (the COMMIT of another stream's interactive transaction). Instead each attempt fails
// fast with SQLITE_BUSY and is retried after a short asynchronous pause.
import { setTimeout as sleep } from 'node:timers/promises';
import { isBusy, type Outcome } from './sqlite-errors.ts';

export interface BusyRetryOptions {
  /** After this long the last SQLITE_BUSY is reported to the client. */
  limitMs: number;
  /** Aborted when the server closes, so no retry outlives it. */
  signal: AbortSignal;
}

const firstPauseMs = 2;
const longestPauseMs = 50;

export async function retryWhileBusy<T>(
  attempt: () => Outcome<T>,
  options: BusyRetryOptions,
): Promise<Outcome<T>> {
  const deadline = performance.now() + options.limitMs;
  let pause = firstPauseMs;
  for (;;) {
    const outcome = attempt();
    if (outcome.ok || !isBusy(outcome.error) || options.signal.aborted) return outcome;
    if (performance.now() + pause > deadline) return outcome;
    try {
      await sleep(pause, undefined, { signal: options.signal });
    } catch {
      return outcome;
    }
    pause = Math.min(pause * 2, longestPauseMs);
  }
}
