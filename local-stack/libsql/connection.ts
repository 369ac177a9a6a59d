// One SQLite connection to the database file, speaking in Hrana's terms: a statement in, a Hrana
// result or error out. Every call is synchronous and makes a single attempt: with busy_timeout 0 a
// locked database answers SQLITE_BUSY at once, and the caller decides whether to wait and retry
// (see busy-retry.ts), so the event loop never blocks on a lock.
import Database from 'libsql';
import type { DescribeResult, SqlValue, Stmt, StmtResult, WireCol, WireError } from './protocol.ts';
import { toWireValue } from './protocol.ts';
import { parameterNames, splitStatements } from './sql-text.ts';
import {
  argsInvalid,
  manyStatements,
  noStatement,
  type Outcome,
  positionalAndNamed,
  prepareFailure,
  stepFailure,
} from './sqlite-errors.ts';

type LibsqlDatabase = ReturnType<typeof Database>;
type Prepared = ReturnType<LibsqlDatabase['prepare']>;

/** A statement whose SQL text has been resolved (from `sql` or a stored `sql_id`). */
export type ResolvedStmt = Omit<Stmt, 'sql' | 'sqlId'> & { sql: string };

const beginReadOnly = /^\s*BEGIN\s+(TRANSACTION\s+)?READONLY\b/i;
const explainPrefix = /^\s*EXPLAIN(\s+QUERY\s+PLAN)?\s/i;

/** What sqld refuses before running anything: not exactly one statement, or mixed arguments. */
export function stmtShapeError(stmt: ResolvedStmt): WireError | undefined {
  const statements = splitStatements(stmt.sql);
  if (statements.length === 0) return noStatement;
  if (statements.length > 1) return manyStatements;
  if (stmt.args.length > 0 && stmt.namedArgs.length > 0) return positionalAndNamed;
  return undefined;
}

/**
 * The argument sqld binds to one parameter index (libsql-server, src/query.rs): an index named
 * `?NNN` takes positional argument NNN, one with another name takes the named argument spelled
 * as in the SQL or else without its prefix, an unnamed one takes the positional argument at its
 * index. So positional arguments never reach a name and named arguments never reach a number.
 */
function argumentFor(
  name: string | null,
  index: number,
  args: SqlValue[],
  named: Map<string, SqlValue> | undefined,
): SqlValue | undefined {
  if (name === null || name.startsWith('?')) {
    return named ? undefined : args[(name === null ? index : Number(name.slice(1))) - 1];
  }
  if (named?.has(name)) return named.get(name);
  return named?.get(name.slice(1));
}

/**
 * The values to bind, by parameter index. More arguments than parameters, or a parameter without
 * one, fail the statement as in sqld; only EXPLAIN leaves a missing one NULL. Resolved here rather
 * than by the driver, which aborts the whole process when handed names for a statement that also
 * has a bare `?`.
 */
function bindArgs(stmt: ResolvedStmt): Outcome<SqlValue[]> {
  const names = parameterNames(stmt.sql);
  const named =
    stmt.namedArgs.length > 0
      ? new Map(stmt.namedArgs.map((arg) => [arg.name, arg.value]))
      : undefined;
  const given = named?.size ?? stmt.args.length;
  if (given > names.length) {
    const detail = `too many parameters, expected ${names.length} found ${given}`;
    return { ok: false, error: argsInvalid(detail) };
  }
  const isExplain = explainPrefix.test(stmt.sql);
  const values: SqlValue[] = [];
  for (const [offset, name] of names.entries()) {
    const value = argumentFor(name, offset + 1, stmt.args, named);
    if (value === undefined && !isExplain) {
      const detail = `value for parameter ${name ?? offset + 1} not found`;
      return { ok: false, error: argsInvalid(detail) };
    }
    values.push(value ?? null);
  }
  return { ok: true, value: values };
}

export class SqlConnection {
  readonly #dbFile: string;
  #db: LibsqlDatabase;
  #counters: Prepared;
  #readOnlyTransaction = false;
  /** A statement was left mid-run by SQLITE_BUSY; see abandonBusyStatement(). */
  #hasAbandonedStatement = false;

  constructor(dbFile: string) {
    this.#dbFile = dbFile;
    [this.#db, this.#counters] = SqlConnection.#open(dbFile);
  }

  static #open(dbFile: string): [LibsqlDatabase, Prepared] {
    const db = new Database(dbFile);
    db.defaultSafeIntegers(true);
    db.exec('PRAGMA busy_timeout = 0');
    return [db, db.prepare('SELECT changes(), last_insert_rowid(), total_changes()')];
  }

  #reopen(): void {
    this.#db.close();
    [this.#db, this.#counters] = SqlConnection.#open(this.#dbFile);
    this.#readOnlyTransaction = false;
    this.#hasAbandonedStatement = false;
  }

  /**
   * The driver has no reset: a statement that stopped on SQLITE_BUSY stays active, counts as a
   * pending writer and keeps every later autocommit write from committing (the lock is never
   * released). Only closing the handle ends it, so the handle is replaced as soon as no open
   * transaction would be lost with it.
   */
  abandonBusyStatement(): void {
    this.#hasAbandonedStatement = true;
    if (!this.#db.inTransaction) this.#reopen();
  }

  /**
   * libSQL's `BEGIN READONLY` (the client's "read" transactions) parses in the embedded engine
   * but does not stop writes as sqld does; query_only makes SQLite refuse them until it ends.
   */
  #afterStatement(sql: string): void {
    if (beginReadOnly.test(sql) && this.#db.inTransaction) {
      this.#db.exec('PRAGMA query_only = 1');
      this.#readOnlyTransaction = true;
    }
  }

  #beforeStatement(): void {
    if (this.#hasAbandonedStatement && !this.#db.inTransaction) this.#reopen();
    if (this.#readOnlyTransaction && !this.#db.inTransaction) {
      this.#db.exec('PRAGMA query_only = 0');
      this.#readOnlyTransaction = false;
    }
  }

  get isAutocommit(): boolean {
    return !this.#db.inTransaction;
  }

  /**
   * Whether a statement writes: its bytecode has a Transaction opcode with P2 != 0. Read on a
   * connection of its own because an EXPLAIN of a write stays "in progress" in the driver after
   * its last row and would keep this connection from ever committing.
   */
  #writes(sql: string): boolean {
    const scratch = new Database(this.#dbFile);
    try {
      scratch.defaultSafeIntegers(true);
      const program = scratch
        .prepare(`EXPLAIN ${sql.replace(explainPrefix, '')}`)
        .raw(true)
        .all([]) as unknown[][];
      return program.some(([, opcode, , p2]) => opcode === 'Transaction' && p2 !== 0n);
    } finally {
      scratch.close();
    }
  }

  #readCounters(): [bigint, bigint, bigint] {
    // all() and not get(): get() leaves the statement active, which keeps COMMIT from running.
    const [counters] = this.#counters.raw(true).all([]) as [bigint, bigint, bigint][];
    return counters ?? [0n, 0n, 0n];
  }

  /**
   * Prepares `stmt` and returns one attempt at running it. Retries must go through the same
   * attempt function: re-running the prepared statement is what resets it after SQLITE_BUSY.
   */
  executor(stmt: ResolvedStmt): () => Outcome<StmtResult> {
    const shapeError = stmtShapeError(stmt);
    if (shapeError !== undefined) return () => ({ ok: false, error: shapeError });
    let prepared: Prepared | undefined;
    return () => {
      this.#beforeStatement();
      const started = performance.now();
      try {
        prepared ??= this.#db.prepare(stmt.sql);
      } catch (error) {
        return { ok: false, error: prepareFailure(error) };
      }
      return this.#run(prepared, stmt, started);
    };
  }

  #run(prepared: Prepared, stmt: ResolvedStmt, started: number): Outcome<StmtResult> {
    const bound = bindArgs(stmt);
    if (!bound.ok) return bound;
    const [, , changesBefore] = this.#readCounters();
    let cols: WireCol[] = [];
    let rows: SqlValue[][] = [];
    try {
      if (prepared.reader) {
        rows = prepared.raw(true).all(bound.value) as SqlValue[][];
        cols = prepared.columns().map((col) => ({ name: col.name, decltype: col.type }));
      } else {
        prepared.run(bound.value);
      }
    } catch (error) {
      return { ok: false, error: stepFailure(error) };
    }
    this.#afterStatement(stmt.sql);
    const [changes, lastInsertRowid, changesAfter] = this.#readCounters();
    // changes() still holds the previous write's count after a read or DDL statement.
    const wrote = changesAfter !== changesBefore;
    const affected = wrote ? Number(changes) : 0;
    return {
      ok: true,
      value: {
        cols,
        rows: stmt.wantRows ? rows.map((row) => row.map(toWireValue)) : [],
        affected_row_count: affected,
        last_insert_rowid: wrote ? lastInsertRowid.toString() : null,
        rows_read: rows.length,
        rows_written: affected,
        query_duration_ms: performance.now() - started,
      },
    };
  }

  /** Runs one statement of a `sequence`; results are discarded. */
  run(sql: string): Outcome<null> {
    try {
      this.#beforeStatement();
      this.#db.exec(sql);
      this.#afterStatement(sql);
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, error: stepFailure(error) };
    }
  }

  describe(sql: string): Outcome<DescribeResult> {
    const statements = splitStatements(sql);
    const [first] = statements;
    if (first === undefined) return { ok: false, error: noStatement };
    if (statements.length > 1) return { ok: false, error: manyStatements };
    try {
      const cols = this.#db
        .prepare(first)
        .columns()
        .map((col) => ({ name: col.name, decltype: col.type }));
      const isExplain = explainPrefix.test(first);
      const writes = !isExplain && this.#writes(first);
      return {
        ok: true,
        value: {
          params: parameterNames(first).map((name) => ({ name })),
          cols,
          is_explain: isExplain,
          is_readonly: !writes,
        },
      };
    } catch (error) {
      return { ok: false, error: prepareFailure(error) };
    }
  }

  /** Ends whatever transaction a client left open, so the connection can be reused or closed. */
  rollbackIfOpen(): void {
    if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
    this.#beforeStatement();
  }

  /** Closing also rolls back an open transaction (SQLite does so itself). */
  close(): void {
    this.#db.close();
  }
}
