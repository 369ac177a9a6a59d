// HyperLogLog: PFADD, PFCOUNT and PFMERGE on Redis 7.0's own string encoding (hyperloglog.c):
// the "HYLL" header with its cached cardinality, the sparse opcodes (ZERO, XZERO, VAL) updated in
// place the way hllSparseSet does, promotion to the 12 KB dense form, MurmurHash64A and Ertl's
// estimator. The bytes, and so every count, are the ones Redis would have: GET, COPY and a
// DUMP-free move to a real Redis all see a valid HyperLogLog.
import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable } from '../command.ts';
import { isError } from '../errors.ts';
import { keyOf } from '../keyspace.ts';

const P = 14;
const REGISTERS = 1 << P;
const Q = 64 - P;
const HEADER_BYTES = 16;
const DENSE_BYTES = HEADER_BYTES + (REGISTERS * 6) / 8;
const DENSE = 0;
const SPARSE = 1;
/** hll-sparse-max-bytes, Redis's default. */
const SPARSE_MAX_BYTES = 3000;
const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;
const ALPHA_INF = 0.7213475204444817; // 0.5 / ln 2
const CARD_VALID_BYTE = 15;

const INVALID_HLL = new RedisErrorReply('WRONGTYPE Key is not a valid HyperLogLog string value.');
const CORRUPTED_HLL = new RedisErrorReply('INVALIDOBJ Corrupted HLL object detected');

const M64 = 0xc6a4a7935bd1e995n;
const u64 = (value: bigint) => BigInt.asUintN(64, value);

/** MurmurHash2, 64-bit version, read little-endian as Redis does on every platform. */
function murmurHash64A(data: Buffer, seed: bigint): bigint {
  let h = u64(seed ^ u64(BigInt(data.length) * M64));
  const blocks = data.length - (data.length & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = data.readBigUInt64LE(i);
    k = u64(k * M64);
    k ^= k >> 47n;
    k = u64(k * M64);
    h ^= k;
    h = u64(h * M64);
  }
  const tail = data.length & 7;
  if (tail > 0) {
    for (let i = tail - 1; i >= 0; i--) h ^= BigInt(data[blocks + i] ?? 0) << BigInt(8 * i);
    h = u64(h * M64);
  }
  h ^= h >> 47n;
  h = u64(h * M64);
  h ^= h >> 47n;
  return h;
}

/** The register an element falls in and the length of its 000..1 pattern. */
function patternOf(element: Buffer): { index: number; count: number } {
  const hash = murmurHash64A(element, 0xadc83b19n);
  const index = Number(hash & BigInt(REGISTERS - 1));
  const rest = (hash >> BigInt(P)) | (1n << BigInt(Q));
  let count = 1;
  for (let bit = 1n; (rest & bit) === 0n; bit <<= 1n) count++;
  return { index, count };
}

// Dense registers: 6 bits each, packed from the least significant bit of each byte.

function denseGet(bytes: Uint8Array, register: number): number {
  const byte = HEADER_BYTES + ((register * 6) >> 3);
  const shift = (register * 6) & 7;
  const low = bytes[byte] ?? 0;
  const high = bytes[byte + 1] ?? 0;
  return ((low >> shift) | (high << (8 - shift))) & 63;
}

function denseSet(bytes: Uint8Array, register: number, value: number): void {
  const byte = HEADER_BYTES + ((register * 6) >> 3);
  const shift = (register * 6) & 7;
  bytes[byte] = ((bytes[byte] ?? 0) & ~(63 << shift)) | ((value << shift) & 0xff);
  if (byte + 1 < bytes.length) {
    bytes[byte + 1] = ((bytes[byte + 1] ?? 0) & ~(63 >> (8 - shift))) | (value >> (8 - shift));
  }
}

/** Sets the register when `count` is larger; true when it changed. */
function denseUpdate(bytes: Uint8Array, register: number, count: number): boolean {
  if (count <= denseGet(bytes, register)) return false;
  denseSet(bytes, register, count);
  return true;
}

// Sparse opcodes: ZERO 00xxxxxx (1-64 zero registers), XZERO 01xxxxxx yyyyyyyy (1-16384 zero
// registers), VAL 1vvvvvxx (1-4 registers of value 1-32).

const isZero = (byte: number) => (byte & 0xc0) === 0;
const isXZero = (byte: number) => (byte & 0xc0) === 0x40;
const isVal = (byte: number) => (byte & 0x80) !== 0;
const zeroLength = (byte: number) => (byte & 0x3f) + 1;
const xzeroLength = (byte: number, next: number) => (((byte & 0x3f) << 8) | next) + 1;
const valValue = (byte: number) => ((byte >> 2) & 0x1f) + 1;
const valLength = (byte: number) => (byte & 3) + 1;
const valOpcode = (value: number, length: number) => ((value - 1) << 2) | (length - 1) | 0x80;

function zeroRun(length: number): number[] {
  if (length > SPARSE_ZERO_MAX_LEN) {
    const encoded = length - 1;
    return [(encoded >> 8) | 0x40, encoded & 0xff];
  }
  return [length - 1];
}

interface Run {
  value: number;
  length: number;
}

/** The sparse opcodes as runs of equal registers, or null when they do not cover 16384. */
function sparseRuns(bytes: Uint8Array): Run[] | null {
  const runs: Run[] = [];
  let covered = 0;
  for (let p = HEADER_BYTES; p < bytes.length; ) {
    const byte = bytes[p] ?? 0;
    if (isZero(byte)) {
      runs.push({ value: 0, length: zeroLength(byte) });
      p++;
    } else if (isXZero(byte)) {
      runs.push({ value: 0, length: xzeroLength(byte, bytes[p + 1] ?? 0) });
      p += 2;
    } else {
      if (covered + valLength(byte) > REGISTERS) break;
      runs.push({ value: valValue(byte), length: valLength(byte) });
      p++;
    }
    covered += runs.at(-1)?.length ?? 0;
  }
  return covered === REGISTERS ? runs : null;
}

/** hllSparseToDense: the header (cached cardinality included) is kept. */
function toDense(bytes: Uint8Array): Uint8Array | null {
  if (bytes[4] === DENSE) return bytes;
  const runs = sparseRuns(bytes);
  if (runs === null) return null;
  const dense = new Uint8Array(DENSE_BYTES);
  dense.set(bytes.subarray(0, HEADER_BYTES));
  dense[4] = DENSE;
  let register = 0;
  for (const { value, length } of runs) {
    for (let i = 0; i < length; i++, register++) if (value !== 0) denseSet(dense, register, value);
  }
  return dense;
}

/** The HLL being updated: its bytes change size and encoding as registers are set. */
class Hll {
  bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  static empty(): Hll {
    const bytes = new Uint8Array(HEADER_BYTES + 2);
    bytes.set(Buffer.from('HYLL'));
    bytes[4] = SPARSE;
    bytes.set(zeroRun(SPARSE_XZERO_MAX_LEN), HEADER_BYTES);
    return new Hll(bytes);
  }

  get dense(): boolean {
    return this.bytes[4] === DENSE;
  }

  invalidateCache(): void {
    this.bytes[CARD_VALID_BYTE] = (this.bytes[CARD_VALID_BYTE] ?? 0) | 0x80;
  }

  /** 1 when the register grew, 0 when not, -1 when the sparse form is corrupt. */
  set(register: number, count: number): number {
    if (this.dense) return denseUpdate(this.bytes, register, count) ? 1 : 0;
    return this.#sparseSet(register, count);
  }

  #promote(register: number, count: number): number {
    const dense = toDense(this.bytes);
    if (dense === null) return -1;
    this.bytes = dense;
    denseUpdate(dense, register, count);
    return 1;
  }

  /** hllSparseSet, step by step, so the opcodes come out byte for byte as Redis writes them. */
  #sparseSet(register: number, count: number): number {
    if (count > SPARSE_VAL_MAX_VALUE) return this.#promote(register, count);
    const ops = [...this.bytes];
    let p = HEADER_BYTES;
    let first = 0;
    let prev = -1;
    let span = 0;
    while (p < ops.length) {
      const byte = ops[p] ?? 0;
      let length = 1;
      if (isZero(byte)) span = zeroLength(byte);
      else if (isVal(byte)) span = valLength(byte);
      else {
        span = xzeroLength(byte, ops[p + 1] ?? 0);
        length = 2;
      }
      if (register <= first + span - 1) break;
      prev = p;
      p += length;
      first += span;
    }
    if (span === 0 || p >= ops.length) return -1;
    const byte = ops[p] ?? 0;
    if (isVal(byte)) {
      if (valValue(byte) >= count) return 0;
      if (valLength(byte) === 1) {
        ops[p] = valOpcode(count, 1);
        return this.#merged(ops, prev);
      }
    }
    if (isZero(byte) && zeroLength(byte) === 1) {
      ops[p] = valOpcode(count, 1);
      return this.#merged(ops, prev);
    }
    // Split the run into what comes before the register, the register, and what follows.
    const last = first + span - 1;
    const sequence: number[] = [];
    if (isVal(byte)) {
      const value = valValue(byte);
      if (register !== first) sequence.push(valOpcode(value, register - first));
      sequence.push(valOpcode(count, 1));
      if (register !== last) sequence.push(valOpcode(value, last - register));
    } else {
      if (register !== first) sequence.push(...zeroRun(register - first));
      sequence.push(valOpcode(count, 1));
      if (register !== last) sequence.push(...zeroRun(last - register));
    }
    const oldLength = isXZero(byte) ? 2 : 1;
    const growth = sequence.length - oldLength;
    if (growth > 0 && ops.length + growth > SPARSE_MAX_BYTES) {
      return this.#promote(register, count);
    }
    ops.splice(p, oldLength, ...sequence);
    return this.#merged(ops, prev);
  }

  /** Merges adjacent VAL opcodes of equal value, scanning up to 5 opcodes from `prev`. */
  #merged(ops: number[], prev: number): number {
    let p = prev === -1 ? HEADER_BYTES : prev;
    for (let scans = 5; p < ops.length && scans > 0; scans--) {
      const byte = ops[p] ?? 0;
      if (isXZero(byte)) {
        p += 2;
        continue;
      }
      if (isZero(byte)) {
        p++;
        continue;
      }
      const next = ops[p + 1];
      if (next !== undefined && isVal(next) && valValue(byte) === valValue(next)) {
        const length = valLength(byte) + valLength(next);
        if (length <= SPARSE_VAL_MAX_LEN) {
          ops[p + 1] = valOpcode(valValue(byte), length);
          ops.splice(p, 1);
          continue;
        }
      }
      p++;
    }
    this.bytes = Uint8Array.from(ops);
    this.invalidateCache();
    return 1;
  }
}

/** The HLL's registers as one byte each (the RAW form PFCOUNT uses for several keys). */
function mergeInto(registers: Uint8Array, bytes: Uint8Array): boolean {
  if (bytes[4] === DENSE) {
    for (let i = 0; i < REGISTERS; i++) {
      registers[i] = Math.max(registers[i] ?? 0, denseGet(bytes, i));
    }
    return true;
  }
  const runs = sparseRuns(bytes);
  if (runs === null) return false;
  let register = 0;
  for (const { value, length } of runs) {
    for (let i = 0; i < length; i++, register++) {
      registers[register] = Math.max(registers[register] ?? 0, value);
    }
  }
  return true;
}

function sigma(start: number): number {
  if (start === 1) return Infinity;
  let x = start;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

function tau(start: number): number {
  if (start === 0 || start === 1) return 0;
  let x = start;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (previous !== z);
  return z / 3;
}

/** hllCount: Ertl's estimator over the histogram of register values. */
function estimate(histogram: number[]): number {
  const m = REGISTERS;
  let z = m * tau((m - (histogram[Q + 1] ?? 0)) / m);
  for (let j = Q; j >= 1; j--) {
    z += histogram[j] ?? 0;
    z *= 0.5;
  }
  z += m * sigma((histogram[0] ?? 0) / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

function histogramOf(registers: Iterable<number>): number[] {
  const histogram = new Array<number>(64).fill(0);
  for (const value of registers) histogram[value] = (histogram[value] ?? 0) + 1;
  return histogram;
}

/** The registers of a valid HLL, or null when a sparse one is corrupt. */
function registersOf(bytes: Uint8Array): Uint8Array | null {
  const registers = new Uint8Array(REGISTERS);
  return mergeInto(registers, bytes) ? registers : null;
}

/** isHLLObjectOrReply: the key's HLL bytes, undefined when missing, or the error. */
function readHll(context: CommandContext, key: string): Uint8Array | undefined | RedisErrorReply {
  const value = context.keyspace.typed(key, 'string');
  if (isError(value) || value === undefined) return value;
  const encoding = value[4] ?? 0;
  if (
    value.length < HEADER_BYTES ||
    value.subarray(0, 4).toString('latin1') !== 'HYLL' ||
    encoding > SPARSE ||
    (encoding === DENSE && value.length !== DENSE_BYTES)
  ) {
    return INVALID_HLL;
  }
  return Uint8Array.from(value);
}

function storeHll(context: CommandContext, key: string, bytes: Uint8Array): void {
  context.keyspace.set(key, { type: 'string', value: Buffer.from(bytes) }, { keepTtl: true });
}

function pfadd(context: CommandContext, args: Buffer[]): RedisReply {
  const key = keyOf(arg(args, 1));
  const existing = readHll(context, key);
  if (isError(existing)) return existing;
  const hll = existing === undefined ? Hll.empty() : new Hll(existing);
  let updated = existing === undefined;
  for (const element of args.slice(2)) {
    const { index, count } = patternOf(element);
    const result = hll.set(index, count);
    if (result === -1) {
      storeHll(context, key, hll.bytes);
      return CORRUPTED_HLL;
    }
    if (result === 1) updated = true;
  }
  if (updated) hll.invalidateCache();
  storeHll(context, key, hll.bytes);
  return updated ? 1 : 0;
}

function pfcount(context: CommandContext, args: Buffer[]): RedisReply {
  if (args.length > 2) {
    const registers = new Uint8Array(REGISTERS);
    for (const key of args.slice(1)) {
      const bytes = readHll(context, keyOf(key));
      if (isError(bytes)) return bytes;
      if (bytes !== undefined && !mergeInto(registers, bytes)) return CORRUPTED_HLL;
    }
    return estimate(histogramOf(registers));
  }
  const key = keyOf(arg(args, 1));
  const bytes = readHll(context, key);
  if (isError(bytes) || bytes === undefined) return bytes ?? 0;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The cached cardinality: 8 bytes little-endian, its top bit set when stale.
  if (((bytes[CARD_VALID_BYTE] ?? 0) & 0x80) === 0) return Number(view.readBigUInt64LE(8));
  const registers = registersOf(bytes);
  if (registers === null) return CORRUPTED_HLL;
  const count = estimate(histogramOf(registers));
  view.writeBigUInt64LE(BigInt(count), 8);
  storeHll(context, key, bytes);
  return count;
}

function pfmerge(context: CommandContext, args: Buffer[]): RedisReply {
  const registers = new Uint8Array(REGISTERS);
  let anyDense = false;
  // The destination is a source too.
  for (const key of args.slice(1)) {
    const bytes = readHll(context, keyOf(key));
    if (isError(bytes)) return bytes;
    if (bytes === undefined) continue;
    if (bytes[4] === DENSE) anyDense = true;
    if (!mergeInto(registers, bytes)) return CORRUPTED_HLL;
  }
  const key = keyOf(arg(args, 1));
  const existing = readHll(context, key);
  const hll = existing === undefined || isError(existing) ? Hll.empty() : new Hll(existing);
  if (anyDense) {
    const dense = toDense(hll.bytes);
    if (dense === null) return CORRUPTED_HLL;
    hll.bytes = dense;
  }
  registers.forEach((count, register) => {
    if (count !== 0) hll.set(register, count);
  });
  hll.invalidateCache();
  storeHll(context, key, hll.bytes);
  return new RedisStatusReply('OK');
}

export const hyperLogLogCommands: CommandTable = {
  pfadd: { arity: -2, write: true, run: pfadd },
  // PFCOUNT refreshes the cached count in the string: read-only scripts refuse it as a write.
  pfcount: { arity: -2, write: true, run: pfcount },
  pfmerge: { arity: -2, write: true, run: pfmerge },
};
