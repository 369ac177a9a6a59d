// The two pages of the web app that the account emails link to (PUBLIC_APP_URL), standing in for
// it in `npm run dev`: opening the verification link verifies the email, and the reset link asks
// for a new password. Each calls the API exactly as a web app would, and shows what it answered.
import { escapeHtml } from '../../src/lib/html.ts';

function page(title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 36rem; padding: 0 1rem; }</style>
</head>
<body><h1>${escapeHtml(title)}</h1>${body}<p><a href="/">Back to the mailbox</a></p></body>
</html>
`;
  return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } });
}

async function callApi(apiUrl: string, path: string, body: unknown): Promise<string> {
  const response = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.ok) return '';
  const answer = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string };
  };
  return `${response.status} ${answer.error?.code ?? ''}: ${answer.error?.message ?? 'no message'}`;
}

function outcome(problem: string, success: string): string {
  return problem === ''
    ? `<p>${escapeHtml(success)}</p>`
    : `<p>The API refused: <code>${escapeHtml(problem)}</code></p>`;
}

/** Answers /verify-email and /reset-password; undefined for any other path. */
export async function appPage(request: Request, apiUrl: string): Promise<Response | undefined> {
  const url = new URL(request.url);
  const token = url.searchParams.get('token') ?? '';
  if (url.pathname === '/verify-email' && request.method === 'GET') {
    const problem = await callApi(apiUrl, '/v1/auth/verify-email/confirm', { token });
    return page('Verify your email', outcome(problem, 'Your email is verified.'));
  }
  if (url.pathname !== '/reset-password') return undefined;
  if (request.method === 'POST') {
    const form = new URLSearchParams(await request.text());
    const problem = await callApi(apiUrl, '/v1/auth/password/reset', {
      token: form.get('token') ?? '',
      password: form.get('password') ?? '',
    });
    return page('Choose a new password', outcome(problem, 'Your password is changed.'));
  }
  return page(
    'Choose a new password',
    `<form method="post"><input type="hidden" name="token" value="${escapeHtml(token)}">
<label>New password <input type="password" name="password" autocomplete="new-password" required></label>
<button>Set password</button></form>`,
  );
}
