// What `js-base64` resolves to in the Worker bundle (wrangler.toml [alias]): @libsql/client uses
// only these two functions, for blob values, so the package's fallbacks for old browsers and
// Node stay out of the bundle.
import { fromBase64, toBase64, toBase64Url } from './base64.ts';

export const Base64 = {
  fromUint8Array: (bytes: Uint8Array, urlSafe = false) =>
    urlSafe ? toBase64Url(bytes) : toBase64(bytes),
  toUint8Array: fromBase64,
};
