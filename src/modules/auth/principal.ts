// Who is calling, as every module sees it; a leaf of its own so the app's env can name it
// without importing the auth module's code.
import type { UserRole } from '../../db/schema.ts';

/** Who is calling, once authentication succeeded (auth.middleware.ts sets it). */
export interface Principal {
  userId: string;
  role: UserRole;
  emailVerified: boolean;
  via: 'session' | 'api-key';
  /** Sessions: the access token's jti and expiry (seconds), what logout puts on the deny-list. */
  tokenId?: string;
  tokenExpiresAt?: number;
  /** Sessions: the refresh-token family the access token belongs to, revoked with it at logout. */
  sessionId?: string;
  /** API keys: which key, and the scopes it was given (a subset of the owner's permissions). */
  apiKeyId?: string;
  scopes?: string[];
}
