// RESP2 on the wire: commands out as arrays of bulk strings, replies in as RedisReply values. The
// parser is incremental because replies arrive split across TCP chunks in any place.
import {
  type RedisCommand,
  RedisErrorReply,
  type RedisReply,
  RedisStatusReply,
} from './backend.ts';

const CRLF = Buffer.from('\r\n');

export function encodeCommand(command: RedisCommand): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${command.length}\r\n`)];
  for (const arg of command) {
    parts.push(Buffer.from(`$${arg.length}\r\n`), arg, CRLF);
  }
  return Buffer.concat(parts);
}

export class RespProtocolError extends Error {}

interface Parsed {
  reply: RedisReply;
  next: number;
}

/** `undefined` means the buffer ends before the reply does. */
function parseAt(buffer: Buffer, offset: number): Parsed | undefined {
  const lineEnd = buffer.indexOf(CRLF, offset);
  if (lineEnd < 0) return undefined;
  const type = buffer[offset];
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return { reply: new RedisStatusReply(line), next: afterLine };
    case 0x2d: // -
      return { reply: new RedisErrorReply(line), next: afterLine };
    case 0x3a: // :
      return { reply: Number(line), next: afterLine };
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return { reply: null, next: afterLine };
      const end = afterLine + length;
      if (buffer.length < end + 2) return undefined;
      return { reply: Buffer.from(buffer.subarray(afterLine, end)), next: end + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { reply: null, next: afterLine };
      const items: RedisReply[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseAt(buffer, next);
        if (item === undefined) return undefined;
        items.push(item.reply);
        next = item.next;
      }
      return { reply: items, next };
    }
    default:
      throw new RespProtocolError(`unexpected RESP type byte ${String(type)}`);
  }
}

/** Collects bytes and hands out every complete reply, in order. */
export class RespReplyParser {
  #chunks: Buffer[] = [];
  #buffered = 0;
  // Re-parsing a large reply on every small chunk would be quadratic; wait until enough has arrived.
  #needed = 0;

  push(chunk: Buffer): RedisReply[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered < this.#needed) return [];
    const buffer = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks);
    const replies: RedisReply[] = [];
    let offset = 0;
    for (;;) {
      const parsed = offset < buffer.length ? parseAt(buffer, offset) : undefined;
      if (parsed === undefined) break;
      replies.push(parsed.reply);
      offset = parsed.next;
    }
    const rest = buffer.subarray(offset);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    this.#needed = rest.length > 0 ? bytesNeeded(rest) : 0;
    return replies;
  }
}

/** A lower bound on the size of the incomplete reply at the start of `rest`. */
function bytesNeeded(rest: Buffer): number {
  const lineEnd = rest.indexOf(CRLF);
  if (lineEnd < 0 || rest[0] !== 0x24) return rest.length + 1;
  return lineEnd + 2 + Number(rest.toString('utf8', 1, lineEnd)) + 2;
}
