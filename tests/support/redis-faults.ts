// Redis failures played at the network's level, below whichever client the app uses: every
// request to Upstash's REST API that `matches` meets `answer` instead of Upstash, until restored.
import { type MockInstance, vi } from 'vitest';

export interface RedisRequest {
  /** '/pipeline', '/multi-exec', or '/' for a single command. */
  path: string;
  /** The commands it carries, each as [name, ...arguments]. */
  commands: unknown[][];
}

function commandsOf(body: unknown): unknown[][] {
  if (typeof body !== 'string') return [];
  const parsed = JSON.parse(body) as unknown[];
  return Array.isArray(parsed[0]) ? (parsed as unknown[][]) : [parsed];
}

export function breakRedisRequests(
  matches: (request: RedisRequest) => boolean,
  answer: () => Promise<Response>,
): MockInstance<typeof fetch> {
  const realFetch = globalThis.fetch;
  return vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const request = { path: url.pathname, commands: commandsOf(init?.body) };
    return matches(request) ? answer() : realFetch(input, init);
  });
}

/** The cache's clearings: its only transactions. */
export const transactions = ({ path }: RedisRequest) => path === '/multi-exec';
