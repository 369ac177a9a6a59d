// The OpenAPI document at /openapi.json: valid OpenAPI 3.1, generated from the routes' own schemas,
// complete with the shared components, and including routes registered by any module. Every
// operation names itself and the credentials it takes, and the document is held to what the app
// does: each way in it lists for an operation gets in, every other one is refused, and every
// example body it shows passes the operation's own validation.
import { createRoute, z } from '@hono/zod-openapi';
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import type { LocalStack } from '../../local-stack/stack.ts';
import { createApp } from '../../src/app.ts';
import type { Deps } from '../../src/deps.ts';
import {
  type JobType,
  jobMessageSchema,
  jobPayloads,
  jobTypesOn,
} from '../../src/jobs/catalogue.ts';
import { ok } from '../../src/lib/envelope.ts';
import { signPartnerHmac } from '../../src/lib/signatures/partner-hmac.ts';
import { grantableScopes } from '../../src/modules/api-keys/api-keys.schemas.ts';
import { checkPasswordPolicy } from '../../src/modules/auth/passwords.ts';
import { issueSession } from '../../src/modules/auth/sessions.ts';
import { newIp } from '../support/auth-flows.ts';
import { offlineDeps } from '../support/offline-deps.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

const widgetRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/{id}',
  operationId: 'renameWidget',
  tags: ['Widgets'],
  summary: 'Rename a widget',
  security: [],
  request: {
    params: z.object({ id: z.string().min(3) }),
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ name: z.string().min(1) }) } },
    },
  },
  responses: {
    200: {
      description: 'Renamed.',
      content: {
        'application/json': {
          schema: z.object({ success: z.literal(true), data: z.object({ name: z.string() }) }),
        },
      },
    },
  },
});

/** The app as every runtime builds it, plus one route a later module could have added. */
function appWithWidgets(overrides: Record<string, string> = {}) {
  const app = createApp(offlineDeps(overrides).deps);
  app.openapi(widgetRoute, (c) => ok(c, { name: c.req.valid('json').name }, 200));
  return app;
}

/** The parts of the document these tests read, as a client reads them: plain JSON. */
type SecurityRequirement = Record<string, string[]>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  example?: unknown;
  schema?: { example?: unknown; enum?: unknown[] };
}

interface MediaType {
  schema?: { $ref?: string; example?: unknown };
  example?: unknown;
}

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: SecurityRequirement[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, unknown>;
}

type PathItem = Partial<Record<string, Operation>>;

interface SecurityScheme {
  type: string;
  scheme?: string;
  bearerFormat?: string;
  in?: string;
  name?: string;
}

interface Document {
  openapi: string;
  info: { title: string; version: string };
  servers: unknown[];
  tags: { name: string; description?: string }[];
  paths: Record<string, PathItem>;
  webhooks: Record<string, PathItem>;
  components: {
    schemas: Record<string, { example?: unknown } & Record<string, unknown>>;
    responses: Record<string, { content: Record<string, MediaType> }>;
    securitySchemes: Record<string, SecurityScheme>;
  };
}

async function documentOf(app: { request: (path: string) => Response | Promise<Response> }) {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  // Read as plain JSON: the test walks the document as any client of it would.
  return JSON.parse(await res.text()) as Document;
}

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Described {
  /** `POST /v1/auth/register`, or the webhook's name. */
  where: string;
  path: string;
  method: string;
  operation: Operation;
}

function operationsIn(items: Record<string, PathItem>): Described[] {
  return Object.entries(items).flatMap(([path, item]) =>
    httpMethods.flatMap((method) => {
      const operation = item[method];
      return operation === undefined
        ? []
        : [{ where: `${method.toUpperCase()} ${path}`, path, method, operation }];
    }),
  );
}

/** Every operation: the paths the API answers and the webhooks it sends. */
const everyOperation = (document: Document) => [
  ...operationsIn(document.paths),
  ...operationsIn(document.webhooks),
];

function exampleBody(document: Document, operation: Operation): unknown {
  const media = operation.requestBody?.content['application/json'];
  if (media === undefined) return undefined;
  if (media.example !== undefined) return media.example;
  const ref = media.schema?.$ref;
  const schema = ref === undefined ? media.schema : document.components.schemas[refName(ref)];
  return schema?.example;
}

function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

const verbs = new Set([
  'change',
  'check',
  'confirm',
  'complete',
  'count',
  'create',
  'delete',
  'deliver',
  'export',
  'get',
  'list',
  'record',
  'refresh',
  'rename',
  'request',
  'requeue',
  'reset',
  'restore',
  'revoke',
  'rotate',
  'run',
  'search',
  'sign',
  'update',
  'upload',
]);

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await documentOf(appWithWidgets());
    expect(document.openapi).toBe('3.1.0');
    // The validator takes the document as JSON gives it; it detects 3.1 from `openapi`.
    const result = await validate(JSON.parse(JSON.stringify(document)));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
  });

  it('names the API and carries API_VERSION, a relative server and the tags in use', async () => {
    const document = await documentOf(appWithWidgets({ API_VERSION: '2.3.4' }));
    expect(document.info).toMatchObject({ title: 'nexus-edge', version: '2.3.4' });
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    const names = document.tags.map((tag) => tag.name);
    expect(names).toEqual(
      expect.arrayContaining(['Health', 'Docs', 'Widgets', 'Partner webhooks', 'Job deliveries']),
    );
    expect(document.tags[0]).toEqual({ name: 'Health', description: expect.any(String) });
    // What partners and QStash call comes after what API clients call.
    expect(names.slice(-2)).toEqual(['Partner webhooks', 'Job deliveries']);
  });

  it('lists every route, including one registered after createApp', async () => {
    const { paths } = await documentOf(appWithWidgets());
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/docs',
        '/health',
        '/health/ready',
        '/openapi.json',
        '/jobs/{type}',
        '/jobs/failed',
        '/webhooks/partners/{partnerId}',
        '/v1/widgets/{id}',
      ]),
    );
    // Test-only routes stay out of it.
    expect(Object.keys(paths).filter((path) => path.startsWith('/diagnostics'))).toEqual([]);
    expect(paths['/health/ready']?.get?.responses).toHaveProperty('503');
    const widget = paths['/v1/widgets/{id}']?.post;
    expect(widget?.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ]);
    expect(widget?.requestBody?.content['application/json']?.schema).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string', minLength: 1 } },
      required: ['name'],
    });
  });

  it('has the envelope schemas and the standard error responses as components', async () => {
    const { components, paths } = await documentOf(appWithWidgets());
    expect(Object.keys(components.schemas)).toEqual(
      expect.arrayContaining(['ErrorEnvelope', 'Meta', 'Pagination', 'HealthCheck']),
    );
    expect(components.schemas.ErrorEnvelope).toMatchObject({
      properties: {
        error: { properties: { code: { enum: expect.arrayContaining(['VALIDATION_FAILED']) } } },
      },
    });
    expect(components.responses.NotFound?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/ErrorEnvelope',
    });
    // Errors any operation can answer with are listed even where its route does not say so.
    const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
    expect(paths['/health']?.get?.responses['500']).toEqual(ref('InternalError'));
    const widgetResponses = paths['/v1/widgets/{id}']?.post?.responses;
    expect(widgetResponses?.['400']).toEqual(ref('BadRequest'));
    expect(widgetResponses?.['413']).toEqual(ref('PayloadTooLarge'));
    expect(widgetResponses?.['415']).toEqual(ref('UnsupportedMediaType'));
    expect(widgetResponses?.['422']).toEqual(ref('ValidationFailed'));
    // A signed body is read raw by its handler: no media-type or schema check answers first.
    const delivery = paths['/jobs/{type}']?.post?.responses;
    expect(delivery?.['413']).toEqual(ref('PayloadTooLarge'));
    expect(Object.keys(delivery ?? {})).not.toEqual(expect.arrayContaining(['400']));
    expect(Object.keys(delivery ?? {})).not.toEqual(expect.arrayContaining(['415']));
  });

  it('gives every operation a unique lowerCamelCase operationId that starts with a verb', async () => {
    const document = await documentOf(appWithWidgets());
    const ids = everyOperation(document).map(({ where, operation }) => ({
      where,
      id: operation.operationId,
    }));
    expect(ids.filter(({ id }) => id === undefined)).toEqual([]);
    const malformed = ids.filter(({ id = '' }) => {
      const firstWord = /^[a-z]+/.exec(id)?.[0] ?? '';
      return !/^[a-z]+(?:[A-Z][a-z0-9]*)*$/.test(id) || !verbs.has(firstWord);
    });
    expect(malformed).toEqual([]);
    const seen = ids.map(({ id }) => id);
    expect(seen.filter((id, index) => seen.indexOf(id) !== index)).toEqual([]);
  });

  it('describes every way in as a security scheme', async () => {
    const { components } = await documentOf(appWithWidgets());
    expect(components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-session' },
      refreshCookie: { type: 'apiKey', in: 'cookie', name: '__Host-refresh' },
      csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
      partnerHmac: { type: 'apiKey', in: 'header', name: 'X-Signature' },
      partnerStandardWebhooks: { type: 'apiKey', in: 'header', name: 'webhook-signature' },
      qstashSignature: { type: 'apiKey', in: 'header', name: 'Upstash-Signature' },
    });
  });

  it('declares on every operation a security naming only schemes it defines', async () => {
    const document = await documentOf(appWithWidgets());
    const schemes = Object.keys(document.components.securitySchemes);
    const problems = everyOperation(document).flatMap(({ where, operation }) => {
      if (operation.security === undefined) return [`${where}: no security`];
      return operation.security.flatMap((requirement) =>
        Object.keys(requirement)
          .filter((name) => !schemes.includes(name))
          .map((name) => `${where}: unknown scheme ${name}`),
      );
    });
    expect(problems).toEqual([]);
    // Cookies need the CSRF token on unsafe methods only.
    expect(document.paths['/v1/me']?.get?.security).toContainEqual({ sessionCookie: [] });
    expect(document.paths['/v1/me']?.patch?.security).toContainEqual({
      sessionCookie: [],
      csrfToken: [],
    });
    expect(document.paths['/v1/auth/refresh']?.post?.security).toEqual([
      {},
      { refreshCookie: [], csrfToken: [] },
    ]);
  });

  it('shows the uploads as multipart/form-data with binary file fields', async () => {
    const { paths } = await documentOf(appWithWidgets());
    expect(paths['/v1/files']?.post?.requestBody?.content['multipart/form-data']).toEqual({
      schema: {
        type: 'object',
        properties: {
          files: {
            type: 'array',
            items: { type: 'string', format: 'binary' },
            minItems: 1,
            maxItems: 5,
          },
        },
        required: ['files'],
      },
    });
    expect(paths['/v1/users/me/avatar']?.post?.requestBody?.content['multipart/form-data']).toEqual(
      {
        schema: {
          type: 'object',
          properties: { avatar: { type: 'string', format: 'binary' } },
          required: ['avatar'],
        },
      },
    );
  });

  it('shows every pattern as a regular expression a client can compile, without flags', async () => {
    const document = await documentOf(appWithWidgets());
    const patterns: string[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'pattern' && typeof value === 'string') patterns.push(value);
          else collect(value);
        }
      }
    };
    collect(document);
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(pattern).not.toMatch(/\/[dgimsuvy]+$/);
      expect(() => new RegExp(pattern, 'u')).not.toThrow();
    }
  });

  it('shows an example of every JSON request body', async () => {
    const document = await documentOf(appWithWidgets());
    // Files and images (multipart, binary bodies) have no example a document could show.
    const missing = everyOperation(document)
      .filter(
        ({ path, operation }) =>
          operation.requestBody?.content['application/json'] !== undefined &&
          path !== widgetRoute.path,
      )
      .filter(({ operation }) => exampleBody(document, operation) === undefined)
      .map(({ where }) => where);
    expect(missing).toEqual([]);
  });

  it('sets only passwords the policy accepts in its examples', async () => {
    const document = await documentOf(appWithWidgets());
    // The app checks a new password after the token or current password it comes with, so a
    // request cannot show it: the examples' passwords are held to the policy here, for the
    // account the examples speak of.
    const account = { email: 'ada@example.com', name: 'Ada Lovelace' };
    const passwords = everyOperation(document).flatMap(({ where, operation }) => {
      const body = exampleBody(document, operation);
      if (typeof body !== 'object' || body === null) return [];
      return Object.entries(body)
        .filter(([field]) => field === 'password' || field === 'newPassword')
        .map(([field, value]) => ({ where: `${where} ${field}`, value: String(value) }));
    });
    expect(passwords.length).toBeGreaterThanOrEqual(3);
    const refused = passwords.filter(({ value }) => checkPasswordPolicy(value, account).length > 0);
    expect(refused).toEqual([]);
  });

  it('documents the job deliveries and the partner webhook with their signature headers', async () => {
    const { paths } = await documentOf(appWithWidgets());
    const headerNames = (operation: Operation | undefined) =>
      (operation?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);

    const job = paths['/jobs/{type}']?.post;
    expect(job?.tags).toEqual(['Job deliveries']);
    expect(job?.security).toEqual([{ qstashSignature: [] }]);
    expect(job?.parameters).toContainEqual(
      expect.objectContaining({
        name: 'type',
        in: 'path',
        required: true,
        schema: expect.objectContaining({ enum: jobTypesOn('edge') }),
      }),
    );
    expect(job?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Upstash-Signature', in: 'header', required: true }),
    );
    expect(Object.keys(job?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '404', '429', '489', '503']),
    );

    const callback = paths['/jobs/failed']?.post;
    expect(callback?.tags).toEqual(['Job deliveries']);
    expect(callback?.security).toEqual([{ qstashSignature: [] }]);
    expect(headerNames(callback)).toContain('Upstash-Signature');
    expect(Object.keys(callback?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '489', '503']),
    );

    const partner = paths['/webhooks/partners/{partnerId}']?.post;
    expect(partner?.tags).toEqual(['Partner webhooks']);
    expect(partner?.security).toEqual([{ partnerHmac: [] }, { partnerStandardWebhooks: [] }]);
    expect(headerNames(partner)).toEqual([
      'X-Timestamp',
      'X-Signature',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
  });

  it('lists as webhooks the jobs QStash delivers to the Node worker, with examples it accepts', async () => {
    const document = await documentOf(appWithWidgets());
    const nodeTypes: JobType[] = jobTypesOn('node');
    expect(Object.keys(document.webhooks).sort()).toEqual([...nodeTypes].sort());
    for (const type of nodeTypes) {
      const delivery = document.webhooks[type]?.post;
      expect(delivery?.security).toEqual([{ qstashSignature: [] }]);
      expect(delivery?.parameters).toContainEqual(
        expect.objectContaining({ name: 'Upstash-Signature', in: 'header', required: true }),
      );
      expect(Object.keys(delivery?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '401', '489', '503']),
      );
      // As the worker reads a delivery (src/jobs/job-delivery.ts): a job message of this type
      // whose payload passes the type's schema.
      const message = jobMessageSchema.parse(delivery && exampleBody(document, delivery));
      expect(message.type).toBe(type);
      expect(jobPayloads[type].safeParse(message.payload).error).toBeUndefined();
    }
  });

  it('serves the same document on every request', async () => {
    const app = appWithWidgets();
    const first = await (await app.request('/openapi.json')).text();
    const second = await (await app.request('/openapi.json')).text();
    expect(second).toBe(first);
  });

  it('validates requests with the schemas it documents', async () => {
    const res = await appWithWidgets().request('/v1/widgets/ab', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: '' }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { target: 'param', fields: [{ path: 'id' }] } },
    });
  });
});

// What the document says against what the app does, on a real local stack.

/** One way to present credentials, and the schemes it satisfies. */
const credentialKinds = {
  anonymous: [],
  bearer: ['bearerAuth'],
  apiKey: ['apiKey'],
  sessionCookie: ['sessionCookie'],
  sessionCookieWithCsrf: ['sessionCookie', 'csrfToken'],
  refreshCookie: ['refreshCookie'],
  refreshCookieWithCsrf: ['refreshCookie', 'csrfToken'],
} as const satisfies Record<string, readonly string[]>;

type CredentialKind = keyof typeof credentialKinds;

/**
 * Whether the document says this kind of credential gets in (a key holding every scope). An
 * operation without security reads no credentials; one with security reads every credential it
 * knows that is presented, so such a credential must complete the requirement that lets it in
 * rather than ride along with another one: a refresh cookie without its CSRF token is refused, though
 * the refresh route also takes a request with no credential at all.
 */
function documentedFor(kind: CredentialKind, security: SecurityRequirement[]): boolean {
  if (security.length === 0) return true;
  const presented: readonly string[] = credentialKinds[kind];
  const known = new Set(security.flatMap((requirement) => Object.keys(requirement)));
  // The CSRF token is no way in of its own: it is read only beside a cookie.
  const read = presented.filter((name) => known.has(name) && name !== 'csrfToken');
  return security.some((requirement) => {
    const names = Object.keys(requirement);
    return (
      names.every((name) => presented.includes(name)) && read.every((name) => names.includes(name))
    );
  });
}

interface Answer {
  status: number;
  code?: string;
  challenged: boolean;
}

/**
 * Refused for its credentials: the 401 of requireAuth (with its WWW-Authenticate challenge), of an
 * API key or of a signature, or the 403 of a session-only route, of CSRF or of a missing scope.
 * The callers are administrators holding every permission, so no other 403 can come up.
 */
function refusedForCredentials({ status, code = '', challenged }: Answer): boolean {
  const signature = code.startsWith('SIGNATURE_');
  if (status === 401) return challenged || signature || code === 'API_KEY_INVALID';
  return status === 403 && ['FORBIDDEN', 'CSRF_FAILED', 'SCOPE_MISSING'].includes(code);
}

const origin = 'http://localhost';
const publicUrl = 'http://127.0.0.1:9';

describe('the document against the app', () => {
  let stack: LocalStack;
  let app: ReturnType<typeof createApp>;
  let deps: Deps;
  let document: Document;
  let operations: Described[];

  beforeAll(async () => {
    stack = await startTestStack({ redisDb: 13, migrate: true });
    const unmetered = '100000/1m';
    ({ app, deps } = appOnStack(stack.env, {
      RATE_LIMIT_GENERAL: unmetered,
      RATE_LIMIT_AUTH: unmetered,
      RATE_LIMIT_SIGNUP: unmetered,
      RATE_LIMIT_PASSWORD_RESET: unmetered,
      RATE_LIMIT_API_KEY: unmetered,
      RATE_LIMIT_WEBHOOK: unmetered,
      RATE_LIMIT_ACCOUNT_EMAIL: unmetered,
      // Jobs the requests enqueue go nowhere; the signed deliveries below name this origin.
      API_PUBLIC_URL: publicUrl,
      JOBS_BASE_URL: publicUrl,
    }));
    document = await documentOf(app);
    operations = operationsIn(document.paths);
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  const request = (
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: unknown } = {},
  ) =>
    app.request(path, {
      method: method.toUpperCase(),
      headers: {
        'cf-connecting-ip': newIp(),
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });

  async function answerOf(res: Response): Promise<Answer> {
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code, challenged: res.headers.has('WWW-Authenticate') };
  }

  /** The operation's path with its parameters' examples, and its required query parameters. */
  function urlOf({ path, operation }: Described): string {
    const exampleOf = (parameter: Parameter) =>
      String(parameter.example ?? parameter.schema?.example ?? parameter.schema?.enum?.[0]);
    const parameters = operation.parameters ?? [];
    const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
      return parameter === undefined ? name : encodeURIComponent(exampleOf(parameter));
    });
    const query = new URLSearchParams(
      parameters.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, exampleOf(p)]),
    );
    return query.size === 0 ? filled : `${filled}?${query}`;
  }

  /** A verified administrator with a session and an API key holding `scopes`. */
  async function administrator(scopes: readonly string[] = grantableScopes) {
    const [user] = (await signedInUsers(deps, [{ name: 'Docs Admin', role: 'admin' }])) as [
      SignedInUser,
    ];
    const created = await request('post', '/v1/api-keys', {
      headers: { authorization: `Bearer ${user.accessToken}` },
      body: { name: 'docs', scopes },
    });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as { data: { key: string } };
    return { user, apiKey: data.key };
  }

  async function withCredentials(
    kind: CredentialKind,
    admin: { user: SignedInUser; apiKey: string },
  ): Promise<Record<string, string>> {
    // A session of its own for each request: signing out ends the one it presents.
    const session = await issueSession(deps, {
      id: admin.user.id,
      role: 'admin',
      emailVerifiedAt: new Date('2026-01-01T00:00:00.000Z'),
    });
    const csrf = { origin, 'x-csrf-token': 'docs-csrf-token' };
    switch (kind) {
      case 'anonymous':
        return {};
      case 'bearer':
        return { authorization: `Bearer ${session.accessToken}` };
      case 'apiKey':
        return { 'x-api-key': admin.apiKey };
      case 'sessionCookie':
        return { origin, cookie: `__Host-session=${session.accessToken}` };
      case 'sessionCookieWithCsrf':
        return {
          ...csrf,
          cookie: `__Host-session=${session.accessToken}; __Host-csrf=docs-csrf-token`,
        };
      case 'refreshCookie':
        return { origin, cookie: `__Host-refresh=${session.refreshToken}` };
      case 'refreshCookieWithCsrf':
        return {
          ...csrf,
          cookie: `__Host-refresh=${session.refreshToken}; __Host-csrf=docs-csrf-token`,
        };
    }
  }

  it('lets in exactly the credentials each operation lists, and refuses every other', async () => {
    const mismatches: string[] = [];
    for (const described of operations) {
      const { where, method, operation } = described;
      const admin = await administrator();
      // Only what the operation needs: an optional body could carry a credential of its own.
      const body = operation.requestBody?.required ? exampleBody(document, operation) : undefined;
      for (const kind of Object.keys(credentialKinds) as CredentialKind[]) {
        const res = await request(method, urlOf(described), {
          headers: await withCredentials(kind, admin),
          body,
        });
        const answer = await answerOf(res);
        const documented = documentedFor(kind, operation.security ?? []);
        if (refusedForCredentials(answer) === documented) {
          mismatches.push(
            `${where} with ${kind}: documented ${documented ? 'in' : 'out'}, answered ${answer.status} ${answer.code ?? ''}`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('refuses an API key without the scopes an operation lists, and takes one with them', async () => {
    // Each apiKey requirement is an alternative: a key holding all of them gets in, none, out.
    const scoped = operations.flatMap((described) => {
      const scopes = (described.operation.security ?? []).flatMap((r) => r.apiKey ?? []);
      return scopes.length === 0 ? [] : [{ described, scopes }];
    });
    expect(scoped.length).toBeGreaterThan(10);
    const mismatches: string[] = [];
    for (const { described, scopes } of scoped) {
      const { where, method, operation } = described;
      const body = operation.requestBody?.required ? exampleBody(document, operation) : undefined;
      const others = grantableScopes.filter((scope) => !scopes.includes(scope));
      for (const [held, expectRefusal] of [
        [scopes, false],
        [others, true],
      ] as const) {
        const admin = await administrator(held);
        const answer = await answerOf(
          await request(method, urlOf(described), { headers: { 'x-api-key': admin.apiKey }, body }),
        );
        const refused = answer.status === 403 && answer.code === 'SCOPE_MISSING';
        if (refused !== expectRefusal) {
          mismatches.push(
            `${where} with a key holding ${held.join(' ')}: ${answer.status} ${answer.code ?? ''}`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 60_000);

  it('takes every example request body it shows (no 422)', async () => {
    const admin = await administrator();
    const refused: string[] = [];
    for (const described of operations) {
      const { where, method, operation } = described;
      const body = exampleBody(document, operation);
      const signed = (operation.security ?? []).some(
        (requirement) => 'qstashSignature' in requirement || 'partnerHmac' in requirement,
      );
      // Signed bodies are checked after their signature: the next tests sign them.
      if (body === undefined || signed) continue;
      const kind: CredentialKind = documentedFor('anonymous', operation.security ?? [])
        ? 'anonymous'
        : 'bearer';
      const answer = await answerOf(
        await request(method, urlOf(described), {
          headers: await withCredentials(kind, admin),
          body,
        }),
      );
      if (answer.status === 422) refused.push(`${where}: ${answer.code}`);
    }
    expect(refused).toEqual([]);
  }, 60_000);

  it('stores the partner event example when the partner signs it', async () => {
    const { user } = await administrator();
    const created = await request('post', '/v1/admin/partners', {
      headers: { authorization: `Bearer ${user.accessToken}` },
      body: { name: `Docs partner ${crypto.randomUUID()}`, scheme: 'hmac-sha256' },
    });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as {
      data: { partner: { id: string }; secret: { secret: string } };
    };
    const operation = document.paths['/webhooks/partners/{partnerId}']?.post;
    const body = JSON.stringify(operation && exampleBody(document, operation));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = await signPartnerHmac(data.secret.secret, timestamp, body);
    const res = await app.request(`/webhooks/partners/${data.partner.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'cf-connecting-ip': newIp(),
        'x-timestamp': timestamp,
        'x-signature': signature,
      },
      body,
    });
    expect(res.status).toBe(202);
  });

  it('runs the job delivery examples when QStash signs them', async () => {
    for (const path of ['/jobs/{type}', '/jobs/failed']) {
      const described = operations.find((o) => o.path === path && o.method === 'post');
      expect(described).toBeDefined();
      if (described === undefined) continue;
      const url = urlOf(described);
      const body = new TextEncoder().encode(
        JSON.stringify(exampleBody(document, described.operation)),
      );
      const res = await app.request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'upstash-signature': signDelivery({
            url: `${publicUrl}${url}`,
            body,
            signingKey: stack.env.QSTASH_CURRENT_SIGNING_KEY,
            nowMs: Date.now(),
          }),
          'upstash-message-id': `msg_${crypto.randomUUID()}`,
        },
        body,
      });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });
});
