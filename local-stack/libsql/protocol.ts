// Hrana over HTTP, JSON encoding (versions 2 and 3 share it): the request shapes the server
// accepts and the response shapes it sends, as @libsql/hrana-client writes and reads them.

/** A value bound to or read from SQLite; integers stay bigint so no precision is lost. */
export type SqlValue = null | bigint | number | string | Uint8Array;

export interface NamedArg {
  name: string;
  value: SqlValue;
}

export interface Stmt {
  sql: string | undefined;
  sqlId: number | undefined;
  args: SqlValue[];
  namedArgs: NamedArg[];
  wantRows: boolean;
}

export type BatchCond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: BatchCond }
  | { type: 'and' | 'or'; conds: BatchCond[] }
  | { type: 'is_autocommit' };

export interface BatchStep {
  condition: BatchCond | undefined;
  stmt: Stmt;
}

export type StreamRequest =
  | { type: 'close' }
  | { type: 'execute'; stmt: Stmt }
  | { type: 'batch'; steps: BatchStep[] }
  | { type: 'sequence' | 'describe'; sql: string | undefined; sqlId: number | undefined }
  | { type: 'store_sql'; sqlId: number; sql: string }
  | { type: 'close_sql'; sqlId: number }
  | { type: 'get_autocommit' };

export interface PipelineRequest {
  baton: string | undefined;
  requests: StreamRequest[];
}

export type WireValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

export interface WireCol {
  name: string | null;
  decltype: string | null;
}

export interface StmtResult {
  cols: WireCol[];
  rows: WireValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
}

export interface BatchResult {
  step_results: (StmtResult | null)[];
  step_errors: (WireError | null)[];
}

export interface DescribeResult {
  params: { name: string | null }[];
  cols: { name: string; decltype: string | null }[];
  is_explain: boolean;
  is_readonly: boolean;
}

/** The error shape of Hrana: what the client turns into LibsqlError(message, code). */
export interface WireError {
  message: string;
  code: string;
}

export type StreamResponse =
  | { type: 'close' | 'sequence' | 'store_sql' | 'close_sql' }
  | { type: 'execute'; result: StmtResult }
  | { type: 'batch'; result: BatchResult }
  | { type: 'describe'; result: DescribeResult }
  | { type: 'get_autocommit'; is_autocommit: boolean };

export type StreamResult =
  | { type: 'ok'; response: StreamResponse }
  | { type: 'error'; error: WireError };

export interface PipelineResponse {
  baton: string | null;
  base_url: null;
  results: StreamResult[];
}

export function toWireValue(value: SqlValue): WireValue {
  if (value === null) return { type: 'null' };
  if (typeof value === 'bigint') return { type: 'integer', value: value.toString() };
  if (typeof value === 'number') return { type: 'float', value };
  if (typeof value === 'string') return { type: 'text', value };
  return { type: 'blob', base64: Buffer.from(value).toString('base64') };
}
