// Answers 503 when a request runs past its deadline, and puts `timedOut` on its log line. Without
// it, a request stuck on a backend waits until the runtime cancels it, and workerd cancels a
// request it finds hung without letting our code write a word.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { timeout } from 'hono/timeout';
import type { AppEnv } from '../app-env.ts';

export const requestDeadline = (timeoutMs: number) =>
  timeout(timeoutMs, (c: Context<AppEnv>) => {
    c.get('event').timedOut = { afterMs: timeoutMs };
    return new HTTPException(503, {
      message: `The request did not complete within ${timeoutMs} ms; try again`,
    });
  });
