import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { createPartnersRepository } from './partners.repository.ts';
import type {
  createPartnerRoute,
  deleteSubscriptionRoute,
  listPartnersRoute,
  revokePartnerRoute,
  revokeSecretRoute,
  rotateSecretRoute,
  updateSubscriptionRoute,
} from './partners.routes.ts';
import {
  createPartner,
  listPartners,
  type PartnersServiceDeps,
  revokePartner,
  revokeSecret,
  rotateSecret,
  subscribePartner,
  unsubscribePartner,
} from './partners.service.ts';

function partnersServiceDeps(c: Context<AppEnv>): PartnersServiceDeps {
  const { db, clock, config } = c.get('deps');
  return { partners: createPartnersRepository(db), clock, config, cache: requestCache(c) };
}

export const createPartnerHandler: RouteHandler<typeof createPartnerRoute, AppEnv> = async (c) =>
  ok(
    c,
    await createPartner(partnersServiceDeps(c), principalOf(c).userId, c.req.valid('json')),
    201,
  );

export const listPartnersHandler: RouteHandler<typeof listPartnersRoute, AppEnv> = async (c) =>
  ok(c, await listPartners(partnersServiceDeps(c)), 200);

export const rotateSecretHandler: RouteHandler<typeof rotateSecretRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const { graceHours } = c.req.valid('json');
  return ok(
    c,
    await rotateSecret(partnersServiceDeps(c), principalOf(c).userId, id, graceHours),
    201,
  );
};

export const revokeSecretHandler: RouteHandler<typeof revokeSecretRoute, AppEnv> = async (c) => {
  const { id, secretId } = c.req.valid('param');
  return ok(
    c,
    await revokeSecret(partnersServiceDeps(c), principalOf(c).userId, id, secretId),
    200,
  );
};

export const revokePartnerHandler: RouteHandler<typeof revokePartnerRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await revokePartner(partnersServiceDeps(c), principalOf(c).userId, id), 200);
};

export const updateSubscriptionHandler: RouteHandler<
  typeof updateSubscriptionRoute,
  AppEnv
> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(
    c,
    await subscribePartner(partnersServiceDeps(c), principalOf(c).userId, id, c.req.valid('json')),
    200,
  );
};

export const deleteSubscriptionHandler: RouteHandler<
  typeof deleteSubscriptionRoute,
  AppEnv
> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await unsubscribePartner(partnersServiceDeps(c), principalOf(c).userId, id), 200);
};
