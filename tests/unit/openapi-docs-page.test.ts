// The /docs page: Scalar's interactive reference, a shell that loads Scalar's build from this
// origin and reads /openapi.json, under a Content-Security-Policy of its own that no other route
// gets. What the page does in a browser is tests/e2e/docs-browser.test.ts.
import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ok, successEnvelopeSchema } from '../../src/lib/envelope.ts';
import { docsBundleUrl } from '../../src/modules/docs/docs-page.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const hostileRoute = createRoute({
  method: 'get',
  path: '/v1/notes/{noteId}',
  tags: ['Notes <b>'],
  summary: '<script>alert("summary")</script>',
  request: { params: z.object({ noteId: z.string() }) },
  responses: {
    200: {
      description: 'The note.',
      content: {
        'application/json': { schema: successEnvelopeSchema(z.object({ text: z.string() })) },
      },
    },
  },
});

function appWithHostileRoute() {
  const app = createApp(offlineDeps().deps);
  app.openapi(hostileRoute, (c) => ok(c, { text: c.req.valid('param').noteId }, 200));
  return app;
}

async function docsPage() {
  const res = await appWithHostileRoute().request('/docs');
  return { res, html: await res.text() };
}

/** The CSP's directives by name, each with its sources. */
function directives(res: Response): Map<string, string[]> {
  const csp = res.headers.get('Content-Security-Policy') ?? '';
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0] !== '')
      .map(([name = '', ...sources]) => [name, sources]),
  );
}

const inlineScripts = (html: string) => [
  ...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g),
];

describe('GET /docs', () => {
  it('is an HTML page that starts Scalar from this origin on /openapi.json', async () => {
    const { res, html } = await docsPage();
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>nexus-edge API reference</title>');
    const scripts = inlineScripts(html);
    expect(scripts).toHaveLength(1);
    const [, attributes = '', body = ''] = scripts[0] ?? [];
    expect(attributes).toContain('type="module"');
    expect(body).toContain(`import { createApiReference } from '${docsBundleUrl}'`);
    expect(body).toContain('"url": "/openapi.json"');
    // A developer trying the API holds an access token; nothing is kept beyond the tab.
    expect(body).toContain('"preferredSecurityScheme": "bearerAuth"');
    expect(body).toContain('"persistAuth": false');
  });

  it('loads nothing from elsewhere: no CDN, no hosted fonts or tools', async () => {
    const { html } = await docsPage();
    expect(docsBundleUrl).toMatch(/^\/docs\/assets\//);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<(link|img|iframe)\b/);
    expect(html).toContain('"withDefaultFonts": false');
    expect(html).toContain('"showDeveloperTools": "never"');
  });

  it('embeds nothing from the document, which the reference reads from /openapi.json', async () => {
    const app = appWithHostileRoute();
    const html = await (await app.request('/docs')).text();
    expect(html).not.toContain('alert(');
    expect(html).not.toContain('Notes');
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/docs', '/openapi.json', '/v1/notes/{noteId}']),
    );
  });

  it("has a CSP of its own: scripts from this origin and the request's nonce, calls to itself", async () => {
    const { res, html } = await docsPage();
    const csp = directives(res);
    const nonce = /^'nonce-([^']+)'$/.exec(csp.get('script-src')?.[1] ?? '')?.[1] ?? '';
    expect(nonce).not.toBe('');
    expect(csp.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    // Scalar inserts <style> elements and style attributes of its own, without a nonce.
    expect(csp.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:']);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(res.headers.get('Content-Security-Policy')).not.toContain('unsafe-eval');
    // The one inline script, which starts the reference, carries it.
    const [script] = inlineScripts(html);
    expect(script?.[1]).toContain(`nonce="${nonce}"`);
  });

  it('gets a fresh nonce on each request', async () => {
    const app = createApp(offlineDeps().deps);
    const nonces = await Promise.all(
      [1, 2].map(async () => directives(await app.request('/docs')).get('script-src')?.[1]),
    );
    expect(nonces[0]).toMatch(/^'nonce-/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });
});

describe('every other route', () => {
  it.each(['/openapi.json', '/health', '/no/such/route', docsBundleUrl])(
    'keeps the strict CSP that allows no script, style or connection: %s',
    async (path) => {
      const res = await createApp(offlineDeps().deps).request(path);
      expect(res.headers.get('Content-Security-Policy')).toBe(
        "default-src 'none'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
    },
  );
});
