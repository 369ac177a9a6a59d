// Object storage on any S3-compatible bucket (R2's S3 API, AWS S3, MinIO), each request signed
// with SigV4 by aws4fetch. URLs are path-style, `<endpoint>/<bucket>/<key>`, so an endpoint needs
// no DNS name per bucket (MinIO, a local server).
// - Payloads go UNSIGNED-PAYLOAD, bytes and streams alike: a stream cannot be hashed before it is
//   sent, and for bytes a signed hash would only repeat the check the storage makes of
//   `x-amz-checksum-sha256` on what it stores, at the cost of another pass over them. TLS guards
//   them on the way.
// - A request waits a bounded time for S3's answer; a get's body then streams at its reader's
//   pace, as a long download must. A ranged get's few bytes are read within that time too, and
//   never more than asked, even from a server that ignores the range and sends the whole object.
//   Redirects are not followed: a 3xx (a bucket in another region) is a misconfiguration, and
//   following one would send the request somewhere unsigned for.
// - A failure names the method, the status and S3's error code, never S3's body wholesale.
import { AwsClient } from 'aws4fetch';
import type { Config } from '../config.ts';
import { toBase64 } from '../lib/base64.ts';
import { readPrefix } from '../lib/byte-limits.ts';
import { fetchFailureReason } from '../lib/fetch-failure.ts';
import type { ObjectStorage, PutOptions, StoredObjectInfo } from './storage.ts';

export interface S3StorageOptions {
  /** The S3 API's origin, e.g. `https://<account>.r2.cloudflarestorage.com`. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** "auto" for R2; the bucket's region for AWS. */
  region: string;
  /** How long a put or a get may wait for S3's answer (30 s); a put's upload counts. */
  transferTimeoutMs?: number;
  /** How long a head or a delete may wait (10 s). */
  requestTimeoutMs?: number;
}

/** How much of a refusal is read for its error code: S3's error documents are small. */
const errorBodyLimit = 1024;

/** Each segment percent-encoded as SigV4 canonicalizes it, so the path sent is the one signed. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/** The base64 form S3 wants of a hex SHA-256. */
function checksumOf(sha256: string): string {
  if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new Error('sha256 must be 64 hex digits');
  return toBase64(Uint8Array.from(sha256.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16)));
}

/** The headers a put carries: the ones a presigned URL signs, so its client must send them. */
function putHeaders({ size, contentType, sha256 }: PutOptions): Record<string, string> {
  return {
    'content-type': contentType,
    'content-length': String(size),
    ...(sha256 !== undefined && { 'x-amz-checksum-sha256': checksumOf(sha256) }),
  };
}

/**
 * A stream body as sent: failed once it runs past `size` bytes or ends short of them, as
 * FixedLengthStream does on Workers (Deno drops a stream's Content-Length, so the request cannot
 * be relied on to check), and with the reason it failed kept. fetch reports a failed body as its
 * own "fetch failed", and the caller's error (a limit it enforces) must reach the caller as it is.
 */
function sizedBody(source: ReadableStream<Uint8Array>, size: number) {
  const reader = source.getReader();
  let seen = 0;
  let failure: unknown;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          if (seen < size) {
            throw new Error(`The body ended after ${seen} of the ${size} bytes announced`);
          }
          controller.close();
          return;
        }
        seen += value.byteLength;
        if (seen > size) throw new Error(`The body runs past the ${size} bytes announced`);
        controller.enqueue(value);
      } catch (error) {
        failure = error;
        void reader.cancel(error).catch(() => {});
        throw error;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, failure: () => failure };
}

/** Why a fetch failed: its own message ("fetch failed") says little, its cause says what failed. */
function failureReason(error: unknown, timeoutMs: number): string {
  const reason = fetchFailureReason(error, timeoutMs);
  return error instanceof Error && error.cause instanceof Error
    ? `${reason} (${error.cause.message})`
    : reason;
}

/**
 * Up to `limit` bytes from the start of a body, the rest cancelled unread. Unlike a refusal's
 * excerpt, these bytes stand for the object: a body that breaks off fails rather than passes for
 * a shorter one.
 */
async function firstBytes(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(limit);
  let length = 0;
  const reader = body?.getReader();
  try {
    while (reader !== undefined && length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const part = value.subarray(0, limit - length);
      bytes.set(part, length);
      length += part.byteLength;
    }
  } finally {
    await reader?.cancel().catch(() => undefined);
  }
  return bytes.slice(0, length);
}

/** S3's error code (`<Code>NoSuchBucket</Code>`) from the start of a refusal, when it has one. */
async function errorCodeOf(response: Response): Promise<string | undefined> {
  const text = new TextDecoder().decode(await readPrefix(response.body, errorBodyLimit));
  return /<Code>([\w.-]{1,64})<\/Code>/.exec(text)?.[1];
}

/** The whole object's size: a ranged answer's Content-Range total, else its Content-Length. */
function sizeOf(response: Response): number {
  const total =
    /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ??
    response.headers.get('content-length');
  if (total === null) throw new Error('S3 storage answered without the object size');
  return Number(total);
}

function infoOf(response: Response): StoredObjectInfo {
  return { size: sizeOf(response), contentType: response.headers.get('content-type') ?? undefined };
}

export function s3Storage(
  options: S3StorageOptions,
  fetchImpl: typeof fetch = fetch,
): ObjectStorage {
  const { endpoint, bucket, transferTimeoutMs = 30_000, requestTimeoutMs = 10_000 } = options;
  // No retries of its own: aws4fetch's retry only runs in its fetch(), which is not used.
  const aws = new AwsClient({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    region: options.region,
    service: 's3',
  });
  const urlOf = (key: string) => `${endpoint}/${bucket}/${encodeKey(key)}`;

  /**
   * Sends one signed request: S3's successful answer, or undefined for a 404 that is not about
   * the bucket; anything else throws. The deadline covers waiting for the answer and reading a
   * refusal, and is lifted once a success arrives, but for `readAtMost`: then the success's first
   * bytes, no more, are read within it and answered in its place.
   */
  async function send(
    method: 'GET' | 'HEAD' | 'PUT' | 'DELETE',
    key: string,
    init: { headers?: Record<string, string>; body?: Uint8Array | ReadableStream<Uint8Array> },
    timeoutMs: number,
    readAtMost?: number,
  ): Promise<Response | undefined> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    );
    try {
      // Fetch requires `duplex: 'half'` of a request whose body is a stream.
      const requestInit = {
        ...init,
        method,
        signal: deadline.signal,
        redirect: 'manual' as const,
        duplex: 'half' as const,
      };
      const request = await aws.sign(urlOf(key), requestInit);
      let response: Response;
      try {
        response = await fetchImpl(request);
      } catch (error) {
        throw new Error(`S3 storage request failed: ${failureReason(error, timeoutMs)}`, {
          cause: error,
        });
      }
      if (response.ok) {
        if (readAtMost === undefined) return response;
        let bytes: Uint8Array<ArrayBuffer>;
        try {
          bytes = await firstBytes(response.body, readAtMost);
        } catch (error) {
          throw new Error(`S3 storage request failed: ${failureReason(error, timeoutMs)}`, {
            cause: error,
          });
        }
        return new Response(bytes, { status: response.status, headers: response.headers });
      }
      const code = await errorCodeOf(response);
      // HEAD answers carry no body: a missing bucket then looks like a missing object.
      if (response.status === 404 && code !== 'NoSuchBucket') return undefined;
      throw new Error(
        `S3 storage refused ${method}: ${response.status}${code === undefined ? '' : ` ${code}`}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind: 's3',
    async put(key, body, putOptions) {
      const { size } = putOptions;
      if (body instanceof Uint8Array && body.byteLength !== size) {
        throw new Error(`The body has ${body.byteLength} bytes, not the ${size} announced`);
      }
      const headers = { ...putHeaders(putOptions), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      const sized = body instanceof Uint8Array ? undefined : sizedBody(body, size);
      let answer: Response | undefined;
      try {
        answer = await send(
          'PUT',
          key,
          { headers, body: sized?.stream ?? body },
          transferTimeoutMs,
        );
      } catch (error) {
        throw sized?.failure() ?? error;
      }
      if (answer === undefined) throw new Error('S3 storage refused PUT: 404');
      await answer.body?.cancel();
    },
    async get(key, range) {
      const headers = range === undefined ? undefined : { range: `bytes=0-${range.length - 1}` };
      const answer = await send('GET', key, { headers }, transferTimeoutMs, range?.length);
      if (answer === undefined) return undefined;
      return { ...infoOf(answer), body: answer.body ?? new Blob().stream() };
    },
    async head(key) {
      const answer = await send('HEAD', key, {}, requestTimeoutMs);
      return answer === undefined ? undefined : infoOf(answer);
    },
    async delete(key) {
      const answer = await send('DELETE', key, {}, requestTimeoutMs);
      await answer?.body?.cancel();
    },
    async presignPut(key, { expiresInSeconds, ...putOptions }) {
      const headers = putHeaders(putOptions);
      // allHeaders signs content-type and content-length too, which aws4fetch leaves out by
      // default: the URL then takes exactly the announced bytes of the announced type. A browser
      // sets Content-Length itself, to the same value when the body is the announced one.
      const signed = await aws.sign(`${urlOf(key)}?X-Amz-Expires=${expiresInSeconds}`, {
        method: 'PUT',
        headers,
        aws: { signQuery: true, allHeaders: true },
      });
      return { url: signed.url, headers };
    },
  };
}

/**
 * The bucket the S3_* variables name, or undefined when they are not set (the configuration
 * refuses some of them without the others).
 */
export function s3StorageFromConfig(config: Config): ObjectStorage | undefined {
  const {
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: accessKeyId,
    S3_SECRET_ACCESS_KEY: secretAccessKey,
    S3_REGION: region,
  } = config;
  if (
    endpoint === undefined ||
    bucket === undefined ||
    accessKeyId === undefined ||
    secretAccessKey === undefined
  ) {
    return undefined;
  }
  return s3Storage({ endpoint, bucket, accessKeyId, secretAccessKey, region });
}
