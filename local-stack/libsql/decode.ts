// Turns a pipeline request body into typed requests before anything runs: like sqld, a body that
// does not decode fails as a whole (HTTP 400) and no request in it is executed.
import type {
  BatchCond,
  BatchStep,
  NamedArg,
  PipelineRequest,
  SqlValue,
  Stmt,
  StreamRequest,
} from './protocol.ts';

export type Decoded<T> = { ok: true; value: T } | { ok: false; message: string };

const requestTypes = [
  'close',
  'execute',
  'batch',
  'sequence',
  'describe',
  'store_sql',
  'close_sql',
  'get_autocommit',
] as const;
const condTypes = ['ok', 'error', 'not', 'and', 'or', 'is_autocommit'] as const;
const valueTypes = ['null', 'integer', 'float', 'text', 'blob'] as const;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** Thrown only inside this module; decodePipelineRequest turns it into a value. */
class ShapeError extends Error {}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ShapeError(`invalid type: expected ${what} to be an object`);
  }
  return value as Json;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(`invalid type: expected ${what} to be an array`);
  return value;
}

function optionalArray(value: unknown, what: string): unknown[] {
  return value === undefined || value === null ? [] : array(value, what);
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string')
    throw new ShapeError(`invalid type: expected ${what} to be a string`);
  return value;
}

function optionalString(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : string(value, what);
}

function int32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > 2 ** 31) {
    throw new ShapeError(`invalid type: expected ${what} to be a 32-bit integer`);
  }
  return value;
}

function optionalInt32(value: unknown, what: string): number | undefined {
  return value === undefined || value === null ? undefined : int32(value, what);
}

function variant<T extends string>(value: unknown, allowed: readonly T[]): T {
  const tag = string(value, '`type`');
  if (!(allowed as readonly string[]).includes(tag)) {
    const expected = allowed.map((name) => `\`${name}\``).join(', ');
    throw new ShapeError(`unknown variant \`${tag}\`, expected one of ${expected}`);
  }
  return tag as T;
}

function integer(value: unknown): bigint {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d+$/.test(text)) {
    throw new ShapeError('invalid value: expected an integer encoded as a decimal string');
  }
  const parsed = BigInt(text);
  if (parsed < int64Min || parsed > int64Max) {
    throw new ShapeError(`invalid value: integer ${text} does not fit in 64 bits`);
  }
  return parsed;
}

function sqlValue(raw: unknown): SqlValue {
  const value = object(raw, 'value');
  switch (variant(value.type, valueTypes)) {
    case 'null':
      return null;
    case 'integer':
      return integer(value.value);
    case 'float':
      if (typeof value.value !== 'number') {
        throw new ShapeError('invalid type: expected a float value to be a number');
      }
      return value.value;
    case 'text':
      return string(value.value, 'a text value');
    case 'blob':
      return new Uint8Array(Buffer.from(string(value.base64, 'a blob `base64`'), 'base64'));
  }
}

function namedArg(raw: unknown): NamedArg {
  const arg = object(raw, 'named argument');
  return { name: string(arg.name, 'argument `name`'), value: sqlValue(arg.value) };
}

function stmt(raw: unknown): Stmt {
  const value = object(raw, '`stmt`');
  const wantRows = value.want_rows;
  if (wantRows !== undefined && wantRows !== null && typeof wantRows !== 'boolean') {
    throw new ShapeError('invalid type: expected `want_rows` to be a boolean');
  }
  return {
    sql: optionalString(value.sql, '`sql`'),
    sqlId: optionalInt32(value.sql_id, '`sql_id`'),
    args: optionalArray(value.args, '`args`').map(sqlValue),
    namedArgs: optionalArray(value.named_args, '`named_args`').map(namedArg),
    wantRows: wantRows ?? true,
  };
}

function batchCond(raw: unknown): BatchCond {
  const cond = object(raw, '`condition`');
  const type = variant(cond.type, condTypes);
  switch (type) {
    case 'ok':
    case 'error':
      return { type, step: int32(cond.step, '`step`') };
    case 'not':
      return { type, cond: batchCond(cond.cond) };
    case 'and':
    case 'or':
      return { type, conds: array(cond.conds, '`conds`').map(batchCond) };
    case 'is_autocommit':
      return { type };
  }
}

function batchStep(raw: unknown): BatchStep {
  const step = object(raw, 'batch step');
  const condition = step.condition;
  return {
    condition: condition === undefined || condition === null ? undefined : batchCond(condition),
    stmt: stmt(step.stmt),
  };
}

function streamRequest(raw: unknown): StreamRequest {
  const request = object(raw, 'request');
  const type = variant(request.type, requestTypes);
  switch (type) {
    case 'close':
    case 'get_autocommit':
      return { type };
    case 'execute':
      return { type, stmt: stmt(request.stmt) };
    case 'batch': {
      const batch = object(request.batch, '`batch`');
      return { type, steps: array(batch.steps, '`steps`').map(batchStep) };
    }
    case 'sequence':
    case 'describe':
      return {
        type,
        sql: optionalString(request.sql, '`sql`'),
        sqlId: optionalInt32(request.sql_id, '`sql_id`'),
      };
    case 'store_sql':
      return { type, sqlId: int32(request.sql_id, '`sql_id`'), sql: string(request.sql, '`sql`') };
    case 'close_sql':
      return { type, sqlId: int32(request.sql_id, '`sql_id`') };
  }
}

export function decodePipelineRequest(text: string): Decoded<PipelineRequest> {
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ShapeError(error instanceof Error ? error.message : String(error));
    }
    const body = object(parsed, 'the request body');
    return {
      ok: true,
      value: {
        baton: optionalString(body.baton, '`baton`'),
        requests: array(body.requests, '`requests`').map(streamRequest),
      },
    };
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    return { ok: false, message: `Cannot deserialize client message from JSON: ${error.message}` };
  }
}
