// Hrana streams over HTTP. A stream owns one connection (and so its open transaction) from the
// request that opens it until a `close` request or until it sits idle too long; between requests
// it is reachable only through the last baton issued, which each request exchanges for a new one.
import { BatonSigner, randomUint64 } from './baton.ts';
import type { SqlConnection } from './connection.ts';
import type { ConnectionPool } from './pool.ts';

export interface Stream {
  readonly id: bigint;
  seq: bigint;
  /** Cleared by a `close` request; the connection goes back to the pool on release. */
  connection: SqlConnection | undefined;
  readonly sqls: Map<number, string>;
}

/** Why a baton did not lead to a stream, in sqld's terms. */
export type BatonRejection = 'invalid' | 'reused' | 'expired';

export type Acquired = { ok: true; stream: Stream } | { ok: false; rejection: BatonRejection };

type Slot =
  | { state: 'acquired' }
  | { state: 'available'; stream: Stream; timer: NodeJS.Timeout }
  | { state: 'expired'; since: number };

/** How long an expired stream's baton still answers "expired" rather than "invalid". */
const expiredMemoryMs = 300_000;
const seqMask = 2n ** 64n - 1n;

export class StreamRegistry {
  readonly #pool: ConnectionPool;
  readonly #idleTimeoutMs: number;
  readonly #signer = new BatonSigner();
  readonly #slots = new Map<bigint, Slot>();

  constructor(pool: ConnectionPool, idleTimeoutMs: number) {
    this.#pool = pool;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  /** A new stream without a baton, else the stream the baton names if it is its current one. */
  acquire(baton: string | undefined): Acquired {
    if (baton === undefined) return { ok: true, stream: this.#open() };
    const payload = this.#signer.decode(baton);
    if (payload === undefined) return { ok: false, rejection: 'invalid' };
    const slot = this.#slots.get(payload.streamId);
    if (slot === undefined) return { ok: false, rejection: 'invalid' };
    if (slot.state === 'expired') return { ok: false, rejection: 'expired' };
    if (slot.state === 'acquired' || slot.stream.seq !== payload.seq) {
      return { ok: false, rejection: 'reused' };
    }
    clearTimeout(slot.timer);
    const { stream } = slot;
    stream.seq = (stream.seq + 1n) & seqMask;
    this.#slots.set(stream.id, { state: 'acquired' });
    return { ok: true, stream };
  }

  /** Ends a request on the stream: the baton for the next one, or null once it is closed. */
  release(stream: Stream): string | null {
    if (stream.connection === undefined) {
      this.#slots.delete(stream.id);
      return null;
    }
    const timer = setTimeout(() => this.#expire(stream), this.#idleTimeoutMs);
    timer.unref();
    this.#slots.set(stream.id, { state: 'available', stream, timer });
    return this.#signer.encode({ streamId: stream.id, seq: stream.seq });
  }

  /** Drops a stream whose request broke the protocol, rolling back what it left open. */
  discard(stream: Stream): void {
    this.#closeConnection(stream);
    this.#slots.delete(stream.id);
  }

  /** Marks a stream closed by its client; its connection returns to the pool. */
  close(stream: Stream): void {
    this.#closeConnection(stream);
  }

  closeAll(): void {
    for (const slot of this.#slots.values()) {
      if (slot.state !== 'available') continue;
      clearTimeout(slot.timer);
      slot.stream.connection?.close();
    }
    this.#slots.clear();
  }

  #open(): Stream {
    let id = randomUint64();
    while (this.#slots.has(id)) id = randomUint64();
    const stream: Stream = {
      id,
      // A random start makes a baton of one stream useless for guessing another's.
      seq: randomUint64(),
      connection: this.#pool.take(),
      sqls: new Map(),
    };
    this.#slots.set(id, { state: 'acquired' });
    return stream;
  }

  #closeConnection(stream: Stream): void {
    if (stream.connection === undefined) return;
    this.#pool.give(stream.connection);
    stream.connection = undefined;
  }

  #expire(stream: Stream): void {
    this.#closeConnection(stream);
    const now = Date.now();
    for (const [id, slot] of this.#slots) {
      if (slot.state === 'expired' && now - slot.since > expiredMemoryMs) this.#slots.delete(id);
    }
    this.#slots.set(stream.id, { state: 'expired', since: now });
  }
}
