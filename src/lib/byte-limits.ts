// Bodies counted as their bytes arrive. A Content-Length is a claim, not a fact: these count what
// actually passes and stop at the limit, so a false or missing length cannot carry more through.

/**
 * A body that must be exactly `size` bytes, passed on as it arrives. More bytes, fewer, or a body
 * that breaks off (a client gone) error the stream with `tooLarge()` or `tooShort(received)`, and
 * `refusal()` answers that error afterwards: whoever reads the stream (a storage put) may fail with
 * an error of its own that no longer says the body was at fault.
 */
export function exactLength(
  body: ReadableStream<Uint8Array>,
  size: number,
  refusals: { tooLarge: () => Error; tooShort: (received: number) => Error },
): { stream: ReadableStream<Uint8Array>; refusal(): Error | undefined } {
  const reader = body.getReader();
  let received = 0;
  let refusal: Error | undefined;
  const refuse = (controller: ReadableStreamDefaultController<Uint8Array>, error: Error) => {
    refusal = error;
    controller.error(error);
    void reader.cancel(error).catch(() => {});
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A read that fails is a body that broke off: as short as what came.
      const next = await reader.read().catch(() => undefined);
      if (next === undefined || next.done) {
        if (received < size) refuse(controller, refusals.tooShort(received));
        else controller.close();
        return;
      }
      received += next.value.byteLength;
      if (received > size) refuse(controller, refusals.tooLarge());
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, refusal: () => refusal };
}

/** The whole body, refused with `tooLarge()` as soon as it passes `maxBytes` (the rest is not read). */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  if (body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatenate(chunks, size);
}

/**
 * Up to `limit` bytes from the start of a body, then the rest is cancelled unread: enough of an
 * answer to log or parse, whatever its size. A body that breaks off leaves what came.
 */
export async function readPrefix(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  const reader = body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // Read as far as it went.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return concatenate(chunks, Math.min(total, limit));
}

/** The chunks back to back, cut at `length` bytes. */
function concatenate(chunks: Uint8Array[], length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= length) break;
    const part = chunk.subarray(0, length - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
