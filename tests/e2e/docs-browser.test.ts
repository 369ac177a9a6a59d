// /docs in a real browser: headless Chromium (playwright-core driving the system's Chromium)
// against the real Worker bundle in workerd, static assets included, used as a developer uses it:
// the reference lists the operations, takes a signed-in user's access token in its
// authentication panel, and "try it" on GET /v1/me shows the Worker's 200. The browser may reach
// the Worker's origin only: any other request is refused and recorded, and so is anything the
// page's Content-Security-Policy blocks, so each test also proves the page works offline.
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docsBundleUrl } from '../../src/modules/docs/docs-page.ts';
import { type IdentityWorker, register, startIdentityWorker } from './harness/identity.ts';

const chromiumPath = '/usr/bin/chromium';
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const browserTestTimeoutMs = 30_000;

let worker: IdentityWorker;
let browser: Browser;

beforeAll(async () => {
  worker = await startIdentityWorker();
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
});

afterAll(async () => {
  await browser?.close();
  await worker?.close();
});

interface DocsTab {
  page: Page;
  /** Requests the page made to any origin but the Worker's, each refused. */
  offOrigin: string[];
  /** What the page's CSP blocked, as `directive blocked-uri`. */
  blocked: string[];
}

let context: BrowserContext | undefined;

afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function openDocs(): Promise<DocsTab> {
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const origin = worker.url.origin;
  const offOrigin: string[] = [];
  await context.route(
    (url) => url.origin !== origin,
    (route) => {
      offOrigin.push(route.request().url());
      return route.abort();
    },
  );
  // Injected by the browser itself, so the page's CSP does not apply to this listener.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.warn('csp-blocked ' + event.effectiveDirective + ' ' + event.blockedURI);
    });`,
  });
  const page = await context.newPage();
  // Well within the test's own limit, so a missing element fails naming its locator.
  page.setDefaultTimeout(10_000);
  const blocked: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    // Scalar's validator probes whether eval works (`Function('')` in a try) to pick its fast
    // path, and does without: that refusal is the policy working, not the page breaking.
    if (text.startsWith('csp-blocked ') && text !== 'csp-blocked script-src eval') {
      blocked.push(text.slice('csp-blocked '.length));
    }
  });
  await page.goto(new URL('/docs', worker.url).href);
  return { page, offOrigin, blocked };
}

function expectNothingRefused(tab: DocsTab): void {
  expect(tab.offOrigin).toEqual([]);
  expect(tab.blocked).toEqual([]);
}

describe('GET /docs in Chromium', () => {
  it('serves the reference script as a static asset, ahead of the Worker', async () => {
    const response = await worker.fetch(docsBundleUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    // Every answer of the Worker carries a request id; a static asset never reaches it.
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(await response.text()).toContain('createApiReference');
  });

  it(
    'lists the operations, from the Worker alone',
    async () => {
      const tab = await openDocs();
      const { page } = tab;
      await page.getByRole('heading', { name: 'nexus-edge', exact: true }).waitFor();
      // The first tag's operations are rendered at once; the others when navigated to. Headings
      // end with an invisible anchor character, hence the patterns.
      await page.getByRole('heading', { name: /^Liveness/ }).waitFor();
      await page.getByRole('heading', { name: /^Readiness/ }).waitFor();
      await page.goto(new URL('/docs#tag/users/GET/v1/me', worker.url).href);
      await page.getByRole('heading', { name: /^Your own profile/ }).waitFor();
      // Every tag has its group in the sidebar.
      for (const tag of ['Health', 'Auth', 'Users', 'API keys', 'Partners', 'Jobs', 'Docs']) {
        await page.getByText(tag, { exact: true }).first().waitFor();
      }
      expectNothingRefused(tab);
    },
    browserTestTimeoutMs,
  );

  it(
    'authorizes with an access token and runs "try it" on GET /v1/me: 200',
    async () => {
      const account = await register(worker, 'docs');
      const tab = await openDocs();
      const { page } = tab;
      // The document-wide authentication panel: what is entered here goes with every request.
      const token = page.getByPlaceholder('Token').first();
      await token.waitFor();
      await token.fill(account.session.accessToken);

      await page.goto(new URL('/docs#tag/users/GET/v1/me', worker.url).href);
      await page.getByRole('button', { name: 'Test Request (get /v1/me)' }).click();
      const client = page.getByRole('dialog');
      const sent = page.waitForResponse(
        (response) => new URL(response.url()).pathname === '/v1/me',
      );
      await client.getByRole('button', { name: /^Send get request to / }).click();

      const response = await sent;
      expect(response.status()).toBe(200);
      expect(response.request().headers().authorization).toBe(
        `Bearer ${account.session.accessToken}`,
      );
      await client.getByText('200 OK').waitFor();
      await client.getByText(account.email).first().waitFor();
      expectNothingRefused(tab);
    },
    browserTestTimeoutMs,
  );
});
