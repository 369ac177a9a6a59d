// Work that may finish after the response: on Workers it is handed to the execution context,
// which keeps the isolate alive for it; Node and Deno keep running it anyway. Either way a
// failure is logged, never thrown at a request that has already been answered.
import type { Context, ExecutionContext } from 'hono';
import { loggableMessage } from './loggable-errors.ts';
import type { RequestEnv } from './request-env.ts';

function executionContextOf(c: Context): ExecutionContext | undefined {
  // Hono's getter throws where the runtime passed no execution context (Node, Deno, tests).
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

export function waitUntil<E extends RequestEnv>(
  c: Context<E>,
  task: string,
  work: Promise<unknown>,
): void {
  // The request's logger: the line names the request and its trace.
  const { logger } = c.get('deps');
  const settled = work.then(
    () => undefined,
    (error: unknown) => {
      logger.warn('background task failed', { task, error: loggableMessage(error) });
    },
  );
  executionContextOf(c)?.waitUntil(settled);
}
