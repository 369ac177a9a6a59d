// OWASP API9:2023, improper inventory management: /openapi.json is the whole inventory. The app is
// built in Node as every runtime builds it (createApp over offline dependencies) and its route
// table read: every route it mounts is in the document the real Worker serves, and the document
// lists nothing the app does not mount. Against the Worker in production configuration, every
// documented operation is served, every other method on a documented path answers 405 naming the
// documented ones, and the paths an attacker probes for (other versions, debug and admin
// consoles, test routes, dotfiles) answer the 404 envelope. Middleware registered for every method
// (`ALL`) is no route; the /docs page's script and styles are static files that Workers serves
// ahead of the app, the one documented exception.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { nodeJobTypes } from '../../worker-jobs/jobs/index.ts';
import { offlineDeps } from '../support/offline-deps.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

interface OpenApiDocument {
  info: { version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  webhooks: Record<string, unknown>;
}

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
let worker: E2eWorker;
let document: OpenApiDocument;

beforeAll(async () => {
  worker = await startE2eWorker({
    vars: { APP_ENV: 'production', RATE_LIMIT_GENERAL: '100000/1h' },
  });
  const response = await worker.fetch('/openapi.json');
  expect(response.status).toBe(200);
  document = (await response.json()) as OpenApiDocument;
});

afterAll(async () => {
  await worker?.close();
});

/** `METHOD /path/{param}` for every route an app built with this APP_ENV mounts. */
function mountedRoutes(appEnv: 'production' | 'test'): string[] {
  const app = createApp(offlineDeps({ APP_ENV: appEnv }).deps);
  const routes = app.routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

function documentedOperations(): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

/** A URL for a documented path: a job type where one is asked for, a fresh UUID elsewhere. */
const concrete = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'type' ? 'maintenance.housekeeping' : crypto.randomUUID(),
  );

/** The documented methods for a URL, across every documented path that matches it. */
function documentedMethods(url: string): string[] {
  const found = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`);
    if (pattern.test(url)) for (const method of Object.keys(item)) found.add(method.toUpperCase());
  }
  return [...found];
}

const send = (method: string, url: string) =>
  worker.fetch(url, { method, headers: { 'cf-connecting-ip': '198.51.100.90' } });

/** The router's own 404, as against a resource's: no route matched the method and path. */
async function isUnrouted(response: Response): Promise<boolean> {
  if (response.status === 405) return true;
  if (response.status !== 404) return false;
  const body = (await response.clone().json()) as { error?: { message?: string } };
  return body.error?.message?.startsWith('No route for ') ?? false;
}

describe('the document', () => {
  it('lists every route the app mounts, and no route it does not', () => {
    expect(documentedOperations()).toEqual(mountedRoutes('production'));
  });

  it('lists every job the Node worker runs, as the webhooks QStash delivers there', () => {
    expect(Object.keys(document.webhooks).sort()).toEqual([...nodeJobTypes].sort());
  });

  it('names no server but the deployment serving it, and this version', () => {
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(document.info.version).toBe('1.0.0');
  });
});

describe('the test-only routes', () => {
  it('are mounted only with APP_ENV=test, and never documented', () => {
    const testOnly = mountedRoutes('test').filter(
      (route) => !mountedRoutes('production').includes(route),
    );
    expect(testOnly).toEqual(['GET /diagnostics/error', 'POST /diagnostics/echo']);
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/diagnostics'))).toEqual(
      [],
    );
  });

  it('answer 404 in production', async () => {
    await expectErrorEnvelope(await send('GET', '/diagnostics/error'), 404, 'NOT_FOUND');
    await expectErrorEnvelope(await send('POST', '/diagnostics/echo'), 404, 'NOT_FOUND');
  });
});

describe('the Worker in production', () => {
  it('serves every documented operation', async () => {
    const unserved: string[] = [];
    for (const operation of documentedOperations()) {
      const [method = '', path = ''] = operation.split(' ');
      const response = await send(method, concrete(path));
      if (await isUnrouted(response)) unserved.push(`${operation}: ${response.status}`);
      await response.arrayBuffer();
    }
    expect(unserved).toEqual([]);
  });

  it('answers any other method on a documented path 405, allowing the documented ones', async () => {
    const wrong: string[] = [];
    for (const path of Object.keys(document.paths)) {
      const url = concrete(path);
      const allowed = documentedMethods(url);
      const expected = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].sort();
      for (const method of methods.filter((each) => !allowed.includes(each))) {
        const response = await send(method, url);
        const body = (await response.json()) as { error?: { code?: string } };
        const allow = response.headers.get('allow');
        if (
          response.status !== 405 ||
          body.error?.code !== 'METHOD_NOT_ALLOWED' ||
          allow !== expected.join(', ')
        ) {
          wrong.push(`${method} ${path}: ${response.status} ${body.error?.code} allow=${allow}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    '/v0/products',
    '/v2/products',
    '/v2/users/search',
    '/api/v1/products',
    '/V1/PRODUCTS',
    '/v1/products.json',
    '/v1/internal/users',
    '/v1/admin',
    '/v1/admin/debug',
    '/v1/admin/config',
    '/v1/users/me/tokens',
    '/v1/auth/token',
    '/v1/auth/impersonate',
    '/admin',
    '/internal',
    '/debug',
    '/debug/vars',
    '/debug/pprof',
    '/test',
    '/seed',
    '/health/live',
    '/status',
    '/server-status',
    '/actuator/env',
    '/metrics/raw',
    '/graphql',
    '/swagger.json',
    '/swagger-ui/',
    '/api-docs',
    '/openapi.yaml',
    '/v1/openapi.json',
    '/docs/internal',
    '/docs/assets/no-such-file.js',
    '/.env',
    '/.git/config',
    '/wrangler.toml',
    '/jobs',
    '/webhooks',
  ])('answers %s with the 404 envelope', async (path) => {
    for (const method of ['GET', 'POST']) {
      await expectErrorEnvelope(await send(method, path), 404, 'NOT_FOUND');
    }
  });

  it('serves the /docs page’s assets as static files ahead of the app', async () => {
    const response = await send('GET', '/docs/assets/standalone.esm.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    await response.arrayBuffer();
  });
});
