// Why a fetch to a backend failed, in words for the log: a timeout says how long was waited.

/** The reason `error`, thrown by a fetch bounded by AbortSignal.timeout(timeoutMs), gives. */
export function fetchFailureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs} ms`;
  }
  return error instanceof Error ? error.message : String(error);
}
