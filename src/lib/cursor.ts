// Opaque pagination cursors: the position a keyset page ended at, base64url JSON, with an HMAC that
// also covers the query the page belongs to. A client can neither forge a position nor carry a
// cursor over to another filter or sort order: either answers 400 INVALID_CURSOR. The key is
// derived from a server secret, so cursors die with it (they are meant to live minutes, not days).
import { fromBase64, toBase64Url } from './base64.ts';
import { AppError } from './errors.ts';
import { constantTimeEqual } from './opaque-tokens.ts';
import { hmacSha256 } from './signatures/timestamped-hmac.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** 128 bits of tag: forging one is as hard as guessing a random UUID twice over. */
const tagBytes = 16;
export const maxCursorLength = 512;

export interface CursorCodec {
  /** The cursor for `position` (JSON) within the query `query` (its canonical text). */
  encode(position: unknown, query: string): Promise<string>;
  /** The position, when the cursor was made by encode for this same query; else INVALID_CURSOR. */
  decode(cursor: string, query: string): Promise<unknown>;
}

/** Also for a cursor that verifies but whose position its reader cannot use. */
export const invalidCursor = () =>
  new AppError('INVALID_CURSOR', 'The cursor is not one this query handed out', {
    details: { field: 'cursor' },
  });

const derivedKeys = new Map<string, Promise<Uint8Array>>();

function keyFrom(secret: string): Promise<Uint8Array> {
  let key = derivedKeys.get(secret);
  if (key === undefined) {
    // A key of its own, so a cursor tag is never a valid signature of anything else.
    key = hmacSha256(secret, ['nexus-edge pagination cursor v1']);
    derivedKeys.set(secret, key);
  }
  return key;
}

export function createCursorCodec(secret: string): CursorCodec {
  const tagOf = async (body: string, query: string) =>
    toBase64Url((await hmacSha256(await keyFrom(secret), [body, '\n', query])).slice(0, tagBytes));

  return {
    async encode(position, query) {
      const body = toBase64Url(encoder.encode(JSON.stringify(position)));
      return `${body}.${await tagOf(body, query)}`;
    },

    async decode(cursor, query) {
      const [body, tag, extra] = cursor.split('.');
      if (body === undefined || tag === undefined || extra !== undefined) throw invalidCursor();
      if (!constantTimeEqual(await tagOf(body, query), tag)) throw invalidCursor();
      try {
        return JSON.parse(decoder.decode(fromBase64(body)));
      } catch {
        throw invalidCursor();
      }
    },
  };
}
