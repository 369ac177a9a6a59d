// Business rules of accounts: who may sign in, what a new password must be, and what each
// single-use token allows. No HTTP here: the handlers turn results into responses and sessions.
// What follows a change (an account email, the domain events' handlers) is staged in the outbox
// with the change and published after the commit; no handler runs inside the request.
import type { OneTimeTokenPurpose, UserRow } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import { type DomainEventName, domainEventJobs } from '../../jobs/domain-events.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { publishStaged } from '../../jobs/outbox.ts';
import { AppError } from '../../lib/errors.ts';
import { randomToken, sha256Hex } from '../../lib/opaque-tokens.ts';
import type { Cache } from '../../platform/cache.ts';
import { forgetApiKeyRecords } from '../api-keys/api-keys.service.ts';
import { lastAdmin } from '../users/admin-users.service.ts';
import { type AdminUser, serializeUser } from '../users/user-serializer.ts';
import { forgetCachedProfiles } from '../users/users.service.ts';
import { accountEmailJob } from './account-emails.ts';
import type { AuthRepository } from './auth.repository.ts';
import type { FailedAttempts } from './failed-attempts.ts';
import {
  checkPasswordPolicy,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  type PasswordPolicyIssue,
  verifyPassword,
} from './passwords.ts';
import {
  logSessionIssued,
  prepareSession,
  revokeAllSessions,
  type Session,
  type SessionMeta,
} from './sessions.ts';

const tokenLifetimeMs: Record<OneTimeTokenPurpose, number> = {
  email_verification: 24 * 60 * 60 * 1000,
  password_reset: 60 * 60 * 1000,
};

export interface AuthServiceDeps {
  deps: Deps;
  accounts: AuthRepository;
  cache: Cache;
  /** Runs work after the response where the runtime allows it (waitUntil); failures are logged. */
  defer: (task: string, work: Promise<unknown>) => void;
}

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Invalid email or password');
const invalidToken = () =>
  new AppError('TOKEN_INVALID', 'This link is invalid, expired or already used');

function policyError(issues: PasswordPolicyIssue[]): AppError {
  return new AppError('PASSWORD_POLICY', 'The password does not meet the policy', {
    details: { issues },
  });
}

/** Every rule of a new password: the policy, and none of the last passwords again. */
async function assertAcceptable(
  password: string,
  user: { email: string; name: string },
  recentHashes: string[],
): Promise<void> {
  const issues = checkPasswordPolicy(password, { email: user.email, name: user.name });
  if (issues.length > 0) throw policyError(issues);
  const matches = await Promise.all(recentHashes.map((hash) => verifyPassword(password, hash)));
  if (matches.some((match) => match.ok)) {
    throw policyError([
      { rule: 'recently_used', message: 'Must differ from your last 5 passwords' },
    ]);
  }
}

async function newToken(now: Date, purpose: OneTimeTokenPurpose) {
  const token = randomToken();
  return {
    token,
    id: crypto.randomUUID(),
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(now.getTime() + tokenLifetimeMs[purpose]),
  };
}

function eventJobs(
  service: AuthServiceDeps,
  event: DomainEventName,
  user: { id: string; email: string; name: string },
): PreparedJob[] {
  return domainEventJobs(service.deps, {
    event,
    userId: user.id,
    email: user.email,
    name: user.name,
  });
}

/**
 * Hands committed jobs to QStash off the response's path. A job QStash does not take stays in the
 * outbox for the sweep, so the request succeeds whether or not QStash answers.
 */
function publishAfterCommit(service: AuthServiceDeps, jobs: PreparedJob[]): void {
  service.defer('outbox-publish', publishStaged(service.deps, jobs));
}

export interface Registration {
  email: string;
  name: string;
  password: string;
}

/**
 * Creates the account with its first session and queues its verification email; 409 when the
 * email is taken. The user, the verification link, the session's refresh token and the staged
 * jobs are one database batch, one round trip.
 */
export async function register(
  service: AuthServiceDeps,
  input: Registration,
  meta: SessionMeta,
): Promise<{ user: UserRow; session: Session }> {
  const issues = checkPasswordPolicy(input.password, input);
  if (issues.length > 0) throw policyError(issues);
  const now = service.deps.clock.now();
  // Hashed before the duplicate check, so a taken email answers after the same work as a new one.
  const passwordHash = await hashPassword(input.password);
  const verification = await newToken(now, 'email_verification');
  const user: UserRow = {
    id: crypto.randomUUID(),
    email: input.email,
    name: input.name,
    role: 'user',
    passwordHash,
    passwordChangedAt: now,
    emailVerifiedAt: null,
    avatar: null,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const jobs = [
    accountEmailJob(service.deps, 'email.verification', user, verification),
    ...eventJobs(service, 'user.registered', user),
  ];
  const { session, row } = await prepareSession(service.deps, user);
  const created = await service.accounts.createAccount({
    id: user.id,
    email: user.email,
    name: user.name,
    passwordHash,
    at: now,
    verification,
    jobs,
    session: row,
  });
  if (!created) throw new AppError('CONFLICT', 'An account with this email already exists');
  logSessionIssued(service.deps, row, meta);
  publishAfterCommit(service, jobs);
  return { user, session };
}

/**
 * An administrator made from the command line (src/entries/admin.ts), under a registration's
 * password policy. Whoever runs it holds the deployment's credentials and vouches for the address:
 * the email counts as verified and no email is sent. Audited with no actor; 409 when the email is
 * taken.
 */
export async function createAdministrator(
  service: Pick<AuthServiceDeps, 'deps' | 'accounts'>,
  input: Registration,
): Promise<AdminUser> {
  const issues = checkPasswordPolicy(input.password, input);
  if (issues.length > 0) throw policyError(issues);
  const now = service.deps.clock.now();
  const id = crypto.randomUUID();
  const created = await service.accounts.createAdministrator(
    {
      id,
      email: input.email,
      name: input.name,
      passwordHash: await hashPassword(input.password),
      at: now,
    },
    { actorId: null, action: 'user.created', changes: { role: 'admin' } },
  );
  if (!created) throw new AppError('CONFLICT', 'An account with this email already exists');
  return serializeUser(
    {
      id,
      email: input.email,
      name: input.name,
      role: 'admin',
      passwordChangedAt: now,
      emailVerifiedAt: now,
      avatar: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    },
    'admin',
  );
}

/** The user if the password is theirs (re-hashed if stored with older parameters). */
async function matchingUser(
  service: AuthServiceDeps,
  user: UserRow | undefined,
  password: string,
): Promise<UserRow | undefined> {
  const stored = user?.passwordHash ?? DUMMY_PASSWORD_HASH;
  const check = await verifyPassword(password, stored);
  if (user === undefined || user.passwordHash === null || !check.ok) return undefined;
  if (check.needsRehash) {
    await service.accounts.rehashPassword(user.id, await hashPassword(password));
  }
  return user;
}

/**
 * The user these credentials belong to. An unknown email, a soft-deleted account and a wrong
 * password all cost one PBKDF2 and answer the same 401; each failure counts against the throttle.
 * The guess is taken from the allowance before the password is checked, so parallel guesses cannot
 * all pass under the limit, while the account is looked up in the same round trip's time (so a
 * refused guess has read it too; the general limit bounds that per address). On success the
 * caller gives the guess back (attempts.refund()), alongside starting the session: only failures
 * use up the allowance.
 */
export async function authenticate(
  service: AuthServiceDeps,
  attempts: FailedAttempts,
  email: string,
  password: string,
): Promise<UserRow> {
  const [spent, found] = await Promise.allSettled([
    attempts.spend(),
    service.accounts.findActiveByEmail(email),
  ]);
  if (spent.status === 'rejected') throw spent.reason;
  let user: UserRow | undefined;
  try {
    if (found.status === 'rejected') throw found.reason;
    user = await matchingUser(service, found.value, password);
  } catch (error) {
    await attempts.refund();
    throw error;
  }
  if (user === undefined) throw invalidCredentials();
  return user;
}

/**
 * The signed-in user, asked for their password again before something that cannot be undone.
 * Guesses are taken from the allowance before the check, as at login.
 */
async function confirmPassword(
  service: AuthServiceDeps,
  attempts: FailedAttempts,
  userId: string,
  password: string,
): Promise<UserRow> {
  await attempts.spend();
  let user: UserRow | undefined;
  let passwordMatches: boolean;
  try {
    user = await service.accounts.findActiveById(userId);
    if (user === undefined) throw new AppError('UNAUTHORIZED', 'Authentication required');
    const check = await verifyPassword(password, user.passwordHash ?? DUMMY_PASSWORD_HASH);
    passwordMatches = user.passwordHash !== null && check.ok;
  } catch (error) {
    await attempts.refund();
    throw error;
  }
  if (!passwordMatches) throw invalidCredentials();
  await attempts.refund();
  return user;
}

/** Sets a new password after checking the current one; every session of the user ends. */
export async function changePassword(
  service: AuthServiceDeps,
  attempts: FailedAttempts,
  userId: string,
  currentPassword: string,
  newPassword: string,
): Promise<UserRow> {
  const user = await confirmPassword(service, attempts, userId, currentPassword);
  await assertAcceptable(newPassword, user, await service.accounts.recentPasswordHashes(userId));
  const now = service.deps.clock.now();
  const jobs = eventJobs(service, 'user.password-changed', user);
  await service.accounts.setPassword(userId, await hashPassword(newPassword), now, jobs);
  publishAfterCommit(service, jobs);
  await revokeAllSessions(service.deps, userId);
  return { ...user, passwordChangedAt: now, updatedAt: now };
}

/**
 * Soft-deletes the account after checking its password, under the admin route's rules: the last
 * active admin is refused (409 last_admin) and the deletion is audited. Every session ends, and
 * the cached public profile and API key records go at once, so neither outlives the account.
 */
export async function deleteAccount(
  service: AuthServiceDeps,
  attempts: FailedAttempts,
  userId: string,
  password: string,
): Promise<void> {
  await confirmPassword(service, attempts, userId, password);
  const outcome = await service.accounts.softDelete(userId, service.deps.clock.now());
  if (outcome === 'last-admin') throw lastAdmin();
  await Promise.all([
    revokeAllSessions(service.deps, userId),
    forgetCachedProfiles(service.cache),
    forgetApiKeyRecords(service.cache),
  ]);
}

/** Sends a new verification link (earlier ones stop working); 409 once the email is verified. */
export async function requestEmailVerification(
  service: AuthServiceDeps,
  userId: string,
): Promise<void> {
  const user = await service.accounts.findActiveById(userId);
  if (user === undefined) throw new AppError('UNAUTHORIZED', 'Authentication required');
  if (user.emailVerifiedAt !== null) {
    throw new AppError('CONFLICT', 'This email address is already verified');
  }
  const now = service.deps.clock.now();
  const token = await newToken(now, 'email_verification');
  const jobs = [accountEmailJob(service.deps, 'email.verification', user, token)];
  await service.accounts.issueToken({
    ...token,
    userId,
    purpose: 'email_verification',
    at: now,
    jobs,
  });
  publishAfterCommit(service, jobs);
}

export async function confirmEmail(service: AuthServiceDeps, token: string): Promise<UserRow> {
  const now = service.deps.clock.now();
  const live = await service.accounts.findLiveToken(
    await sha256Hex(token),
    'email_verification',
    now,
  );
  if (live === undefined) throw invalidToken();
  const jobs = eventJobs(service, 'user.email-verified', live.user);
  const user = await service.accounts.confirmEmail(live.tokenId, live.user.id, now, jobs);
  if (user === undefined) throw invalidToken();
  publishAfterCommit(service, jobs);
  return user;
}

/**
 * Queues a reset link if the email belongs to an active account that has not had its share of
 * them (RATE_LIMIT_ACCOUNT_EMAIL). All of it runs after the response, so the answer (always 202)
 * and its timing say nothing about whether it does.
 */
export function requestPasswordReset(service: AuthServiceDeps, email: string): void {
  const work = async () => {
    const user = await service.accounts.findActiveByEmail(email);
    if (user === undefined) return;
    // Many addresses asking for one account would flood its inbox; past the cap nothing is sent
    // and the answer is still the same 202. The price: whoever knows the address can spend the
    // account's allowance, delaying a real reset by up to the window; the log shows it.
    const { limiter } = service.deps.rateLimits.accountEmail;
    const allowed = await limiter.limit(`reset:${user.id}`);
    if (allowed.reason === 'timeout') {
      service.deps.logger.warn('password reset email not sent: its limit could not be checked', {
        userId: user.id,
      });
      return;
    }
    if (!allowed.success) {
      service.deps.logger.info('password reset email not sent: account over its email limit', {
        userId: user.id,
      });
      return;
    }
    const now = service.deps.clock.now();
    const token = await newToken(now, 'password_reset');
    const jobs = [accountEmailJob(service.deps, 'email.password-reset', user, token)];
    await service.accounts.issueToken({
      ...token,
      userId: user.id,
      purpose: 'password_reset',
      at: now,
      jobs,
    });
    await publishStaged(service.deps, jobs);
  };
  service.defer('password-reset-email', work());
}

/** Sets the password a reset link was sent for; the link works once, and every session ends. */
export async function resetPassword(
  service: AuthServiceDeps,
  token: string,
  password: string,
): Promise<void> {
  const now = service.deps.clock.now();
  const live = await service.accounts.findLiveToken(await sha256Hex(token), 'password_reset', now);
  if (live === undefined) throw invalidToken();
  await assertAcceptable(password, live.user, live.recentHashes);
  const jobs = eventJobs(service, 'user.password-changed', live.user);
  const reset = await service.accounts.resetPassword(
    live.tokenId,
    live.user.id,
    await hashPassword(password),
    now,
    jobs,
  );
  if (!reset) throw invalidToken();
  publishAfterCommit(service, jobs);
  await revokeAllSessions(service.deps, live.user.id);
}
