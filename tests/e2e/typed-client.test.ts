// The typed client (src/client.ts) against the real Worker: the compiler knows each route's
// input and answer, so these calls are checked by `npm run typecheck` as well as run here. A
// route whose schema changes incompatibly fails the typecheck of this file.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiClient } from '../../src/client.ts';
import {
  type IdentityWorker,
  newAccount,
  newClientIp,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let api: ReturnType<typeof createApiClient>;

beforeAll(async () => {
  worker = await startIdentityWorker();
  const ip = newClientIp();
  api = createApiClient('https://api.e2e.test', {
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers);
      headers.set('cf-connecting-ip', ip);
      const answer = await worker.fetch(`${url.pathname}${url.search}`, {
        method: init?.method ?? 'GET',
        headers: Object.fromEntries(headers),
        ...(typeof init?.body === 'string' && { body: init.body }),
      });
      return new Response(await answer.arrayBuffer(), {
        status: answer.status,
        headers: Object.fromEntries(answer.headers),
      });
    },
  });
});

afterAll(async () => {
  await worker?.close();
});

it('registers, reads the profile and updates it through the typed client', async () => {
  const account = newAccount('typed-client');
  const registered = await api.v1.auth.register.$post({ json: account, query: {}, header: {} });
  expect(registered.status).toBe(201);
  if (registered.status !== 201) return;
  const { user, session } = (await registered.json()).data;
  expect(user.email).toBe(account.email);
  const auth = { headers: { authorization: `Bearer ${session.accessToken}` } };

  const me = await api.v1.me.$get({}, auth);
  expect(me.status).toBe(200);
  if (me.status !== 200) return;
  expect((await me.json()).data).toMatchObject({ id: user.id, name: account.name });

  const renamed = await api.v1.me.$patch({ json: { name: 'Typed Client Renamed' } }, auth);
  expect(renamed.status).toBe(200);
  if (renamed.status !== 200) return;
  expect((await renamed.json()).data.name).toBe('Typed Client Renamed');

  const profile = await api.v1.users[':id'].$get({ param: { id: user.id } });
  expect(profile.status).toBe(200);
  if (profile.status !== 200) return;
  const publicProfile = (await profile.json()).data;
  expect(publicProfile).toEqual({
    id: user.id,
    name: 'Typed Client Renamed',
    avatar: null,
    createdAt: expect.any(String),
  });
  // @ts-expect-error The public profile has no email: the compiler knows the answer's shape.
  expect(publicProfile.email).toBeUndefined();
});

it('answers a refusal in the envelope, typed by status', async () => {
  const refused = await api.v1.me.$get({});
  expect(refused.status).toBe(401);
  if (refused.status !== 401) return;
  const body = await refused.json();
  expect(body.success).toBe(false);
  expect(body.error.code).toBe('UNAUTHORIZED');
});
