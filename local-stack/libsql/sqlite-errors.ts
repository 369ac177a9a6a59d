// SQLite failures as sqld reports them in Hrana: its error codes (the primary SQLite code such as
// SQLITE_CONSTRAINT, or one of its own like SQL_PARSE_ERROR) and message prefixes, because
// @libsql/client hands both to the application as LibsqlError.code and .message.
import type { WireError } from './protocol.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

interface DriverError {
  message: string;
  code: string;
}

function driverError(error: unknown): DriverError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_')
    ? { message: error.message, code }
    : undefined;
}

/** SQLITE_CONSTRAINT_PRIMARYKEY -> SQLITE_CONSTRAINT: primary codes have no underscore. */
function primaryCode(code: string): string {
  return code.split('_').slice(0, 2).join('_');
}

/** A failure while preparing: SQLite rejected the text itself. */
export function prepareFailure(error: unknown): WireError {
  const driver = driverError(error);
  if (driver === undefined) return unexpectedFailure(error);
  if (/syntax error|incomplete input|unrecognized token/.test(driver.message)) {
    return {
      message: `SQL string could not be parsed: ${driver.message}`,
      code: 'SQL_PARSE_ERROR',
    };
  }
  if (primaryCode(driver.code) === 'SQLITE_ERROR') {
    return { message: `SQL input error: ${driver.message}`, code: 'SQL_INPUT_ERROR' };
  }
  return stepFailure(error);
}

/** A failure while running a prepared statement. */
export function stepFailure(error: unknown): WireError {
  const driver = driverError(error);
  if (driver === undefined) return unexpectedFailure(error);
  return { message: `SQLite error: ${driver.message}`, code: primaryCode(driver.code) };
}

function unexpectedFailure(error: unknown): WireError {
  const message = error instanceof Error ? error.message : String(error);
  return { message: `SQLite error: ${message}`, code: 'SQLITE_UNKNOWN' };
}

export function isBusy(error: WireError): boolean {
  return error.code === 'SQLITE_BUSY';
}

export const noStatement: WireError = {
  message: 'SQL string does not contain any statement',
  code: 'SQL_NO_STATEMENT',
};

export const manyStatements: WireError = {
  message: 'SQL string contains more than one statement',
  code: 'SQL_MANY_STATEMENTS',
};

export const positionalAndNamed: WireError = {
  message: 'Specifying both positional and named arguments is not supported',
  code: 'ARGS_BOTH_POSITIONAL_AND_NAMED',
};

/** Arguments that do not fit the statement's parameters (too many, or one without a value). */
export function argsInvalid(detail: string): WireError {
  return { message: `Arguments do not match SQL parameters: ${detail}`, code: 'ARGS_INVALID' };
}
