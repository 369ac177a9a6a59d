// What every request carries, in the edge API and the Node worker alike: its id, its trace, its
// log line's fields, and the few dependencies that every answer's meta and log line need.
// Middleware and helpers typed over this env serve both apps.
import type { LogFields, Logger } from './logger.ts';
import type { TraceContext } from './trace-context.ts';

export interface RequestDeps {
  logger: Logger;
  clock: { now(): Date };
  config: { API_VERSION: string };
}

export interface RequestVariables {
  requestId: string;
  /** The W3C trace the request takes part in (src/middleware/trace-context.ts). */
  trace: TraceContext;
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

/** Who a request is, as its log lines name it. */
export interface RequestIdentity {
  requestId: string;
  trace: TraceContext;
}

/** The logger of one request: every line it writes carries the request's id and trace id. */
export function requestLogger(logger: Logger, request: RequestIdentity): Logger {
  return logger.child({ requestId: request.requestId, traceId: request.trace.traceId });
}
