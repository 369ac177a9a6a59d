// The /docs page: plain server-rendered HTML built from the OpenAPI document. No script and no
// CDN, so it loads offline and under the API's CSP (default-src 'none'); its one inline style
// carries the request's CSP nonce. Every value from the document is escaped.
import { escapeHtml } from '../../lib/html.ts';
import { type OpenApiDocument, operationsOf } from './openapi-document.ts';

type Operation = ReturnType<typeof operationsOf>[number]['operation'];

const css = `
:root{color-scheme:light dark;--fg:#1d2127;--muted:#5b6470;--line:#d8dde3;--bg:#fff;--code:#f3f5f7}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa4b0;--line:#343a42;--bg:#16191d;--code:#20242a}}
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header,main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}
header{border-bottom:1px solid var(--line)}
h1{margin:.2rem 0}h1 small{color:var(--muted);font-weight:400}
nav a{margin-right:1rem}a{color:#2f6fdb}
h2{margin-top:2rem;border-bottom:1px solid var(--line)}
article{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem;margin:1rem 0}
h3{font-size:1rem}h4{margin:.8rem 0 .3rem;color:var(--muted);font-size:.85rem;text-transform:uppercase}
.m{display:inline-block;min-width:4.2rem;padding:.1rem .4rem;border-radius:4px;color:#fff;text-align:center;font:600 .8rem ui-monospace,monospace}
.get{background:#2f7d4f}.post{background:#2f6fdb}.put,.patch{background:#b7791f}.delete{background:#c53030}.other{background:#666}
code,pre{font-family:ui-monospace,monospace;font-size:.85rem;background:var(--code);border-radius:4px}
code{padding:0 .25rem}pre{padding:.6rem;overflow:auto}
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.3rem .5rem;border-top:1px solid var(--line)}
summary{cursor:pointer;color:var(--muted)}.muted{color:var(--muted)}
`;

/** Escaped text, with `code spans` (the documents' only markup) kept. */
function prose(text: string | undefined): string {
  return text === undefined ? '' : escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const schemaRef = /&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g;

function json(value: unknown): string {
  const text = escapeHtml(JSON.stringify(value, null, 2));
  return `<pre>${text.replace(schemaRef, '<a href="#schema-$1">$&</a>')}</pre>`;
}

function isRef(value: unknown): value is { $ref: string } {
  return typeof value === 'object' && value !== null && '$ref' in value;
}

function content(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('content' in body)) return '';
  const types = Object.entries(body.content as Record<string, { schema?: unknown }>);
  return types
    .map(([type, media]) =>
      media.schema === undefined
        ? `<code>${escapeHtml(type)}</code>`
        : `<details><summary>${escapeHtml(type)}</summary>${json(media.schema)}</details>`,
    )
    .join('');
}

function parameters(operation: Operation): string {
  const list = (operation.parameters ?? []).flatMap((p) => (isRef(p) ? [] : [p]));
  if (list.length === 0) return '';
  const rows = list.map(
    (p) =>
      `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td>` +
      `<td>${p.required ? 'required' : 'optional'}</td><td>${json(p.schema ?? {})}</td>` +
      `<td>${prose(p.description)}</td></tr>`,
  );
  return `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th></th><th>Schema</th><th>Description</th></tr>${rows.join('')}</table>`;
}

function responses(operation: Operation, document: OpenApiDocument): string {
  const shared = document.components?.responses ?? {};
  const rows = Object.entries(operation.responses ?? {}).map(([status, response]) => {
    const name = isRef(response) ? response.$ref.split('/').pop() : undefined;
    const resolved = name === undefined ? response : shared[name];
    const label = name === undefined ? '' : ` <span class="muted">(${escapeHtml(name)})</span>`;
    const described =
      resolved !== undefined && 'description' in resolved ? resolved.description : '';
    return `<tr><td><code>${escapeHtml(status)}</code>${label}</td><td>${prose(described)}${content(resolved)}</td></tr>`;
  });
  return `<h4>Responses</h4><table>${rows.join('')}</table>`;
}

function operationHtml(
  method: string,
  path: string,
  operation: Operation,
  document: OpenApiDocument,
): string {
  const badge = ['get', 'post', 'put', 'patch', 'delete'].includes(method) ? method : 'other';
  const body = operation.requestBody;
  return [
    `<article id="${escapeHtml(`${method}-${path}`)}">`,
    `<h3><span class="m ${badge}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code> ${prose(operation.summary)}</h3>`,
    operation.description === undefined ? '' : `<p>${prose(operation.description)}</p>`,
    parameters(operation),
    body === undefined || isRef(body)
      ? ''
      : `<h4>Request body</h4>${prose(body.description)}${content(body)}`,
    responses(operation, document),
    '</article>',
  ].join('');
}

export interface DocsPage {
  /** The page with its inline style allowed by `nonce` (the CSP nonce of the request). */
  html(nonce: string | undefined): string;
}

export function renderDocsPage(document: OpenApiDocument): DocsPage {
  const byTag = new Map<string, string[]>((document.tags ?? []).map((tag) => [tag.name, []]));
  for (const { path, method, operation } of operationsOf(document)) {
    const tag = operation.tags?.[0] ?? 'Other';
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag)?.push(operationHtml(method, path, operation, document));
  }
  const tagInfo = new Map((document.tags ?? []).map((tag) => [tag.name, tag.description]));
  const sections = [...byTag].map(
    ([tag, operations]) =>
      `<section id="tag-${escapeHtml(tag)}"><h2>${escapeHtml(tag)}</h2><p>${prose(tagInfo.get(tag))}</p>${operations.join('')}</section>`,
  );
  const schemas = Object.entries(document.components?.schemas ?? {}).map(
    ([name, schema]) =>
      `<details id="schema-${escapeHtml(name)}"><summary><code>${escapeHtml(name)}</code></summary>${json(schema)}</details>`,
  );
  const nav = [...byTag.keys(), 'Schemas'].map(
    (tag) =>
      `<a href="#${tag === 'Schemas' ? 'schemas' : `tag-${escapeHtml(tag)}`}">${escapeHtml(tag)}</a>`,
  );
  const { title, version } = document.info;
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} API</title>`;
  const rest = [
    `</head><body><header><h1>${escapeHtml(title)} <small>${escapeHtml(version)} · OpenAPI ${escapeHtml(document.openapi)}</small></h1>`,
    `<p>${prose(document.info.description)}</p>`,
    `<nav>${nav.join('')}<a href="openapi.json">openapi.json</a></nav></header>`,
    `<main>${sections.join('')}<section id="schemas"><h2>Schemas</h2>${schemas.join('')}</section></main></body></html>`,
  ].join('');
  return {
    html: (nonce) =>
      `${head}<style${nonce === undefined ? '' : ` nonce="${escapeHtml(nonce)}"`}>${css}</style>${rest}`,
  };
}
