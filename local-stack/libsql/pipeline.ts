// Runs the requests of one pipeline on its stream, in order. A request that fails in SQL answers
// an error result and the next one still runs; a request that breaks the protocol (an unknown
// sql_id, a request on a closed stream, ...) fails the whole HTTP request, as in sqld.
import { type BusyRetryOptions, retryWhileBusy } from './busy-retry.ts';
import { type ResolvedStmt, type SqlConnection, stmtShapeError } from './connection.ts';
import type {
  BatchCond,
  BatchResult,
  BatchStep,
  Stmt,
  StmtResult,
  StreamRequest,
  StreamResponse,
  StreamResult,
  WireError,
} from './protocol.ts';
import { splitStatements } from './sql-text.ts';
import { isBusy, type Outcome } from './sqlite-errors.ts';
import type { Stream } from './streams.ts';

export type HranaVersion = 2 | 3;

export interface PipelineContext {
  version: HranaVersion;
  busy: BusyRetryOptions;
  /** Returns a closed stream's connection to the pool. */
  closeStream(stream: Stream): void;
}

export type PipelineOutcome =
  | { ok: true; results: StreamResult[] }
  | { ok: false; protocolError: string };

/** sqld's limits on stored SQL texts, which @libsql/client's SQL cache is sized for. */
const maxStoredSqls = 50;
const maxStoredSqlBytes = 5_000;

/** Thrown only inside this module; runPipeline turns it into a value. */
class ProtocolViolation extends Error {}

function requireV3(version: HranaVersion, what: string): void {
  if (version < 3) {
    throw new ProtocolViolation(`${what} is only supported in protocol version hrana3 and higher`);
  }
}

function connectionOf(stream: Stream): SqlConnection {
  if (stream.connection === undefined) {
    throw new ProtocolViolation('Stream for this baton was closed');
  }
  return stream.connection;
}

function resolveSql(stream: Stream, sql: string | undefined, sqlId: number | undefined): string {
  if (sql !== undefined && sqlId !== undefined) {
    throw new ProtocolViolation('Either `sql` or `sql_id` are required, but not both');
  }
  if (sql !== undefined) return sql;
  if (sqlId === undefined) throw new ProtocolViolation('Either `sql` or `sql_id` are required');
  const stored = stream.sqls.get(sqlId);
  if (stored === undefined) throw new ProtocolViolation(`SQL text ${sqlId} not found`);
  return stored;
}

function resolveStmt(stream: Stream, stmt: Stmt): ResolvedStmt {
  return { ...stmt, sql: resolveSql(stream, stmt.sql, stmt.sqlId) };
}

function checkCond(cond: BatchCond, stepIndex: number, version: HranaVersion): void {
  switch (cond.type) {
    case 'ok':
    case 'error':
      if (cond.step < 0 || cond.step >= stepIndex) {
        throw new ProtocolViolation('Invalid reference to step in a batch condition');
      }
      return;
    case 'not':
      checkCond(cond.cond, stepIndex, version);
      return;
    case 'and':
    case 'or':
      for (const inner of cond.conds) checkCond(inner, stepIndex, version);
      return;
    case 'is_autocommit':
      requireV3(version, 'The `is_autocommit` batch condition');
  }
}

type StepState = 'ok' | 'error' | 'skipped';

function holds(cond: BatchCond, states: StepState[], connection: SqlConnection): boolean {
  switch (cond.type) {
    case 'ok':
    case 'error':
      return states[cond.step] === cond.type;
    case 'not':
      return !holds(cond.cond, states, connection);
    case 'and':
      return cond.conds.every((inner) => holds(inner, states, connection));
    case 'or':
      return cond.conds.some((inner) => holds(inner, states, connection));
    case 'is_autocommit':
      return connection.isAutocommit;
  }
}

async function executeWithRetry(
  connection: SqlConnection,
  stmt: ResolvedStmt,
  busy: BusyRetryOptions,
): Promise<Outcome<StmtResult>> {
  const outcome = await retryWhileBusy(connection.executor(stmt), busy);
  if (!outcome.ok && isBusy(outcome.error)) connection.abandonBusyStatement();
  return outcome;
}

async function runBatch(
  stream: Stream,
  steps: BatchStep[],
  context: PipelineContext,
): Promise<Outcome<BatchResult>> {
  const connection = connectionOf(stream);
  const stmts = steps.map((step, index) => {
    if (step.condition !== undefined) checkCond(step.condition, index, context.version);
    return resolveStmt(stream, step.stmt);
  });
  // sqld compiles the whole batch first, so one malformed statement fails it before any step runs.
  for (const stmt of stmts) {
    const shapeError = stmtShapeError(stmt);
    if (shapeError !== undefined) return { ok: false, error: shapeError };
  }
  const result: BatchResult = { step_results: [], step_errors: [] };
  const states: StepState[] = [];
  for (const [index, step] of steps.entries()) {
    const stmt = stmts[index];
    if (stmt === undefined || (step.condition && !holds(step.condition, states, connection))) {
      states.push('skipped');
      result.step_results.push(null);
      result.step_errors.push(null);
      continue;
    }
    const outcome = await executeWithRetry(connection, stmt, context.busy);
    states.push(outcome.ok ? 'ok' : 'error');
    result.step_results.push(outcome.ok ? outcome.value : null);
    result.step_errors.push(outcome.ok ? null : outcome.error);
  }
  return { ok: true, value: result };
}

async function runSequence(
  connection: SqlConnection,
  sql: string,
  busy: BusyRetryOptions,
): Promise<WireError | undefined> {
  for (const statement of splitStatements(sql)) {
    const outcome = await retryWhileBusy(() => connection.run(statement), busy);
    if (!outcome.ok) return outcome.error;
  }
  return undefined;
}

function storeSql(stream: Stream, sqlId: number, sql: string): WireError | undefined {
  if (stream.sqls.has(sqlId)) throw new ProtocolViolation(`SQL text ${sqlId} already exists`);
  if (stream.sqls.size >= maxStoredSqls) {
    return {
      message: `The server already stores ${stream.sqls.size} SQL texts, it cannot store more`,
      code: 'SQL_STORE_TOO_MANY',
    };
  }
  const size = Buffer.byteLength(sql);
  if (size > maxStoredSqlBytes) {
    return {
      message: `The statement is too large to be stored: ${size} B/${maxStoredSqlBytes} B`,
      code: 'SQL_STORE_TOO_LARGE',
    };
  }
  stream.sqls.set(sqlId, sql);
  return undefined;
}

function answer(outcome: Outcome<StreamResponse>): StreamResult {
  return outcome.ok
    ? { type: 'ok', response: outcome.value }
    : { type: 'error', error: outcome.error };
}

function done(response: StreamResponse, error: WireError | undefined): StreamResult {
  return error === undefined ? { type: 'ok', response } : { type: 'error', error };
}

async function runRequest(
  stream: Stream,
  request: StreamRequest,
  context: PipelineContext,
): Promise<StreamResult> {
  switch (request.type) {
    case 'close':
      context.closeStream(stream);
      return { type: 'ok', response: { type: 'close' } };
    case 'execute': {
      const connection = connectionOf(stream);
      const stmt = resolveStmt(stream, request.stmt);
      const outcome = await executeWithRetry(connection, stmt, context.busy);
      return answer(
        outcome.ok ? { ok: true, value: { type: 'execute', result: outcome.value } } : outcome,
      );
    }
    case 'batch': {
      const outcome = await runBatch(stream, request.steps, context);
      return answer(
        outcome.ok ? { ok: true, value: { type: 'batch', result: outcome.value } } : outcome,
      );
    }
    case 'sequence': {
      const connection = connectionOf(stream);
      const sql = resolveSql(stream, request.sql, request.sqlId);
      return done({ type: 'sequence' }, await runSequence(connection, sql, context.busy));
    }
    case 'describe': {
      const connection = connectionOf(stream);
      const sql = resolveSql(stream, request.sql, request.sqlId);
      const outcome = await retryWhileBusy(() => connection.describe(sql), context.busy);
      return answer(
        outcome.ok ? { ok: true, value: { type: 'describe', result: outcome.value } } : outcome,
      );
    }
    case 'store_sql':
      return done({ type: 'store_sql' }, storeSql(stream, request.sqlId, request.sql));
    case 'close_sql':
      stream.sqls.delete(request.sqlId);
      return { type: 'ok', response: { type: 'close_sql' } };
    case 'get_autocommit': {
      requireV3(context.version, 'The `get_autocommit` request');
      const isAutocommit = connectionOf(stream).isAutocommit;
      return { type: 'ok', response: { type: 'get_autocommit', is_autocommit: isAutocommit } };
    }
  }
}

export async function runPipeline(
  stream: Stream,
  requests: StreamRequest[],
  context: PipelineContext,
): Promise<PipelineOutcome> {
  const results: StreamResult[] = [];
  try {
    for (const request of requests) results.push(await runRequest(stream, request, context));
  } catch (error) {
    if (!(error instanceof ProtocolViolation)) throw error;
    return { ok: false, protocolError: error.message };
  }
  return { ok: true, results };
}
