// The logs: GET /v2/events (what @upstash/qstash's `logs()` and `events()` call, answering
// `events`) and GET /v2/logs (the newer path, answering `logs`). Newest first; a cursor names the
// position after which the next page starts, so a cursor of Date.now() reads from the newest.
import type { ApiContext } from './context.ts';
import { matchesFilter } from './filters.ts';
import type { LogEvent } from './model.ts';
import { json } from './responses.ts';
import { logView } from './views.ts';

const defaultCount = 100;
const maxCount = 1000;
const scanChunk = 500;

export function listLogs(
  { store }: ApiContext,
  params: URLSearchParams,
  field: 'events' | 'logs',
): Response {
  const asked = Number(params.get('count') ?? defaultCount);
  const count = Number.isInteger(asked) && asked > 0 ? Math.min(asked, maxCount) : defaultCount;
  const cursor = Number(params.get('cursor') ?? Number.NaN);
  let before = Number.isFinite(cursor) && cursor > 0 ? cursor : Number.MAX_SAFE_INTEGER;
  const matches: { seq: number; event: LogEvent }[] = [];
  // One more than a page tells whether another page follows.
  while (matches.length <= count) {
    const chunk = store.listEvents(before, scanChunk);
    for (const entry of chunk) {
      const { event } = entry;
      const subject = {
        messageId: event.messageId,
        settings: event.settings,
        at: event.time,
        state: event.state,
        ...(event.responseStatus !== undefined && { responseStatus: event.responseStatus }),
      };
      if (matchesFilter(params, subject)) matches.push(entry);
    }
    const last = chunk.at(-1);
    if (chunk.length < scanChunk || last === undefined) break;
    before = last.seq;
  }
  const page = matches.slice(0, count);
  const next = matches.length > count ? page.at(-1)?.seq : undefined;
  return json({
    ...(next !== undefined && { cursor: String(next) }),
    [field]: page.map(({ event }) => logView(event)),
  });
}
