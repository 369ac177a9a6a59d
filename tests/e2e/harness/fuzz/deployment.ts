// The fuzzer's deployment: the Worker with limits generous enough for the fuzz to reach the
// handlers, a user and an administrator signed in every way the API takes (sessions, API keys,
// cookies), other accounts to be fuzzed on, and rows of each resource for the known ids. The fuzz
// may sign them out, delete them, demote them, revoke their keys or rotate their partner's secret,
// as any client may: repair() puts them back between batches.
import type { Response } from 'miniflare';
import {
  call,
  dataOf,
  type IdentityWorker,
  jwtKeys,
  newClientIp,
  sessionOf,
  startIdentityWorker,
} from '../identity.ts';
import { multipartFiles } from '../multipart.ts';
import type { IdPools } from './known-ids.ts';
import type { FuzzCredentials, FuzzTarget } from './sending.ts';

/** Where harness/worker.ts sends every request: a cookie session's Origin must be this one. */
const workerOrigin = 'https://api.e2e.test';

const vars = {
  // 400 addresses share some 10,000 requests: about 25 each, far under the limit, but for the
  // one that sends 6% of them (requests.ts), whose share past 300 is answered 429.
  RATE_LIMIT_GENERAL: '300/1h',
  RATE_LIMIT_AUTH: '100/15m',
  RATE_LIMIT_SIGNUP: '100/1h',
  RATE_LIMIT_PASSWORD_RESET: '100/1h',
  RATE_LIMIT_API_KEY: '100000/1h',
  RATE_LIMIT_WEBHOOK: '100000/1m',
};

const userScopes = [
  'profile:read',
  'profile:write',
  'users:search',
  'users:read-public',
  'products:read',
  'products:write',
  'files:read',
  'files:write',
];

const adminScopes = [
  ...userScopes,
  'users:read',
  'users:write',
  'users:admin',
  'partners:manage',
  'jobs:manage',
  'products:admin',
  'files:admin',
  'metrics:read',
];

interface Actor {
  id: string;
  email: string;
  name: string;
  password: string;
  role: 'user' | 'admin';
}

export interface FuzzDeployment extends FuzzTarget {
  worker: IdentityWorker;
  /** Signs everyone in again and makes again what the fuzz took away. */
  repair(): Promise<void>;
  close(): Promise<void>;
}

/** A password no example of the document holds, so no fuzzed body can confirm one by chance. */
const unguessablePassword = () => `Kx#${crypto.randomUUID()}`;

async function signUp(worker: IdentityWorker, label: string): Promise<Actor> {
  const account = {
    email: `fuzz-${label}@e2e.test`,
    name: `Fuzz ${label}`,
    password: unguessablePassword(),
  };
  const data = await dataOf(
    await call(worker, 'POST', '/v1/auth/register', { body: account, ip: newClientIp() }),
    201,
  );
  return { ...account, id: (data.user as { id: string }).id, role: 'user' };
}

/** Puts an account back as set-up made it: not deleted, its email verified, its role and address. */
async function restore(worker: IdentityWorker, actor: Actor): Promise<void> {
  await worker.db.execute({
    sql: `UPDATE users SET role = ?, email = ?, deleted_at = NULL,
            email_verified_at = coalesce(email_verified_at, created_at)
          WHERE id = ?`,
    args: [actor.role, actor.email, actor.id],
  });
}

async function bearerLogin(worker: IdentityWorker, actor: Actor): Promise<string> {
  const response = await call(worker, 'POST', '/v1/auth/login', {
    body: { email: actor.email, password: actor.password },
    ip: newClientIp(),
  });
  return sessionOf(await dataOf(response, 200)).accessToken;
}

async function cookieLogin(worker: IdentityWorker, actor: Actor) {
  const response = await call(worker, 'POST', '/v1/auth/login?mode=cookie', {
    body: { email: actor.email, password: actor.password },
    ip: newClientIp(),
  });
  const cookies = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .filter((pair) => !pair.endsWith('='));
  await dataOf(response, 200);
  const csrf = cookies.find((pair) => pair.startsWith('__Host-csrf='));
  return { cookie: cookies.join('; '), csrfToken: csrf?.slice('__Host-csrf='.length) ?? '' };
}

async function createKey(worker: IdentityWorker, token: string, scopes: string[]) {
  return dataOf<{ id: string; key: string }>(
    await call(worker, 'POST', '/v1/api-keys', {
      token,
      body: { name: 'fuzz', scopes },
      ip: newClientIp(),
    }),
    201,
  );
}

async function createPartner(worker: IdentityWorker, token: string) {
  return dataOf<{ partner: { id: string }; secret: { id: string; secret: string } }>(
    await call(worker, 'POST', '/v1/admin/partners', {
      token,
      body: { name: `Fuzz partner ${crypto.randomUUID()}`, scheme: 'hmac-sha256' },
      ip: newClientIp(),
    }),
    201,
  );
}

/** Dead jobs as QStash's failure callback records them: one that can be requeued, one scheduled. */
const deadJobIds = [crypto.randomUUID(), 'msg:fuzz-scheduled-run'];

async function addDeadJobs(worker: IdentityWorker): Promise<void> {
  for (const id of deadJobIds) {
    const message = { id, type: 'maintenance.token-cleanup', payload: {} };
    await worker.db.execute({
      sql: `INSERT OR IGNORE INTO dead_jobs (id, type, message, message_id, retried, failed_at)
            VALUES (?, ?, ?, ?, 3, ?)`,
      args: [id, message.type, JSON.stringify(message), `msg_${id}`, Date.now()],
    });
  }
}

async function idsOf(response: Response, status: number): Promise<string[]> {
  const data = await dataOf<{ id: string } | { id: string }[]>(response, status);
  return [data].flat().map(({ id }) => id);
}

async function createRows(worker: IdentityWorker, userToken: string, adminToken: string) {
  const as = (token: string, method: string, path: string, body?: unknown) =>
    call(worker, method, path, { token, body, ip: newClientIp() });
  const product = {
    name: 'Fuzz lamp',
    category: 'home',
    price: { amount: 4999, currency: 'EUR' },
    stock: 3,
    tags: ['fuzz'],
  };
  const products = [
    ...(await idsOf(await as(userToken, 'POST', '/v1/products', product), 201)),
    ...(await idsOf(await as(userToken, 'POST', '/v1/products', product), 201)),
    ...(await idsOf(await as(adminToken, 'POST', '/v1/products', product), 201)),
  ];
  const pdf = new TextEncoder().encode('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
  const upload = await multipartFiles([{ name: 'fuzz.pdf', bytes: pdf, type: 'application/pdf' }]);
  const files = await idsOf(
    await worker.fetch('/v1/files', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${userToken}`,
        'content-type': upload.contentType,
        'cf-connecting-ip': newClientIp(),
      },
      body: upload.body,
    }),
    201,
  );
  const direct = await dataOf<{ file: { id: string } }>(
    await as(userToken, 'POST', '/v1/files/uploads', {
      name: 'fuzz.pdf',
      size: 1024,
      sha256: '0'.repeat(64),
    }),
    201,
  );
  return { products, files, uploads: [direct.file.id] };
}

/** Sessions each actor keeps: one the fuzz signs out stops only its share of the requests. */
const sessionsEach = 3;

interface Key {
  id: string;
  key: string;
}

export async function startFuzzDeployment(): Promise<FuzzDeployment> {
  const worker = await startIdentityWorker(vars);
  try {
    const user = await signUp(worker, 'user');
    const admin = { ...(await signUp(worker, 'admin')), role: 'admin' as const };
    // Whom the admin routes are fuzzed on, mostly: deleted or demoted, they sign nobody out.
    const victims = [
      await signUp(worker, 'victim-a'),
      await signUp(worker, 'victim-b'),
      await signUp(worker, 'victim-c'),
    ];
    const actors = [user, admin, ...victims];
    for (const actor of actors) await restore(worker, actor);

    const sessions = async (actor: Actor) => {
      const tokens: string[] = [];
      for (let n = 0; n < sessionsEach; n++) tokens.push(await bearerLogin(worker, actor));
      return tokens;
    };
    const userTokens = await sessions(user);
    const adminTokens = await sessions(admin);
    const scopesOf = (actor: Actor) => (actor.role === 'admin' ? adminScopes : userScopes);
    const tokenOf = (actor: Actor) => (actor.role === 'admin' ? adminTokens : userTokens)[0] ?? '';
    // Keys signed in with, and keys in the known ids that the fuzz may revoke.
    const keys = new Map<Actor, { used: Key; exposed: Key }>();
    for (const actor of [user, admin]) {
      keys.set(actor, {
        used: await createKey(worker, tokenOf(actor), scopesOf(actor)),
        exposed: await createKey(worker, tokenOf(actor), scopesOf(actor)),
      });
    }
    const partner = await createPartner(worker, tokenOf(admin));
    const rows = await createRows(worker, tokenOf(user), tokenOf(admin));

    const credentials: FuzzCredentials = {
      userTokens,
      adminTokens,
      userKey: keys.get(user)?.used.key ?? '',
      adminKey: keys.get(admin)?.used.key ?? '',
      userCookie: await cookieLogin(worker, user),
      partnerSecret: partner.secret.secret,
      urlSecret: jwtKeys[0].secret,
    };
    const exposedKeyIds = () => [...keys.values()].map(({ exposed }) => exposed.id);
    const ids: IdPools = new Map([
      // One id in eight is the user's own, one the administrator's.
      ['users', [...victims, ...victims, user, admin].map(({ id }) => id)],
      ['products', rows.products],
      ['files', rows.files],
      ['uploads', rows.uploads],
      ['api-keys', exposedKeyIds()],
      ['partners', [partner.partner.id]],
      ['secrets', [partner.secret.id]],
      ['dead', deadJobIds],
      ['jobs', []],
    ]);

    const alive = async (headers: Record<string, string>, role: Actor['role']) => {
      const response = await worker.fetch('/v1/me', {
        headers: { ...headers, 'cf-connecting-ip': newClientIp() },
      });
      const body = (await response.json()) as { data?: { role?: string } };
      return response.status === 200 && body.data?.role === role;
    };

    const repairSessions = async (actor: Actor, tokens: string[]) => {
      for (const [n, token] of tokens.entries()) {
        if (!(await alive({ authorization: `Bearer ${token}` }, actor.role))) {
          tokens[n] = await bearerLogin(worker, actor);
        }
      }
    };

    const repairKeys = async (actor: Actor) => {
      const own = keys.get(actor);
      if (own === undefined) return;
      for (const which of ['used', 'exposed'] as const) {
        if (!(await alive({ 'x-api-key': own[which].key }, actor.role))) {
          own[which] = await createKey(worker, tokenOf(actor), scopesOf(actor));
        }
      }
      ids.set('api-keys', exposedKeyIds());
    };

    const repairPartner = async () => {
      const [partnerId] = ids.get('partners') ?? [];
      const rotated = await call(worker, 'POST', `/v1/admin/partners/${partnerId}/secrets`, {
        token: tokenOf(admin),
        body: { graceHours: 1 },
        ip: newClientIp(),
      });
      if (rotated.status === 201) {
        const secret = await dataOf<{ id: string; secret: string }>(rotated, 201);
        credentials.partnerSecret = secret.secret;
        ids.set('secrets', [secret.id]);
        return;
      }
      await rotated.arrayBuffer();
      const made = await createPartner(worker, tokenOf(admin));
      credentials.partnerSecret = made.secret.secret;
      ids.set('partners', [made.partner.id]);
      ids.set('secrets', [made.secret.id]);
    };

    /** What the fuzz deleted comes back: products by their route, files and dead jobs in place. */
    const repairRows = async () => {
      for (const id of rows.products) {
        const restored = await call(worker, 'POST', `/v1/products/${id}/restore`, {
          token: tokenOf(admin),
          ip: newClientIp(),
        });
        await restored.arrayBuffer();
      }
      const files = [...rows.files, ...rows.uploads];
      await worker.db.execute({
        sql: `UPDATE files SET deleted_at = NULL WHERE id IN (${files.map(() => '?').join(', ')})`,
        args: files,
      });
      await addDeadJobs(worker);
      const jobIds = worker.jobs.jobs.map((job) => (job.body as { id?: unknown }).id);
      ids.set('jobs', jobIds.filter((id) => typeof id === 'string').slice(0, 4));
    };

    const repair = async () => {
      for (const actor of actors) await restore(worker, actor);
      await repairSessions(user, userTokens);
      await repairSessions(admin, adminTokens);
      if (!(await alive({ cookie: credentials.userCookie.cookie }, 'user'))) {
        credentials.userCookie = await cookieLogin(worker, user);
      }
      await repairKeys(user);
      await repairKeys(admin);
      credentials.userKey = keys.get(user)?.used.key ?? '';
      credentials.adminKey = keys.get(admin)?.used.key ?? '';
      await repairPartner();
      await repairRows();
    };

    return { worker, origin: workerOrigin, ids, credentials, repair, close: () => worker.close() };
  } catch (error) {
    await worker.close();
    throw error;
  }
}
