// Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD over string values, ported from
// Redis 7.0's bitops.c so ranges, masks and overflow handling answer exactly as it does. Strings
// stay immutable: every write stores a new Buffer and keeps the key's deadline.
import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NOT_INTEGER, SYNTAX_ERROR } from '../errors.ts';
import { keyOf } from '../keyspace.ts';
import { parseInt64, parseInteger } from '../numbers.ts';

/** proto-max-bulk-len: no bitmap may grow past 512 MB. */
const MAX_BYTES = 512 * 1024 * 1024;
const BIT_OFFSET_ERROR = new RedisErrorReply('ERR bit offset is not an integer or out of range');
const BIT_VALUE_ERROR = new RedisErrorReply('ERR bit is not an integer or out of range');
const BITFIELD_TYPE_ERROR = new RedisErrorReply(
  'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.',
);

function readString(context: CommandContext, key: string) {
  return context.keyspace.typed(key, 'string');
}

/** A bit offset, or with `#` (BITFIELD only) a multiple of the field width. */
function parseBitOffset(bytes: Buffer, fieldBits: number): bigint | RedisErrorReply {
  const byIndex = fieldBits > 0 && bytes[0] === 0x23;
  const value = parseInt64(byIndex ? bytes.subarray(1) : bytes);
  if (value === null) return BIT_OFFSET_ERROR;
  const offset = byIndex ? BigInt.asIntN(64, value * BigInt(fieldBits)) : value;
  if (offset < 0n || offset >> 3n >= BigInt(MAX_BYTES)) return BIT_OFFSET_ERROR;
  return offset;
}

/** The string grown with zero bytes to hold `lastBit`, as lookupStringForBitCommand does. */
function growForBit(current: Buffer | undefined, lastBit: bigint): Buffer {
  const length = Math.max(current?.length ?? 0, Number(lastBit >> 3n) + 1);
  const grown = Buffer.alloc(length);
  current?.copy(grown);
  return grown;
}

function store(context: CommandContext, key: string, value: Buffer): void {
  context.keyspace.set(key, { type: 'string', value }, { keepTtl: true });
}

function setbit(context: CommandContext, args: Buffer[]): RedisReply {
  const offset = parseBitOffset(arg(args, 2), 0);
  if (isError(offset)) return offset;
  const on = parseInteger(arg(args, 3));
  if (on !== 0 && on !== 1) return BIT_VALUE_ERROR;
  const key = keyOf(arg(args, 1));
  const current = readString(context, key);
  if (isError(current)) return current;
  const value = growForBit(current, offset);
  const byte = Number(offset >> 3n);
  const mask = 1 << (7 - Number(offset & 7n));
  const previous = ((value[byte] ?? 0) & mask) === 0 ? 0 : 1;
  value[byte] = on === 1 ? (value[byte] ?? 0) | mask : (value[byte] ?? 0) & ~mask;
  store(context, key, value);
  return previous;
}

function getbit(context: CommandContext, args: Buffer[]): RedisReply {
  const offset = parseBitOffset(arg(args, 2), 0);
  if (isError(offset)) return offset;
  const value = readString(context, keyOf(arg(args, 1)));
  if (isError(value) || value === undefined) return value ?? 0;
  const byte = value[Number(offset >> 3n)] ?? 0;
  return (byte >> (7 - Number(offset & 7n))) & 1;
}

function popcount(byte: number): number {
  let count = 0;
  for (let bits = byte; bits !== 0; bits &= bits - 1) count++;
  return count;
}

/** BITCOUNT / BITPOS unit: BYTE (default) or BIT, or null for a syntax error. */
function parseUnit(bytes: Buffer | undefined): boolean | null {
  if (bytes === undefined) return false;
  const unit = optionName(bytes);
  if (unit === 'BIT') return true;
  return unit === 'BYTE' ? false : null;
}

/**
 * Start/end converted as BITCOUNT and BITPOS do (negative from the end, clamped), and for BIT
 * ranges the masks of the bits outside the range in the first and last bytes.
 */
interface ByteRange {
  start: number;
  end: number;
  firstMask: number;
  lastMask: number;
}

function byteRange(
  startIndex: number,
  endIndex: number,
  length: number,
  isBit: boolean,
): ByteRange {
  const total = isBit ? length * 8 : length;
  let start = startIndex < 0 ? total + startIndex : startIndex;
  let end = endIndex < 0 ? total + endIndex : endIndex;
  start = Math.max(0, start);
  end = Math.min(Math.max(0, end), total - 1);
  const range = { start, end, firstMask: 0, lastMask: 0 };
  if (isBit && start <= end) {
    range.firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
    range.lastMask = (1 << (7 - (end & 7))) - 1;
    range.start = start >> 3;
    range.end = end >> 3;
  }
  return range;
}

function bitcount(context: CommandContext, args: Buffer[]): RedisReply {
  const value = readString(context, keyOf(arg(args, 1)));
  if (isError(value) || value === undefined) return value ?? 0;
  let range: ByteRange;
  if (args.length === 4 || args.length === 5) {
    const start = parseInteger(arg(args, 2));
    if (start === null) return NOT_INTEGER;
    const end = parseInteger(arg(args, 3));
    if (end === null) return NOT_INTEGER;
    if (start < 0 && end < 0 && start > end) return 0;
    const isBit = parseUnit(args[4]);
    if (isBit === null) return SYNTAX_ERROR;
    range = byteRange(start, end, value.length, isBit);
  } else if (args.length === 2) {
    range = { start: 0, end: value.length - 1, firstMask: 0, lastMask: 0 };
  } else {
    return SYNTAX_ERROR;
  }
  if (range.start > range.end) return 0;
  let count = 0;
  for (let i = range.start; i <= range.end; i++) count += popcount(value[i] ?? 0);
  count -= popcount((value[range.start] ?? 0) & range.firstMask);
  count -= popcount((value[range.end] ?? 0) & range.lastMask);
  return count;
}

/** redisBitpos: the first bit equal to `bit`; for 0, past the end when every bit is 1. */
function firstBit(bytes: Buffer, bit: number): number {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    if (byte === (bit === 1 ? 0 : 0xff)) continue;
    for (let j = 0; j < 8; j++) {
      if (((byte >> (7 - j)) & 1) === bit) return i * 8 + j;
    }
  }
  return bit === 1 ? -1 : bytes.length * 8;
}

/**
 * Redis's bitposCommand search over a byte range: the first byte alone (it carries the start
 * mask), the whole bytes, then the last byte (the end mask). Returns the position relative to
 * `start` and the bytes left to search when it stopped, which decide the "no 0 bit" answer.
 */
function searchBytes(
  value: Buffer,
  range: ByteRange,
  bit: number,
): { pos: number; start: number; bytes: number } {
  let { start } = range;
  let bytes = range.end - range.start + 1;
  const masked = (byte: number, mask: number) =>
    bit === 1 ? byte & ~mask & 0xff : (byte | mask) & 0xff;
  if (range.firstMask !== 0) {
    let byte = masked(value[start] ?? 0, range.firstMask);
    if (range.lastMask !== 0 && bytes === 1) byte = masked(byte, range.lastMask);
    const pos = firstBit(Buffer.from([byte]), bit);
    if (bytes === 1 || (pos !== -1 && pos !== 8)) return { pos, start, bytes };
    start++;
    bytes--;
  }
  const whole = bytes - (range.lastMask !== 0 ? 1 : 0);
  if (whole > 0) {
    const pos = firstBit(value.subarray(start, start + whole), bit);
    if (bytes === whole || (pos !== -1 && pos !== whole * 8)) return { pos, start, bytes };
    start += whole;
    bytes -= whole;
  }
  const pos = firstBit(Buffer.from([masked(value[range.end] ?? 0, range.lastMask)]), bit);
  return { pos, start, bytes };
}

function searchRange(value: Buffer, range: ByteRange, bit: number, endGiven: boolean): number {
  const { pos, start, bytes } = searchBytes(value, range, bit);
  if (endGiven && bit === 0 && pos === bytes * 8) return -1;
  return pos === -1 ? -1 : pos + start * 8;
}

function bitpos(context: CommandContext, args: Buffer[]): RedisReply {
  const bit = parseInteger(arg(args, 2));
  if (bit === null) return NOT_INTEGER;
  if (bit !== 0 && bit !== 1) return new RedisErrorReply('ERR The bit argument must be 1 or 0.');
  const value = readString(context, keyOf(arg(args, 1)));
  if (isError(value)) return value;
  if (value === undefined) return bit === 1 ? -1 : 0;
  if (args.length === 3) {
    const range = { start: 0, end: value.length - 1, firstMask: 0, lastMask: 0 };
    return range.start > range.end ? -1 : searchRange(value, range, bit, false);
  }
  if (args.length > 6) return SYNTAX_ERROR;
  const start = parseInteger(arg(args, 3));
  if (start === null) return NOT_INTEGER;
  const isBit = parseUnit(args[5]);
  if (isBit === null) return SYNTAX_ERROR;
  let end = isBit ? value.length * 8 + 7 : value.length - 1;
  if (args[4] !== undefined) {
    const parsed = parseInteger(args[4]);
    if (parsed === null) return NOT_INTEGER;
    end = parsed;
  }
  const range = byteRange(start, end, value.length, isBit);
  return range.start > range.end ? -1 : searchRange(value, range, bit, args[4] !== undefined);
}

const BITOPS: Record<string, (a: number, b: number) => number> = {
  AND: (a, b) => a & b,
  OR: (a, b) => a | b,
  XOR: (a, b) => a ^ b,
};

function bitop(context: CommandContext, args: Buffer[]): RedisReply {
  const operation = optionName(args[1]);
  const combine = BITOPS[operation];
  if (combine === undefined && operation !== 'NOT') return SYNTAX_ERROR;
  if (operation === 'NOT' && args.length !== 4) {
    return new RedisErrorReply('ERR BITOP NOT must be called with a single source key.');
  }
  const sources: Buffer[] = [];
  for (const key of args.slice(3)) {
    const value = readString(context, keyOf(key));
    if (isError(value)) return value;
    sources.push(value ?? Buffer.alloc(0));
  }
  const length = Math.max(...sources.map((source) => source.length));
  const destination = keyOf(arg(args, 2));
  if (length === 0) {
    context.keyspace.delete(destination);
    return 0;
  }
  const result = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    let byte = sources[0]?.[i] ?? 0;
    if (combine === undefined) byte = ~byte & 0xff;
    for (const source of sources.slice(1)) byte = combine?.(byte, source[i] ?? 0) ?? byte;
    result[i] = byte;
  }
  context.keyspace.set(destination, { type: 'string', value: result });
  return length;
}

// BITFIELD works on 64-bit two's complement values, as bigints.

type Overflow = 'WRAP' | 'SAT' | 'FAIL';

interface FieldOp {
  kind: 'GET' | 'SET' | 'INCRBY';
  signed: boolean;
  bits: number;
  offset: bigint;
  value: bigint;
  overflow: Overflow;
}

function readField(bytes: Buffer, offset: bigint, bits: number, signed: boolean): bigint {
  let value = 0n;
  for (let j = 0n; j < BigInt(bits); j++) {
    const position = offset + j;
    const byte = bytes[Number(position >> 3n)] ?? 0;
    value = (value << 1n) | BigInt((byte >> (7 - Number(position & 7n))) & 1);
  }
  return signed ? BigInt.asIntN(bits, value) : value;
}

function writeField(bytes: Buffer, offset: bigint, bits: number, value: bigint): void {
  for (let j = 0; j < bits; j++) {
    const position = offset + BigInt(j);
    const index = Number(position >> 3n);
    const mask = 1 << (7 - Number(position & 7n));
    const set = ((value >> BigInt(bits - 1 - j)) & 1n) === 1n;
    bytes[index] = set ? (bytes[index] ?? 0) | mask : (bytes[index] ?? 0) & ~mask;
  }
}

/** checkUnsignedBitfieldOverflow: the value to store, or null on overflow with FAIL. */
function unsignedResult(value: bigint, increment: bigint, op: FieldOp): bigint | null {
  const max = (1n << BigInt(op.bits)) - 1n;
  const maxIncrement = BigInt.asIntN(64, max - value);
  const minIncrement = BigInt.asIntN(64, -value);
  const wrapped = BigInt.asUintN(op.bits, value + increment);
  if (value > max || (increment > 0n && increment > maxIncrement)) {
    return op.overflow === 'FAIL' ? null : op.overflow === 'SAT' ? max : wrapped;
  }
  if (increment < 0n && increment < minIncrement) {
    return op.overflow === 'FAIL' ? null : op.overflow === 'SAT' ? 0n : wrapped;
  }
  return value + increment;
}

/** checkSignedBitfieldOverflow, its int64 wrap-arounds included. */
function signedResult(value: bigint, increment: bigint, op: FieldOp): bigint | null {
  const max = (1n << BigInt(op.bits - 1)) - 1n;
  const min = -max - 1n;
  const maxIncrement = BigInt.asIntN(64, max - value);
  const minIncrement = BigInt.asIntN(64, min - value);
  const wide = op.bits === 64;
  const wrapped = BigInt.asIntN(op.bits, value + increment);
  if (
    value > max ||
    (!wide && increment > maxIncrement) ||
    (value >= 0n && increment > 0n && increment > maxIncrement)
  ) {
    return op.overflow === 'FAIL' ? null : op.overflow === 'SAT' ? max : wrapped;
  }
  if (
    value < min ||
    (!wide && increment < minIncrement) ||
    (value < 0n && increment < 0n && increment < minIncrement)
  ) {
    return op.overflow === 'FAIL' ? null : op.overflow === 'SAT' ? min : wrapped;
  }
  return value + increment;
}

function parseFieldType(bytes: Buffer): { signed: boolean; bits: number } | RedisErrorReply {
  const signed = bytes[0] === 0x69;
  if (!signed && bytes[0] !== 0x75) return BITFIELD_TYPE_ERROR;
  const bits = parseInteger(bytes.subarray(1));
  if (bits === null || bits < 1 || (signed && bits > 64) || (!signed && bits > 63)) {
    return BITFIELD_TYPE_ERROR;
  }
  return { signed, bits };
}

function parseFieldOps(args: Buffer[]): FieldOp[] | RedisErrorReply {
  const ops: FieldOp[] = [];
  let overflow: Overflow = 'WRAP';
  for (let i = 2; i < args.length; i++) {
    const remaining = args.length - i - 1;
    const name = optionName(args[i]);
    if (name === 'OVERFLOW' && remaining >= 1) {
      const mode = optionName(args[++i]);
      if (mode !== 'WRAP' && mode !== 'SAT' && mode !== 'FAIL') {
        return new RedisErrorReply('ERR Invalid OVERFLOW type specified');
      }
      overflow = mode;
      continue;
    }
    const kind =
      name === 'GET' && remaining >= 2
        ? 'GET'
        : (name === 'SET' || name === 'INCRBY') && remaining >= 3
          ? name
          : null;
    if (kind === null) return SYNTAX_ERROR;
    const type = parseFieldType(arg(args, i + 1));
    if (isError(type)) return type;
    const offset = parseBitOffset(arg(args, i + 2), type.bits);
    if (isError(offset)) return offset;
    let value = 0n;
    if (kind !== 'GET') {
      const parsed = parseInt64(arg(args, i + 3));
      if (parsed === null) return NOT_INTEGER;
      value = parsed;
    }
    ops.push({ kind, ...type, offset, value, overflow });
    i += kind === 'GET' ? 2 : 3;
  }
  return ops;
}

function runFieldOp(bytes: Buffer, op: FieldOp): RedisReply {
  const old = readField(bytes, op.offset, op.bits, op.signed);
  if (op.kind === 'GET') return Number(old);
  // SET checks its (int64) value against the field; INCRBY checks old + increment.
  const [base, increment] = op.kind === 'SET' ? [op.value, 0n] : [old, op.value];
  const checked = op.signed
    ? signedResult(base, increment, op)
    : unsignedResult(BigInt.asUintN(64, base), increment, op);
  if (checked === null) return null;
  writeField(bytes, op.offset, op.bits, checked);
  return Number(op.kind === 'SET' ? old : checked);
}

function bitfield(readOnly: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const ops = parseFieldOps(args);
    if (isError(ops)) return ops;
    const key = keyOf(arg(args, 1));
    const current = readString(context, key);
    const writes = ops.filter((op) => op.kind !== 'GET');
    if (writes.length === 0) {
      if (isError(current)) return current;
      const bytes = current ?? Buffer.alloc(0);
      return ops.map((op) => runFieldOp(bytes, op));
    }
    if (readOnly) return new RedisErrorReply('ERR BITFIELD_RO only supports the GET subcommand');
    if (isError(current)) return current;
    const lastBit = writes.reduce(
      (highest, op) =>
        op.offset + BigInt(op.bits) - 1n > highest ? op.offset + BigInt(op.bits) - 1n : highest,
      0n,
    );
    const bytes = growForBit(current, lastBit);
    const replies = ops.map((op) => runFieldOp(bytes, op));
    store(context, key, bytes);
    return replies;
  };
}

export const bitmapCommands: CommandTable = {
  setbit: { arity: 4, write: true, run: setbit },
  getbit: { arity: 3, write: false, run: getbit },
  bitcount: { arity: -2, write: false, run: bitcount },
  bitpos: { arity: -3, write: false, run: bitpos },
  bitop: { arity: -4, write: true, run: bitop },
  bitfield: { arity: -2, write: true, run: bitfield(false) },
  bitfield_ro: { arity: -2, write: false, run: bitfield(true) },
};
