// The storage adapter of Workers: the R2 binding. Only the Workers entry imports it, since it
// names workerd's own types (R2Bucket, FixedLengthStream).
import { checksumMismatch, type ObjectStorage } from './storage.ts';

/** The R2 binding's bucket (wrangler.toml's [[r2_buckets]] FILES). */
export function r2Storage(bucket: R2Bucket): ObjectStorage {
  return {
    kind: 'r2',
    async put(key, body, { size, contentType, sha256 }) {
      // R2 takes a stream only when it knows its length: FixedLengthStream declares it, and
      // errors if the bytes that pass come to more or fewer.
      const value =
        body instanceof Uint8Array ? body : body.pipeThrough(new FixedLengthStream(size));
      try {
        await bucket.put(key, value, {
          httpMetadata: { contentType },
          ...(sha256 !== undefined && { sha256 }),
        });
      } catch (error) {
        // R2 checked the bytes against the SHA-256 given and stored nothing: the sender's fault.
        if (error instanceof Error && /sha-?256|checksum/i.test(error.message)) {
          throw checksumMismatch(error);
        }
        throw error;
      }
    },
    async get(key, range) {
      const object = await bucket.get(key, range === undefined ? {} : { range });
      if (object === null) return undefined;
      return {
        body: object.body,
        size: object.size,
        contentType: object.httpMetadata?.contentType,
      };
    },
    async head(key) {
      const object = await bucket.head(key);
      if (object === null) return undefined;
      return { size: object.size, contentType: object.httpMetadata?.contentType };
    },
    async delete(key) {
      await bucket.delete(key);
    },
    presignPut: async () => undefined,
  };
}
