// Object storage for uploads: one interface, two adapters. On Workers the R2 binding
// (storage-r2.ts); on Deno and Node any S3-compatible bucket through aws4fetch (storage-s3.ts):
// R2's S3 API, AWS S3, MinIO. The app never learns which one it has, except that only S3 can sign a URL a client
// uploads to directly; with R2's binding the Worker serves signed URLs itself.
import { AppError } from '../lib/errors.ts';

export interface StoredObjectInfo {
  size: number;
  contentType: string | undefined;
}

export interface StoredObject extends StoredObjectInfo {
  body: ReadableStream<Uint8Array>;
}

export interface PutOptions {
  /** The exact byte count: a stream that ends early or runs long fails the put. */
  size: number;
  contentType: string;
  /** Hex SHA-256 the storage checks the bytes against, where it can (R2, S3 checksums). */
  sha256?: string;
}

export interface PresignedPut {
  url: string;
  /** Headers the client must send as they are: they are part of the signature. */
  headers: Record<string, string>;
}

export interface ObjectStorage {
  /** Which adapter: named in logs and in a 503's details. */
  readonly kind: 'r2' | 's3';
  put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions,
  ): Promise<void>;
  /** The object, or its first `length` bytes; undefined when there is none. */
  get(key: string, range?: { length: number }): Promise<StoredObject | undefined>;
  head(key: string): Promise<StoredObjectInfo | undefined>;
  /** Removing what is not there succeeds: deletes are retried jobs. */
  delete(key: string): Promise<void>;
  /**
   * A URL a client PUTs exactly `size` bytes to, valid `expiresInSeconds`; undefined when the
   * storage cannot sign one (R2's binding), and the Worker must take the bytes itself.
   */
  presignPut(
    key: string,
    options: PutOptions & { expiresInSeconds: number },
  ): Promise<PresignedPut | undefined>;
}

/** What a storage fault looks like to a client: 503 naming the storage, the cause logged. */
export function storageUnavailable(cause: unknown): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'File storage is unavailable', {
    details: { backend: 'storage' },
    cause,
  });
}

/** Bytes that are not the ones announced: storage refused them whole. */
export function checksumMismatch(cause: unknown): AppError {
  return new AppError(
    'UPLOAD_CHECKSUM_MISMATCH',
    'The bytes sent do not have the SHA-256 announced: nothing was stored',
    { cause },
  );
}

/**
 * Runs a storage call, turning its failure into storageUnavailable. AppErrors pass through: a
 * refusal the adapter decided on (a size mismatch) is the client's.
 */
export async function onStorage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw storageUnavailable(error);
  }
}
