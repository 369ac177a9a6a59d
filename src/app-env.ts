// The Hono environment every route and middleware shares: dependencies and per-request values.
import type { Deps } from './deps.ts';
import type { LogFields } from './lib/logger.ts';

export interface AppVariables {
  deps: Deps;
  requestId: string;
  /**
   * The request's wide event: fields added along the way (cache hit or miss, user id, rate-limit
   * outcome) end up in the one log line written when the response leaves.
   */
  event: LogFields;
}

export interface AppEnv {
  Variables: AppVariables;
}
