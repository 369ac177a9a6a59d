// The OpenAPI 3.1 document, generated from the route definitions whose schemas also validate the
// requests, then completed with what every operation shares (the standard error responses, the
// CSRF rule of cookie credentials) and the list of tags in use, so routes added by any module
// appear without touching this file.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Config } from '../../config.ts';
import {
  cookieSchemes,
  type SecurityRequirement,
  signatureSchemes,
} from '../../lib/openapi-security.ts';
import { errorRef, type StandardErrorStatus } from './error-responses.ts';

export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type PathItem = NonNullable<OpenApiDocument['paths']>[string];
type Operation = NonNullable<PathItem['get']>;

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const safeMethods = new Set<string>(['get', 'head', 'options']);

const description = [
  'Every answer is a JSON envelope: `{ success, data?, error?: { code, message, details? },',
  'pagination?, meta: { timestamp, requestId, version } }`. Errors carry a stable `error.code`;',
  'the status follows from the code. Every response has an `X-Request-Id` header; send a',
  'well-formed one to have it kept. Each operation lists the credentials it takes in',
  '`security`; `webhooks` lists the signed requests this system sends.',
].join(' ');

const tagDescriptions: Record<string, string> = {
  Health: 'Liveness and readiness probes. Never rate limited.',
  Docs: 'This document and its HTML rendering.',
  'Partner webhooks':
    'Events partners send us, each signed with a secret from the admin partners API in the ' +
    "partner's scheme (hmac-sha256 or standard-webhooks).",
  'Job deliveries':
    'What QStash delivers, signed: the jobs that run here and its failure callback (paths), and ' +
    'the jobs that run on the Node jobs worker (webhooks). Called by QStash only; never rate ' +
    'limited by address.',
};

const requestsFromElsewhere = ['Partner webhooks', 'Job deliveries'];

function operationsIn(
  items: Record<string, PathItem> | undefined,
): { path: string; method: string; operation: Operation }[] {
  return Object.entries(items ?? {}).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = item[method];
      return operation === undefined ? [] : [{ path, method, operation }];
    }),
  );
}

const names = (requirement: SecurityRequirement, schemes: readonly string[]): boolean =>
  Object.keys(requirement).some((name) => schemes.includes(name));

const usesAny = (operation: Operation, schemes: readonly string[]): boolean =>
  (operation.security ?? []).some((requirement) => names(requirement, schemes));

/** Errors any operation of its kind can answer with, whether or not its route lists them. */
function sharedErrors(operation: Operation): StandardErrorStatus[] {
  const statuses: StandardErrorStatus[] = [500];
  // A signed body is read as raw bytes and parsed by the handler once its signature holds: no
  // media-type or schema check answers before it (the route lists what its handler refuses).
  if (usesAny(operation, signatureSchemes)) {
    if (operation.requestBody !== undefined) statuses.push(413);
    return statuses;
  }
  const hasInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
  if (hasInput) statuses.push(422);
  if (operation.requestBody !== undefined) statuses.push(400, 413, 415);
  return statuses;
}

/**
 * A browser attaches cookies to requests other sites make it send, so on an unsafe method a cookie
 * counts only with the CSRF token beside it (src/modules/auth/csrf.ts). The rule holds for every
 * route alike, so it is applied here rather than repeated in each route's `security`.
 */
function withCsrfRule(method: string, security: SecurityRequirement[]): SecurityRequirement[] {
  if (safeMethods.has(method)) return security;
  return security.map((requirement) =>
    names(requirement, cookieSchemes) ? { ...requirement, csrfToken: [] } : requirement,
  );
}

export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, config: Config): OpenApiDocument {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'nexus-edge', version: config.API_VERSION, description },
    // Relative: the document describes whichever deployment serves it.
    servers: [{ url: '/', description: 'The deployment serving this document' }],
  });
  const tags: string[] = [];
  const addTags = (operation: Operation) => {
    for (const tag of operation.tags ?? []) if (!tags.includes(tag)) tags.push(tag);
  };
  for (const { method, operation } of operationsIn(document.paths)) {
    if (operation.security !== undefined) {
      operation.security = withCsrfRule(method, operation.security);
    }
    operation.responses ??= {};
    for (const status of sharedErrors(operation)) operation.responses[status] ??= errorRef(status);
    addTags(operation);
  }
  for (const { operation } of operationsIn(document.webhooks)) addTags(operation);
  // What partners and the queue call comes after what API clients call, wherever it is registered.
  const last = requestsFromElsewhere.filter((name) => tags.includes(name));
  document.tags = [...tags.filter((name) => !last.includes(name)), ...last].map((name) =>
    tagDescriptions[name] === undefined ? { name } : { name, description: tagDescriptions[name] },
  );
  return document;
}
