// An execution context as Workers hands one to each request, keeping the work given to waitUntil
// so a test can see it was handed over and wait for it (a cache fill, a usage write).
import type { ExecutionContext } from 'hono';

export function collectingExecutionContext(): {
  executionCtx: ExecutionContext;
  background: Promise<unknown>[];
  settled: () => Promise<void>;
} {
  const background: Promise<unknown>[] = [];
  const executionCtx: ExecutionContext = {
    waitUntil: (work) => background.push(work),
    passThroughOnException: () => {},
    props: {},
  };
  // Work may hand over more work (a fill that records its outcome): wait until none is added.
  const settled = async () => {
    let waited = 0;
    while (waited < background.length) {
      const batch = background.slice(waited);
      waited = background.length;
      await Promise.all(batch);
    }
  };
  return { executionCtx, background, settled };
}
