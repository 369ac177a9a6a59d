// Batons name a stream and a position in it: 8 bytes of random stream id, 8 bytes of sequence
// number, then an HMAC-SHA256 of both under a key that lives only in this process (the layout
// sqld uses). A client cannot forge one, and a baton stops working once the next is issued.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface BatonPayload {
  streamId: bigint;
  seq: bigint;
}

const payloadBytes = 16;
const macBytes = 32;
const batonPattern = /^[A-Za-z0-9+/]{64}$/;

export class BatonSigner {
  readonly #key = randomBytes(32);

  #mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(payload).digest();
  }

  encode({ streamId, seq }: BatonPayload): string {
    const payload = Buffer.alloc(payloadBytes);
    payload.writeBigUInt64BE(streamId, 0);
    payload.writeBigUInt64BE(seq, 8);
    return Buffer.concat([payload, this.#mac(payload)])
      .toString('base64')
      .replace(/=+$/, '');
  }

  /** The payload of a baton this process issued, or undefined for anything else. */
  decode(baton: string): BatonPayload | undefined {
    if (!batonPattern.test(baton)) return undefined;
    const data = Buffer.from(baton, 'base64');
    if (data.length !== payloadBytes + macBytes) return undefined;
    const payload = data.subarray(0, payloadBytes);
    if (!timingSafeEqual(data.subarray(payloadBytes), this.#mac(payload))) return undefined;
    return { streamId: payload.readBigUInt64BE(0), seq: payload.readBigUInt64BE(8) };
  }
}

export function randomUint64(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}
