// The /docs page: self-contained HTML rendered from the OpenAPI document, readable with no
// network and under the API's Content-Security-Policy, with everything from the document escaped.
import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ok, successEnvelopeSchema } from '../../src/lib/envelope.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const hostileRoute = createRoute({
  method: 'get',
  path: '/v1/notes/{noteId}',
  tags: ['Notes <b>'],
  summary: '<script>alert("summary")</script>',
  description: 'Reads a note; see `noteId` & friends.',
  request: { params: z.object({ noteId: z.string().describe('The note\'s id, "quoted"') }) },
  responses: {
    200: {
      description: 'The note.',
      content: {
        'application/json': { schema: successEnvelopeSchema(z.object({ text: z.string() })) },
      },
    },
  },
});

async function docsPage() {
  const app = createApp(offlineDeps().deps);
  app.openapi(hostileRoute, (c) => ok(c, { text: c.req.valid('param').noteId }, 200));
  const res = await app.request('/docs');
  return { res, html: await res.text() };
}

describe('GET /docs', () => {
  it('is an HTML page listing every operation with its method and path', async () => {
    const { res, html } = await docsPage();
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(html).toMatch(/^<!doctype html>/);
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/health/ready'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
      ['GET', '/v1/notes/{noteId}'],
    ]) {
      expect(html).toContain(`${method}</span> <code>${path}</code>`);
    }
    expect(html).toContain('<h2>Health</h2>');
    expect(html).toContain('id="schema-ErrorEnvelope"');
    expect(html).toContain('<a href="openapi.json">');
  });

  it('shows parameters, responses and their schemas as JSON', async () => {
    const { html } = await docsPage();
    expect(html).toContain('<td><code>noteId</code></td><td>path</td><td>required</td>');
    expect(html).toContain('<code>503</code>');
    expect(html).toContain('(InternalError)');
    // A reference to a shared schema links to it on the same page.
    expect(html).toContain(
      '<a href="#schema-ErrorEnvelope">&quot;#/components/schemas/ErrorEnvelope&quot;</a>',
    );
  });

  it('escapes everything that comes from the document', async () => {
    const { html } = await docsPage();
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;summary&quot;)&lt;/script&gt;');
    expect(html).toContain('Notes &lt;b&gt;');
    expect(html).toContain('The note&#39;s id, &quot;quoted&quot;');
    expect(html).toContain('see <code>noteId</code> &amp; friends.');
  });

  it('loads nothing from elsewhere and styles itself with the CSP nonce', async () => {
    const { res, html } = await docsPage();
    const csp = res.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html.match(/<style/g)).toHaveLength(1);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('gets a fresh nonce on each request', async () => {
    const app = createApp(offlineDeps().deps);
    const nonces = await Promise.all(
      [1, 2].map(
        async () => /nonce="([^"]+)"/.exec(await (await app.request('/docs')).text())?.[1],
      ),
    );
    expect(nonces[0]).not.toBe(nonces[1]);
  });
});
