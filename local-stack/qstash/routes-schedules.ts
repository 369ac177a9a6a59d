// Schedules: create or update in place (POST /v2/schedules/{destination} with Upstash-Cron and an
// optional Upstash-Schedule-Id), list, get, delete, pause and resume. The destination is a URL or a
// URL group, whose endpoints at each run get a message each.
import type { ApiContext } from './context.ts';
import { nextRunAfter, validateCron } from './cron.ts';
import { resolveDestination } from './destinations.ts';
import { newId } from './ids.ts';
import type { ScheduleRecord } from './model.ts';
import { parsePublish, validateName } from './publish-request.ts';
import { empty, errorResponse, json } from './responses.ts';
import { scheduleView } from './views.ts';

const notFound = () => errorResponse({ status: 404, message: 'schedule not found' });

export async function createSchedule(
  context: ApiContext,
  destination: string,
  request: Request,
): Promise<Response> {
  const { store, dispatcher, now } = context;
  const body = new Uint8Array(await request.arrayBuffer());
  const target = resolveDestination(store, destination);
  if (!target.ok) return errorResponse(target.error);
  const parsed = parsePublish(destination, request.headers, body);
  if (!parsed.ok) return errorResponse(parsed.error);
  const cron = validateCron(request.headers.get('upstash-cron') ?? '');
  if (!cron.ok) return errorResponse(cron.error);
  const id = validateName(
    request.headers.get('upstash-schedule-id') ?? newId('scd'),
    'schedule id',
  );
  if (!id.ok) return errorResponse(id.error);
  const queueName = request.headers.get('upstash-queue-name');
  if (queueName !== null) {
    const valid = validateName(queueName, 'queue name');
    if (!valid.ok) return errorResponse(valid.error);
  }

  const at = now();
  const existing = store.getSchedule(id.value);
  const schedule: ScheduleRecord = {
    scheduleId: id.value,
    cron: cron.value,
    settings: {
      ...parsed.value.settings,
      ...(queueName !== null && { queueName }),
      ...(target.value.kind === 'urlGroup' && { urlGroup: target.value.group.name }),
    },
    body,
    delayMs: parsed.value.delayMs,
    paused: existing?.paused ?? false,
    createdAt: existing?.createdAt ?? at,
  };
  const nextRunAt = nextRunAfter(cron.value, at);
  if (nextRunAt !== undefined) schedule.nextRunAt = nextRunAt;
  store.upsertSchedule(schedule);
  dispatcher.pump();
  return json({ scheduleId: id.value }, existing ? 200 : 201);
}

export function listSchedules({ store }: ApiContext): Response {
  return json(store.listSchedules().map(scheduleView));
}

export function getSchedule({ store }: ApiContext, id: string): Response {
  const schedule = store.getSchedule(id);
  return schedule ? json(scheduleView(schedule)) : notFound();
}

export function deleteSchedule({ store }: ApiContext, id: string): Response {
  return store.deleteSchedule(id) ? empty() : notFound();
}

export function setSchedulePaused(context: ApiContext, id: string, paused: boolean): Response {
  const { store, dispatcher, now } = context;
  const schedule = store.getSchedule(id);
  if (!schedule) return notFound();
  store.setScheduleState(id, paused, paused ? undefined : nextRunAfter(schedule.cron, now()));
  dispatcher.pump();
  return empty();
}
