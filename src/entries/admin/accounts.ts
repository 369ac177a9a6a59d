// Accounts from the command line: an administrator made or promoted, and every user's API keys
// listed or revoked. Each is a call to the module's service, audited and cleared from the cache as
// the API's own routes do.
import { AppError } from '../../lib/errors.ts';
import { createApiKeysRepository } from '../../modules/api-keys/api-keys.repository.ts';
import {
  type ApiKeysServiceDeps,
  listAllApiKeys,
  revokeAnyApiKey,
} from '../../modules/api-keys/api-keys.service.ts';
import { createAuthRepository } from '../../modules/auth/auth.repository.ts';
import { registerBodySchema } from '../../modules/auth/auth.schemas.ts';
import { createAdministrator } from '../../modules/auth/auth.service.ts';
import type { PasswordPolicyIssue } from '../../modules/auth/passwords.ts';
import { revokeAllSessions } from '../../modules/auth/sessions.ts';
import { changeRole } from '../../modules/users/admin-users.service.ts';
import { createUsersRepository } from '../../modules/users/users.repository.ts';
import {
  type AdminContext,
  type Answer,
  type Command,
  CommandFailed,
  type CommandInput,
  orNotFound,
  pageAnswer,
  pageOf,
  pageOptions,
  pageOptionsHelp,
  shownTime,
  stringValue,
  UsageError,
} from './cli.ts';

/** The password from the first source that has one; never from a terminal, where it would show. */
async function passwordOf(input: CommandInput): Promise<string> {
  const given = stringValue(input, 'password') ?? process.env.ADMIN_PASSWORD;
  if (given !== undefined && given !== '') return given;
  if (process.stdin.isTTY) {
    throw new UsageError(
      'no password given: set ADMIN_PASSWORD, pipe it on stdin, or pass --password',
    );
  }
  process.stdin.setEncoding('utf8');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const [line = ''] = text.split(/\r?\n/);
  if (line === '') throw new UsageError('the password read from stdin is empty');
  return line;
}

function policyRefusal(error: AppError): CommandFailed {
  const { issues } = error.details as { issues: PasswordPolicyIssue[] };
  const lines = issues.map((issue) => `\n  - ${issue.message}`).join('');
  return new CommandFailed(`the password does not meet the policy:${lines}`);
}

async function promote(email: string, context: AdminContext): Promise<Answer> {
  const { deps, cache } = context;
  const users = createUsersRepository(deps.db);
  const user = await users.findByEmail(email);
  if (user === undefined) throw new CommandFailed(`no user with the email ${email}`);
  const promoted = await changeRole(
    { users, cache, clock: deps.clock, revokeSessions: (id) => revokeAllSessions(deps, id) },
    null,
    user.id,
    'admin',
  );
  const outcome = user.role === 'admin' ? 'unchanged' : 'promoted';
  return {
    json: { outcome, user: promoted },
    text:
      outcome === 'unchanged'
        ? `${promoted.email} is already an administrator (id ${promoted.id})`
        : `promoted ${promoted.email} (id ${promoted.id}) to administrator; their sessions ` +
          'ended, so they sign in again to act as one',
  };
}

async function create(input: CommandInput, email: string): Promise<Answer> {
  const name = stringValue(input, 'name');
  if (name === undefined) throw new UsageError('--name is required to create an administrator');
  // Checked before the password is asked for; the policy checks the password, as at sign-up.
  const parsed = registerBodySchema.pick({ email: true, name: true }).safeParse({ email, name });
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new UsageError(`--${String(issue?.path[0])} is not valid: ${issue?.message}`);
  }
  const password = await passwordOf(input);
  const { deps } = await input.context();
  try {
    const user = await createAdministrator(
      { deps, accounts: createAuthRepository(deps.db) },
      { ...parsed.data, password },
    );
    return {
      json: { outcome: 'created', user },
      text: `created administrator ${user.email} (${user.name}), id ${user.id}; the email counts as verified`,
    };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (error.code === 'PASSWORD_POLICY') throw policyRefusal(error);
    if (error.code !== 'CONFLICT') throw error;
    throw new CommandFailed(
      `a user with the email ${parsed.data.email} already exists; to make them an ` +
        `administrator: npm run admin -- create-admin --email ${parsed.data.email} --promote`,
    );
  }
}

export const createAdminCommand: Command = {
  name: 'create-admin',
  arguments: [],
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    password: { type: 'string' },
    promote: { type: 'boolean' },
  },
  synopsis: 'create-admin --email E --name N [--password P] | --email E --promote',
  summary: 'Create an administrator, or make an existing user one',
  help: `Creates a user with the role admin and a password, its email taken as verified (no email
is sent). The password must meet the API's policy: 8 to 128 characters with upper and lower case,
a digit and a symbol, no common password and nothing of the name or email. It is read from
--password, else ADMIN_PASSWORD, else the first line of stdin when stdin is not a terminal; it is
never printed. --password shows in the process list and the shell's history: prefer the others.

An email that already has an account is refused, and nothing changes. With --promote instead of
--name and a password, that user becomes an administrator: their password stays, and their
sessions end so that their next sign-in carries the new role. Both are recorded in the audit log
with no actor.

Options:
  --email E     The administrator's email
  --name N      Their name (when creating)
  --password P  Their password (when creating)
  --promote     Make the existing user with this email an administrator

Examples:
  read -rs ADMIN_PASSWORD && export ADMIN_PASSWORD
  npm run admin -- create-admin --email ops@example.com --name "Ops Team"
  printf '%s\\n' "$PASSWORD" | npm run admin -- create-admin --email ops@example.com --name Ops
  npm run admin -- create-admin --email grace@example.com --promote`,
  async run(input) {
    const email = stringValue(input, 'email');
    if (email === undefined) throw new UsageError('--email is required');
    if (input.values.promote !== true) return create(input, email);
    if (stringValue(input, 'name') !== undefined || stringValue(input, 'password') !== undefined) {
      throw new UsageError('--promote keeps the user as they are: leave out --name and --password');
    }
    return promote(email, await input.context());
  },
};

function apiKeysDeps({ deps, cache }: AdminContext): ApiKeysServiceDeps {
  return { apiKeys: createApiKeysRepository(deps.db), clock: deps.clock, cache };
}

/** Whose keys `--user` asks for: an id or an email, deleted users' included. */
async function ownerOf(text: string, { deps }: AdminContext): Promise<string> {
  const users = createUsersRepository(deps.db);
  const user = text.includes('@')
    ? await users.findByEmail(text, { includeDeleted: true })
    : await users.findById(text, { includeDeleted: true });
  if (user === undefined) throw new CommandFailed(`no user ${text}`);
  return user.id;
}

function keyState(key: { revokedAt: string | null; expiresAt: string | null }, now: Date) {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && new Date(key.expiresAt) <= now) return 'expired';
  return 'active';
}

export const listApiKeysCommand: Command = {
  name: 'api-keys list',
  arguments: [],
  options: { user: { type: 'string' }, ...pageOptions },
  synopsis: 'api-keys list [--user EMAIL|ID] [--limit N] [--page N]',
  summary: "List every user's API keys, newest first",
  help: `Lists API keys, newest first, revoked and expired ones included, with their owners. Never
a key itself: only its first characters (PREFIX).

Options:
  --user U      Only this user's keys: their email or id
${pageOptionsHelp}

Examples:
  npm run admin -- api-keys list
  npm run admin -- api-keys list --user grace@example.com --json`,
  async run(input) {
    const page = pageOf(input);
    const user = stringValue(input, 'user');
    const context = await input.context();
    const filter = user === undefined ? {} : { userId: await ownerOf(user, context) };
    const { items, pagination } = await listAllApiKeys(apiKeysDeps(context), filter, {
      ...page,
      sortBy: 'createdAt',
      sortOrder: 'desc',
    });
    const now = context.deps.clock.now();
    const rows = items.map((key) => [
      key.id,
      key.owner.email,
      key.name,
      key.prefix,
      key.scopes.join(','),
      keyState(key, now),
      shownTime(key.expiresAt),
      shownTime(key.lastUsedAt),
    ]);
    const headers = ['ID', 'OWNER', 'NAME', 'PREFIX', 'SCOPES', 'STATE', 'EXPIRES', 'LAST USED'];
    return pageAnswer({ items, pagination }, ['API key', 'API keys'], headers, rows);
  },
};

export const revokeApiKeyCommand: Command = {
  name: 'api-keys revoke',
  arguments: ['KEY_ID'],
  options: {},
  synopsis: 'api-keys revoke KEY_ID',
  summary: 'Revoke an API key at once, whoever owns it',
  help: `Revokes the API key with this id (the ID column of api-keys list): it stops working at
once, its cached copy cleared as the API's revocation does. A key revoked before keeps its first
revocation time.

Example:
  npm run admin -- api-keys revoke 3f1c2b6e-0a4d-4e8f-9b7a-1c2d3e4f5a6b`,
  async run(input) {
    const [id = ''] = input.args;
    const key = await orNotFound(
      revokeAnyApiKey(apiKeysDeps(await input.context()), id),
      `no API key ${id}`,
    );
    return {
      json: key,
      text: `revoked API key ${key.id} "${key.name}" (${key.prefix}…) at ${shownTime(key.revokedAt)}`,
    };
  },
};
