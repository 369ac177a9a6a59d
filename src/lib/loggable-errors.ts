// What a log line may say of an error. drizzle wraps a failed statement's error in one whose
// message lists the values bound to it (`Failed query: <sql>\nparams: <values>`): a password hash
// being stored, a token's hash or an email address being looked up. A log line keeps the
// statement and the driver's own error, never the values.

interface FailedQuery extends Error {
  query: string;
  params: unknown[];
}

function isFailedQuery(error: Error): error is FailedQuery {
  const { query, params } = error as Partial<FailedQuery>;
  return typeof query === 'string' && Array.isArray(params);
}

/** The message of anything thrown, as a log line may carry it. */
export function loggableMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!isFailedQuery(error)) return error.message;
  const { cause } = error;
  const driver = cause instanceof Error ? `: ${cause.name}: ${loggableMessage(cause)}` : '';
  return `Failed query: ${error.query}${driver}`;
}

/** The error's stack, whose first line repeats its message: that too as a log line may carry it. */
export function loggableStack(error: Error): string | undefined {
  return isFailedQuery(error)
    ? error.stack?.replace(error.message, loggableMessage(error))
    : error.stack;
}
