// Short-lived access tokens: JWTs signed with HMAC SHA-256 (jose), carrying what authorization
// needs (user, role, verified email, session) so an authenticated request never reads the
// database. Keys are imported once per isolate: verification is most of a small request's CPU,
// and importing a key per request would double it.
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import type { Config, SigningKey } from '../../config.ts';
import { type UserRole, userRoles } from '../../db/schema.ts';
import type { Clock } from '../../platform/clock.ts';

/** The one algorithm accepted: never what the token's header asks for ("none", RS256 with a MAC key). */
const algorithm = 'HS256';
/** How far the clocks of the signing and the verifying isolate may disagree. */
export const clockToleranceSeconds = 30;

export interface AccessTokenSubject {
  userId: string;
  role: UserRole;
  emailVerified: boolean;
  /** The refresh-token family the token was issued with: logout revokes both. */
  sessionId: string;
}

export interface VerifiedAccessToken extends AccessTokenSubject {
  tokenId: string;
  /** Seconds since the epoch, as in the token. */
  issuedAt: number;
  expiresAt: number;
}

export interface SignedAccessToken {
  token: string;
  tokenId: string;
  expiresAt: Date;
}

/** Why a token was refused; said to the client (which may refresh an expired one), nothing more. */
export type AccessTokenRefusal = 'expired' | 'invalid';

export class AccessTokenError extends Error {
  readonly reason: AccessTokenRefusal;
  constructor(reason: AccessTokenRefusal, cause: unknown) {
    super(`access token ${reason}`, { cause });
    this.name = 'AccessTokenError';
    this.reason = reason;
  }
}

/** The unverified id and subject of a token, to start its deny-list read early; never trusted. */
export interface TokenPeek {
  tokenId: string;
  sessionId: string;
  /** The subject the token claims: unverified, so only good for naming a read to start early. */
  userId: string;
}

export interface AccessTokens {
  sign(subject: AccessTokenSubject): Promise<SignedAccessToken>;
  /** Throws AccessTokenError for anything but a well-formed, unexpired token of ours. */
  verify(token: string): Promise<VerifiedAccessToken>;
  peek(token: string): TokenPeek | undefined;
}

interface ImportedKeys {
  signing: { kid: string; key: CryptoKey };
  byKid: Map<string, CryptoKey>;
}

async function importKeys(keys: readonly SigningKey[]): Promise<ImportedKeys> {
  const imported = await Promise.all(
    keys.map(async ({ kid, secret }) => {
      const key = await crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
      return { kid, key };
    }),
  );
  const [signing] = imported;
  if (signing === undefined) throw new Error('JWT_SIGNING_KEYS lists no key');
  return { signing, byKid: new Map(imported.map(({ kid, key }) => [kid, key])) };
}

function subjectOf(payload: Record<string, unknown>): AccessTokenSubject | undefined {
  const { sub, role, ev, sid } = payload;
  if (typeof sub !== 'string' || typeof sid !== 'string' || typeof ev !== 'boolean') return;
  if (!userRoles.includes(role as UserRole)) return;
  return { userId: sub, role: role as UserRole, emailVerified: ev, sessionId: sid };
}

export function createAccessTokens(
  config: Pick<Config, 'JWT_SIGNING_KEYS' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'ACCESS_TOKEN_TTL'>,
  clock: Clock,
): AccessTokens {
  let keys: Promise<ImportedKeys> | undefined;
  const importedKeys = () => {
    keys ??= importKeys(config.JWT_SIGNING_KEYS);
    return keys;
  };
  const ttlSeconds = config.ACCESS_TOKEN_TTL;

  return {
    async sign(subject) {
      const { signing } = await importedKeys();
      const issuedAt = Math.floor(clock.now().getTime() / 1000);
      const tokenId = crypto.randomUUID();
      const token = await new SignJWT({
        role: subject.role,
        ev: subject.emailVerified,
        sid: subject.sessionId,
      })
        .setProtectedHeader({ alg: algorithm, typ: 'JWT', kid: signing.kid })
        .setSubject(subject.userId)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setJti(tokenId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(signing.key);
      return { token, tokenId, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
    },

    async verify(token) {
      const { byKid } = await importedKeys();
      try {
        const { payload } = await jwtVerify(
          token,
          (header) => {
            const key = header.kid === undefined ? undefined : byKid.get(header.kid);
            if (key === undefined) throw new Error('unknown kid');
            return key;
          },
          {
            algorithms: [algorithm],
            issuer: config.JWT_ISSUER,
            audience: config.JWT_AUDIENCE,
            requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat', 'jti'],
            clockTolerance: clockToleranceSeconds,
            // Also refuses a token issued "in the future" or living longer than the TTL allows.
            maxTokenAge: ttlSeconds,
            currentDate: clock.now(),
          },
        );
        const subject = subjectOf(payload);
        if (subject === undefined || typeof payload.jti !== 'string') {
          throw new Error('claims of another shape');
        }
        return {
          ...subject,
          tokenId: payload.jti,
          issuedAt: payload.iat as number,
          expiresAt: payload.exp as number,
        };
      } catch (error) {
        const expired = (error as { code?: unknown }).code === 'ERR_JWT_EXPIRED';
        throw new AccessTokenError(expired ? 'expired' : 'invalid', error);
      }
    },

    peek(token) {
      try {
        const { jti, sid, sub } = decodeJwt(token);
        return typeof jti === 'string' && typeof sid === 'string' && typeof sub === 'string'
          ? { tokenId: jti, sessionId: sid, userId: sub }
          : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
