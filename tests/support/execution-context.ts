// An execution context as Workers hands one to each request, keeping the work given to waitUntil
// so a test can see it was handed over and wait for it (a cache fill, a usage write).
import type { ExecutionContext } from 'hono';

export function collectingExecutionContext(): {
  executionCtx: ExecutionContext;
  background: Promise<unknown>[];
  settled: () => Promise<unknown[]>;
} {
  const background: Promise<unknown>[] = [];
  const executionCtx: ExecutionContext = {
    waitUntil: (work) => background.push(work),
    passThroughOnException: () => {},
    props: {},
  };
  return { executionCtx, background, settled: () => Promise.all(background) };
}
