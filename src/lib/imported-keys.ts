// Web Crypto keys imported once per isolate: importing a key costs more than one signature,
// verification or encryption with it, and the same few keys (QStash's, partners' secrets, the
// secrets box's) serve every request.
import { toBase64 } from './base64.ts';

export type KeyAlgorithm = { name: 'HMAC'; hash: 'SHA-256' } | { name: 'AES-GCM' };

const importedKeys = new Map<string, Promise<CryptoKey>>();

/** The key for these raw bytes, algorithm and usages, imported on its first use here. */
export function importKeyOnce(
  raw: Uint8Array,
  algorithm: KeyAlgorithm,
  usages: ('sign' | 'verify' | 'encrypt' | 'decrypt')[],
): Promise<CryptoKey> {
  const id = `${algorithm.name}:${usages.join(',')}:${toBase64(raw)}`;
  let key = importedKeys.get(id);
  if (key === undefined) {
    key = crypto.subtle.importKey('raw', new Uint8Array(raw), algorithm, false, usages);
    importedKeys.set(id, key);
  }
  return key;
}
