// What every request carries, in the edge API and the Node worker alike: its id, its log line's
// fields, and the few dependencies that every answer's meta and log line need. Middleware and
// helpers typed over this env serve both apps.
import type { LogFields, Logger } from './logger.ts';

export interface RequestDeps {
  logger: Logger;
  clock: { now(): Date };
  config: { API_VERSION: string };
}

export interface RequestVariables {
  requestId: string;
  /**
   * The request's wide event: fields added along the way (cache hit or miss, user id, rate-limit
   * outcome) end up in the one log line written when the response leaves.
   */
  event: LogFields;
  deps: RequestDeps;
}

export interface RequestEnv {
  Variables: RequestVariables;
}
