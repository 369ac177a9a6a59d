// Partners' webhook secrets at rest: verifying an HMAC needs the secret itself, so it is stored
// encrypted (AES-256-GCM with PARTNER_SECRETS_KEY), never hashed. A leaked table without the key
// reveals nothing; GCM's tag refuses a ciphertext that was altered.
import type { Config } from '../config.ts';
import { fromBase64, toBase64Url } from './base64.ts';
import { importKeyOnce } from './imported-keys.ts';

type SecretBoxConfig = Pick<Config, 'PARTNER_SECRETS_KEY'>;

const ivBytes = 12;

function keyOf(config: SecretBoxConfig): Promise<CryptoKey> {
  return importKeyOnce(fromBase64(config.PARTNER_SECRETS_KEY), { name: 'AES-GCM' }, [
    'encrypt',
    'decrypt',
  ]);
}

/** `<iv b64url>.<ciphertext b64url>`, with a fresh random IV each time. */
export async function sealSecret(config: SecretBoxConfig, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(ivBytes));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    await keyOf(config),
    new TextEncoder().encode(plaintext),
  );
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`;
}

/** Throws for a value not sealed with this key, or altered since. */
export async function openSecret(config: SecretBoxConfig, sealed: string): Promise<string> {
  const [iv, ciphertext, extra] = sealed.split('.');
  if (iv === undefined || ciphertext === undefined || extra !== undefined) {
    throw new Error('not a sealed secret');
  }
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64(iv) },
    await keyOf(config),
    fromBase64(ciphertext),
  );
  return new TextDecoder().decode(plaintext);
}
