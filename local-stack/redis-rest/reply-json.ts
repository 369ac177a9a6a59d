// Redis replies as Upstash writes them in JSON. With `Upstash-Encoding: base64` every string is
// base64 except the status OK, which @upstash/redis's decode() expects verbatim; numbers and null
// stay plain and errors are never encoded. Without it, strings are UTF-8 text.
import { RedisErrorReply, type RedisReply, RedisStatusReply } from './backend.ts';

export type JsonReply = null | number | string | JsonReply[];

export type ResponseEncoding = 'base64' | 'text';

export function replyToJson(reply: RedisReply, encoding: ResponseEncoding): JsonReply {
  if (reply === null || typeof reply === 'number') return reply;
  if (Array.isArray(reply)) return reply.map((item) => replyToJson(item, encoding));
  if (reply instanceof RedisErrorReply) return reply.message;
  if (reply instanceof RedisStatusReply) {
    if (encoding === 'text' || reply.status === 'OK') return reply.status;
    return Buffer.from(reply.status).toString('base64');
  }
  return reply.toString(encoding === 'base64' ? 'base64' : 'utf8');
}

/** One entry of a /pipeline or /multi-exec answer, or the body of a single command's answer. */
export function replyToEntry(
  reply: RedisReply,
  encoding: ResponseEncoding,
): { result: JsonReply } | { error: string } {
  if (reply instanceof RedisErrorReply) return { error: reply.message };
  return { result: replyToJson(reply, encoding) };
}
