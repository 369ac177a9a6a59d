// Queues: upsert (POST /v2/queues), list, get, delete, pause and resume.
import { type ApiContext, isRecord, readJson } from './context.ts';
import { cancelPending } from './message-log.ts';
import { validateName } from './publish-request.ts';
import { empty, errorResponse, json } from './responses.ts';
import { queueView } from './views.ts';

function notFound(name: string) {
  return errorResponse({ status: 404, message: `queue ${name} not found` });
}

export async function upsertQueue(context: ApiContext, request: Request): Promise<Response> {
  const payload = await readJson(request);
  if (!payload.ok) return errorResponse(payload.error);
  const body = payload.value;
  if (!isRecord(body) || typeof body.queueName !== 'string') {
    return errorResponse({ status: 400, message: 'invalid request body: queueName is required' });
  }
  const name = validateName(body.queueName, 'queue name');
  if (!name.ok) return errorResponse(name.error);
  const parallelism = body.parallelism ?? 1;
  if (typeof parallelism !== 'number' || !Number.isInteger(parallelism) || parallelism < 1) {
    return errorResponse({ status: 400, message: 'parallelism must be a positive integer' });
  }
  const paused = body.paused ?? false;
  if (typeof paused !== 'boolean') {
    return errorResponse({ status: 400, message: 'paused must be a boolean' });
  }
  context.store.upsertQueue(name.value, parallelism, paused, context.now());
  context.dispatcher.pump();
  return empty();
}

export function listQueues({ store }: ApiContext): Response {
  return json(store.listQueues().map((queue) => queueView(queue, store.queueLag(queue.name))));
}

export function getQueue({ store }: ApiContext, name: string): Response {
  const queue = store.getQueue(name);
  return queue ? json(queueView(queue, store.queueLag(name))) : notFound(name);
}

/** Its pending messages go with it, logged as cancelled. */
export function deleteQueue({ store, dispatcher, now }: ApiContext, name: string): Response {
  const at = now();
  const result = store.transaction(() => {
    if (!store.getQueue(name)) return undefined;
    const pending = store
      .listMessages()
      .filter((message) => message.settings.queueName === name)
      .map((message) => message.messageId);
    const cancelled = cancelPending(store, pending, at);
    store.deleteQueue(name);
    return cancelled;
  });
  if (result === undefined) return notFound(name);
  dispatcher.abort(result);
  return empty();
}

export function setQueuePaused(context: ApiContext, name: string, paused: boolean): Response {
  if (!context.store.setQueuePaused(name, paused, context.now())) return notFound(name);
  context.dispatcher.pump();
  return empty();
}
