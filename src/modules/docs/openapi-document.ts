// The OpenAPI 3.1 document, generated from the route definitions whose schemas also validate the
// requests, then completed with what every operation shares (the standard error responses) and
// the list of tags in use, so routes added by any module appear without touching this file.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Config } from '../../config.ts';
import { errorRef, type StandardErrorStatus } from './error-responses.ts';

export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type Operation = NonNullable<NonNullable<OpenApiDocument['paths']>[string]['get']>;

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const description = [
  'Every answer is a JSON envelope: `{ success, data?, error?: { code, message, details? },',
  'pagination?, meta: { timestamp, requestId, version } }`. Errors carry a stable `error.code`;',
  'the status follows from the code. Every response has an `X-Request-Id` header; send a',
  'well-formed one to have it kept.',
].join(' ');

const tagDescriptions: Record<string, string> = {
  Health: 'Liveness and readiness probes. Never rate limited.',
  Docs: 'This document and its HTML rendering.',
};

export function operationsOf(
  document: OpenApiDocument,
): { path: string; method: string; operation: Operation }[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = item[method];
      return operation === undefined ? [] : [{ path, method, operation }];
    }),
  );
}

/** Errors any operation of its kind can answer with, whether or not its route lists them. */
function sharedErrors(operation: Operation): StandardErrorStatus[] {
  const statuses: StandardErrorStatus[] = [500];
  const hasInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
  if (hasInput) statuses.push(422);
  if (operation.requestBody !== undefined) statuses.push(400, 413, 415);
  return statuses;
}

export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, config: Config): OpenApiDocument {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'nexus-edge', version: config.API_VERSION, description },
    // Relative: the document describes whichever deployment serves it.
    servers: [{ url: '/', description: 'The deployment serving this document' }],
  });
  const tags: string[] = [];
  for (const { operation } of operationsOf(document)) {
    operation.responses ??= {};
    for (const status of sharedErrors(operation)) operation.responses[status] ??= errorRef(status);
    for (const tag of operation.tags ?? []) if (!tags.includes(tag)) tags.push(tag);
  }
  document.tags = tags.map((name) =>
    tagDescriptions[name] === undefined ? { name } : { name, description: tagDescriptions[name] },
  );
  return document;
}
