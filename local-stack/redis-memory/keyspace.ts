// The data: one map from key to typed value with an optional deadline. Keys, hash fields and
// members are latin1 strings, a lossless one-char-per-byte view of the Buffers Redis receives.
import type { RedisErrorReply } from '../redis-rest/backend.ts';
import { WRONG_TYPE } from './errors.ts';
import type { Stream } from './stream.ts';

interface ValueTypes {
  string: Buffer;
  hash: Map<string, Buffer>;
  set: Set<string>;
  zset: Map<string, number>;
  list: Buffer[];
  stream: Stream;
}

export type RedisType = keyof ValueTypes;
export type RedisValue = { [T in RedisType]: { type: T; value: ValueTypes[T] } }[RedisType];
type ValueOf<T extends RedisType> = ValueTypes[T];

interface Entry {
  data: RedisValue;
  /** Absolute unix time in ms, or null for no expiry. */
  expiresAt: number | null;
}

export function keyOf(bytes: Buffer): string {
  return bytes.toString('latin1');
}

export function bytesOf(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

export class Keyspace {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  now(): number {
    return this.#now();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt != null && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  has(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  value(key: string): RedisValue | undefined {
    return this.#live(key)?.data;
  }

  /** The value when the key holds `type`, undefined when the key is missing, else WRONGTYPE. */
  typed<T extends RedisType>(key: string, type: T): ValueOf<T> | undefined | RedisErrorReply {
    const data = this.#live(key)?.data;
    if (data === undefined) return undefined;
    if (data.type !== type) return WRONG_TYPE;
    return data.value as ValueOf<T>;
  }

  /** Like `typed`, but creates an empty value of that type (stored at once) when missing. */
  writable<T extends RedisType>(
    key: string,
    type: T,
    empty: () => ValueOf<T>,
  ): ValueOf<T> | RedisErrorReply {
    const existing = this.typed(key, type);
    if (existing !== undefined) return existing;
    const value = empty();
    this.#entries.set(key, { data: { type, value } as RedisValue, expiresAt: null });
    return value;
  }

  /** Replaces the value; the deadline is kept only when asked (SET KEEPTTL, INCR, APPEND...). */
  set(key: string, data: RedisValue, options: { keepTtl: boolean } = { keepTtl: false }): void {
    const expiresAt = options.keepTtl ? (this.#live(key)?.expiresAt ?? null) : null;
    this.#entries.set(key, { data, expiresAt });
  }

  delete(key: string): boolean {
    return this.#live(key) !== undefined && this.#entries.delete(key);
  }

  /**
   * Removes a collection left empty, as Redis never keeps empty hashes, sets, zsets or lists
   * (an empty stream stays).
   */
  dropIfEmpty(key: string): void {
    const data = this.#entries.get(key)?.data;
    if (data === undefined || data.type === 'string' || data.type === 'stream') return;
    const size = Array.isArray(data.value) ? data.value.length : data.value.size;
    if (size === 0) this.#entries.delete(key);
  }

  expiresAt(key: string): number | null | undefined {
    const entry = this.#live(key);
    return entry === undefined ? undefined : entry.expiresAt;
  }

  /** Sets (or clears with null) the deadline; a deadline already past deletes the key. */
  setExpiry(key: string, expiresAt: number | null): boolean {
    const entry = this.#live(key);
    if (entry === undefined) return false;
    if (expiresAt !== null && expiresAt <= this.#now()) this.#entries.delete(key);
    else entry.expiresAt = expiresAt;
    return true;
  }

  rename(from: string, to: string): boolean {
    const entry = this.#live(from);
    if (entry === undefined) return false;
    this.#entries.delete(from);
    this.#entries.set(to, entry);
    return true;
  }

  keys(): string[] {
    return [...this.#entries.keys()].filter((key) => this.#live(key) !== undefined);
  }

  size(): number {
    return this.keys().length;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Drops every expired key; the periodic sweep that keeps memory bounded between accesses. */
  sweep(): void {
    for (const key of this.#entries.keys()) this.#live(key);
  }
}
