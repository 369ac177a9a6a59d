// Bounded waits for a state that other processes reach in their own time (a delivery, a retry, a
// row), polled rather than slept for; and the converse, a state that must not change for a while.

/** Polls `read` until it returns something other than undefined, within `timeoutMs`. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`${what}: not within ${timeoutMs} ms${reason}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

/**
 * Checks `holds` every 50 ms for `forMs`: what at-least-once delivery could still change (a late
 * retry, a duplicate) has had its chance to show. Throws at the first check that fails.
 */
export async function holdsFor(what: string, holds: () => boolean, forMs: number): Promise<void> {
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    if (!holds()) throw new Error(`${what}: no longer true`);
    await new Promise((done) => setTimeout(done, 50));
  }
  if (!holds()) throw new Error(`${what}: no longer true`);
}
