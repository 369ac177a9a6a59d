// POST /v2/publish/{destination}, POST /v2/enqueue/{queue}/{destination} and POST /v2/batch. A
// destination is a URL or a URL group's name; a group gets one message per endpoint and the answer
// lists them all, as QStash answers a URL-group publish.
import { type ApiContext, isRecord, readJson } from './context.ts';
import { type Destination, fanOut, resolveDestination } from './destinations.ts';
import { addMessage } from './message-log.ts';
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
  destination: Destination;
  queueName?: string;
}

/** A single URL answers one object, a URL group an array with one per endpoint. */
type Answer = Accepted | Accepted[];

/**
 * Stores the messages of one publication (or finds those they duplicate); call inside a store
 * transaction. Each endpoint of a group is deduplicated on its own.
 */
function accept(context: ApiContext, publication: Publication): Answer {
  const { store, now } = context;
  const { parsed, body, destination, queueName } = publication;
  const at = now();
  const accepted = fanOut(parsed.settings, destination).map((settings): Accepted => {
    const key =
      parsed.deduplicationKey === undefined
        ? undefined
        : destination.kind === 'url'
          ? parsed.deduplicationKey
          : `${parsed.deduplicationKey}\n${settings.url}`;
    if (key !== undefined) {
      const existing = store.findDeduplicated(key, at);
      if (existing !== undefined) {
        return { messageId: existing, url: settings.url, deduplicated: true };
      }
    }
    const firstAttemptAt = parsed.notBeforeMs ?? at + parsed.delayMs;
    const message = newMessage(
      { ...settings, ...(queueName !== undefined && { queueName }) },
      body,
      at,
      firstAttemptAt,
    );
    if (queueName !== undefined) store.ensureQueue(queueName, at);
    addMessage(store, message, at);
    if (key !== undefined) {
      store.rememberDeduplication(key, message.messageId, at + deduplicationWindowMs);
    }
    return { messageId: message.messageId, url: settings.url };
  });
  return destination.kind === 'url' && accepted[0] !== undefined ? accepted[0] : accepted;
}

function allDeduplicated(answer: Answer): boolean {
  const list = Array.isArray(answer) ? answer : [answer];
  return list.length > 0 && list.every((accepted) => accepted.deduplicated);
}

function readPublication(
  context: ApiContext,
  destinationText: string,
  headers: Headers,
  body: Uint8Array,
  queueName: string | undefined,
): Result<Publication> {
  const destination = resolveDestination(context.store, destinationText);
  if (!destination.ok) return destination;
  const parsed = parsePublish(destinationText, headers, body);
  if (!parsed.ok) return parsed;
  return ok({
    parsed: parsed.value,
    body,
    destination: destination.value,
    ...(queueName !== undefined && { queueName }),
  });
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
  const publication = readPublication(context, destination, request.headers, body, queueName);
  if (!publication.ok) return errorResponse(publication.error);
  const answer = context.store.transaction(() => accept(context, publication.value));
  context.dispatcher.pump();
  return json(answer, allDeduplicated(answer) ? 202 : 201);
}

function parseBatchItem(context: ApiContext, item: unknown, index: number): Result<Publication> {
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
  const queueName = typeof item.queue === 'string' ? item.queue : undefined;
  return readPublication(context, item.destination, headers, body, queueName);
}

/** One answer per item, in order; an item sent to a URL group answers the group's array. */
export async function batch(context: ApiContext, request: Request): Promise<Response> {
  const payload = await readJson(request);
  if (!payload.ok) return errorResponse(payload.error);
  if (!Array.isArray(payload.value)) {
    return errorResponse({ status: 400, message: 'invalid request body: expected an array' });
  }
  const publications: Publication[] = [];
  for (const [index, item] of payload.value.entries()) {
    const publication = parseBatchItem(context, item, index);
    if (!publication.ok) return errorResponse(publication.error);
    publications.push(publication.value);
  }
  const answers = context.store.transaction(() =>
    publications.map((publication) => accept(context, publication)),
  );
  context.dispatcher.pump();
  return json(answers, 201);
}
