// Identifiers shaped like QStash's: a type prefix and a random base58 tail ("msg_2XavMm...").
import { randomBytes } from 'node:crypto';

const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  let text = '';
  while (value > 0n) {
    text = alphabet[Number(value % 58n)] + text;
    value /= 58n;
  }
  return text;
}

export function newId(prefix: 'msg' | 'scd' | 'jwt'): string {
  return `${prefix}_${base58(randomBytes(20))}`;
}
