// POST /v2/publish/{destination}, POST /v2/enqueue/{queue}/{destination} and POST /v2/batch.
import { type ApiContext, isRecord, readJson } from './context.ts';
import { newMessage } from './model.ts';
import { type ParsedPublish, parsePublish, validateName } from './publish-request.ts';
import { errorResponse, json } from './responses.ts';
import { fail, ok, type Result } from './result.ts';

const deduplicationWindowMs = 90 * 24 * 3_600_000;

interface Accepted {
  messageId: string;
  url: string;
  deduplicated?: true;
}

interface Publication {
  parsed: ParsedPublish;
  body: Uint8Array;
  queueName?: string;
}

/** Stores one message (or finds the one it duplicates); call inside a store transaction. */
function accept({ store, now }: ApiContext, { parsed, body, queueName }: Publication): Accepted {
  const at = now();
  const { settings, deduplicationKey } = parsed;
  if (deduplicationKey !== undefined) {
    const existing = store.findDeduplicated(deduplicationKey, at);
    if (existing !== undefined)
      return { messageId: existing, url: settings.url, deduplicated: true };
  }
  const firstAttemptAt = parsed.notBeforeMs ?? at + parsed.delayMs;
  const message = newMessage(
    { ...settings, ...(queueName !== undefined && { queueName }) },
    body,
    at,
    firstAttemptAt,
  );
  if (queueName !== undefined) store.ensureQueue(queueName, at);
  store.insertMessage(message);
  if (deduplicationKey !== undefined) {
    store.rememberDeduplication(deduplicationKey, message.messageId, at + deduplicationWindowMs);
  }
  return { messageId: message.messageId, url: settings.url };
}

export async function publish(
  context: ApiContext,
  destination: string,
  request: Request,
  queueName?: string,
): Promise<Response> {
  if (queueName !== undefined) {
    const name = validateName(queueName, 'queue name');
    if (!name.ok) return errorResponse(name.error);
  }
  const body = new Uint8Array(await request.arrayBuffer());
  const parsed = parsePublish(destination, request.headers, body);
  if (!parsed.ok) return errorResponse(parsed.error);
  const publication = { parsed: parsed.value, body, ...(queueName !== undefined && { queueName }) };
  const accepted = context.store.transaction(() => accept(context, publication));
  context.dispatcher.pump();
  return json(accepted, accepted.deduplicated ? 202 : 201);
}

function parseBatchItem(item: unknown, index: number): Result<Publication> {
  if (!isRecord(item) || typeof item.destination !== 'string') {
    return fail(400, `invalid batch item ${index}: "destination" must be a string`);
  }
  const headers = new Headers();
  if (item.headers !== undefined) {
    if (!isRecord(item.headers)) return fail(400, `invalid batch item ${index}: bad "headers"`);
    for (const [name, value] of Object.entries(item.headers)) {
      if (typeof value !== 'string') return fail(400, `invalid batch item ${index}: bad "headers"`);
      headers.append(name, value);
    }
  }
  if (item.body !== undefined && typeof item.body !== 'string') {
    return fail(400, `invalid batch item ${index}: "body" must be a string`);
  }
  if (item.queue !== undefined) {
    const queue =
      typeof item.queue === 'string' ? validateName(item.queue, 'queue name') : undefined;
    if (!queue?.ok) return fail(400, `invalid batch item ${index}: bad "queue"`);
  }
  const body = new TextEncoder().encode(item.body ?? '');
  const parsed = parsePublish(item.destination, headers, body);
  if (!parsed.ok) return parsed;
  return ok({
    parsed: parsed.value,
    body,
    ...(typeof item.queue === 'string' && { queueName: item.queue }),
  });
}

export async function batch(context: ApiContext, request: Request): Promise<Response> {
  const payload = await readJson(request);
  if (!payload.ok) return errorResponse(payload.error);
  if (!Array.isArray(payload.value)) {
    return errorResponse({ status: 400, message: 'invalid request body: expected an array' });
  }
  const publications: Publication[] = [];
  for (const [index, item] of payload.value.entries()) {
    const publication = parseBatchItem(item, index);
    if (!publication.ok) return errorResponse(publication.error);
    publications.push(publication.value);
  }
  const accepted = context.store.transaction(() =>
    publications.map((publication) => accept(context, publication)),
  );
  context.dispatcher.pump();
  return json(accepted, 201);
}
