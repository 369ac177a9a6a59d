// The OpenAPI document at /openapi.json: valid OpenAPI 3.1, generated from the routes' own schemas,
// complete with the shared components, and including routes registered by any module.
import { createRoute, z } from '@hono/zod-openapi';
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ok } from '../../src/lib/envelope.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const widgetRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/{id}',
  tags: ['Widgets'],
  summary: 'Rename a widget',
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

async function documentOf(app: ReturnType<typeof appWithWidgets>) {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  // Read as plain JSON: the test walks the document as any client of it would.
  return JSON.parse(await res.text());
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await documentOf(appWithWidgets());
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
  });

  it('names the API and carries API_VERSION, a relative server and the tags in use', async () => {
    const document = await documentOf(appWithWidgets({ API_VERSION: '2.3.4' }));
    expect(document.info).toMatchObject({ title: 'nexus-edge', version: '2.3.4' });
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(document.tags.map((tag: { name: string }) => tag.name)).toEqual(
      expect.arrayContaining(['Health', 'Docs', 'Widgets']),
    );
    expect(document.tags[0]).toEqual({ name: 'Health', description: expect.any(String) });
  });

  it('lists every route, including one registered after createApp', async () => {
    const { paths } = await documentOf(appWithWidgets());
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/docs',
        '/health',
        '/health/ready',
        '/openapi.json',
        '/v1/widgets/{id}',
      ]),
    );
    // Test-only routes stay out of it.
    expect(Object.keys(paths).filter((path) => path.startsWith('/diagnostics'))).toEqual([]);
    expect(paths['/health/ready'].get.responses).toHaveProperty('503');
    const widget = paths['/v1/widgets/{id}'].post;
    expect(widget.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ]);
    expect(widget.requestBody.content['application/json'].schema).toMatchObject({
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
    expect(components.schemas.ErrorEnvelope.properties.error.properties.code.enum).toContain(
      'VALIDATION_FAILED',
    );
    expect(components.responses.NotFound.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ErrorEnvelope',
    });
    // Errors any operation can answer with are listed even where its route does not say so.
    const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
    expect(paths['/health'].get.responses['500']).toEqual(ref('InternalError'));
    const widgetResponses = paths['/v1/widgets/{id}'].post.responses;
    expect(widgetResponses['400']).toEqual(ref('BadRequest'));
    expect(widgetResponses['413']).toEqual(ref('PayloadTooLarge'));
    expect(widgetResponses['415']).toEqual(ref('UnsupportedMediaType'));
    expect(widgetResponses['422']).toEqual(ref('ValidationFailed'));
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
