// What every API route works with.
import type { Dispatcher } from './dispatcher.ts';
import { fail, ok, type Result } from './result.ts';
import type { BrokerStore } from './store.ts';

export interface ApiContext {
  store: BrokerStore;
  dispatcher: Dispatcher;
  now: () => number;
}

export async function readJson(request: Request): Promise<Result<unknown>> {
  const text = await request.text();
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(400, `invalid request body: ${reason}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
