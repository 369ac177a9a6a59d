// The QStash REST API as @upstash/qstash calls it: Bearer auth on every call, then one route per
// endpoint. Destinations are URLs embedded in the path (`/v2/publish/https://host/path?query`) or
// URL group names, so publish-style routes take the rest of the path and the query string as the
// destination.
import { timingSafeEqual } from 'node:crypto';
import type { ApiContext } from './context.ts';
import { errorResponse } from './responses.ts';
import * as flowControl from './routes-flow-control.ts';
import * as logs from './routes-logs.ts';
import * as messages from './routes-messages.ts';
import * as publishing from './routes-publish.ts';
import * as queues from './routes-queues.ts';
import * as schedules from './routes-schedules.ts';
import * as urlGroups from './routes-url-groups.ts';

type Handler = () => Response | Promise<Response>;

function authorized(request: Request, token: string): boolean {
  const given = Buffer.from(request.headers.get('authorization') ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const notFound = () => errorResponse({ status: 404, message: 'not found' });
const methodNotAllowed = () => errorResponse({ status: 405, message: 'method not allowed' });

/** Picks the handler for the request's method among those a path supports. */
function byMethod(
  request: Request,
  handlers: Record<string, Handler>,
): Promise<Response> | Response {
  const handler = handlers[request.method];
  return handler ? handler() : methodNotAllowed();
}

function rest(pathname: string, prefix: string, search: string): string {
  return pathname.slice(prefix.length) + search;
}

export function createApi(context: ApiContext, token: string) {
  return async (request: Request): Promise<Response> => {
    if (!authorized(request, token)) {
      return errorResponse({ status: 401, message: 'Unauthorized' });
    }
    const url = new URL(request.url);
    const { pathname, searchParams: params, search } = url;
    const segments = pathname.split('/').slice(1);
    const [version, resource, id, action] = segments;
    if (version !== 'v2') return notFound();

    switch (resource) {
      case 'publish':
        if (segments.length < 3) return notFound();
        return byMethod(request, {
          POST: () => publishing.publish(context, rest(pathname, '/v2/publish/', search), request),
        });
      case 'enqueue': {
        if (segments.length < 4 || id === undefined) return notFound();
        const destination = rest(pathname, `/v2/enqueue/${id}/`, search);
        return byMethod(request, {
          POST: () => publishing.publish(context, destination, request, id),
        });
      }
      case 'batch':
        if (segments.length !== 2) return notFound();
        return byMethod(request, { POST: () => publishing.batch(context, request) });
      case 'messages':
        if (segments.length === 2) {
          return byMethod(request, { DELETE: () => messages.cancelMessages(context, params) });
        }
        if (segments.length !== 3 || !id) return notFound();
        return byMethod(request, {
          GET: () => messages.getMessage(context, id),
          DELETE: () => messages.cancelMessage(context, id),
        });
      case 'dlq':
        if (segments.length === 2) {
          return byMethod(request, {
            GET: () => messages.listDlq(context, params),
            DELETE: () => messages.deleteDlqMany(context, params),
          });
        }
        if (segments.length !== 3 || !id) return notFound();
        if (id === 'retry') {
          return byMethod(request, { POST: () => messages.retryDlq(context, params) });
        }
        return byMethod(request, {
          GET: () => messages.getDlq(context, id),
          DELETE: () => messages.deleteDlq(context, id),
        });
      case 'queues':
        if (segments.length === 2) {
          return byMethod(request, {
            GET: () => queues.listQueues(context),
            POST: () => queues.upsertQueue(context, request),
          });
        }
        if (!id) return notFound();
        if (segments.length === 4 && (action === 'pause' || action === 'resume')) {
          return byMethod(request, {
            POST: () => queues.setQueuePaused(context, id, action === 'pause'),
          });
        }
        if (segments.length !== 3) return notFound();
        return byMethod(request, {
          GET: () => queues.getQueue(context, id),
          DELETE: () => queues.deleteQueue(context, id),
        });
      case 'schedules':
        if (segments.length === 2) {
          return byMethod(request, { GET: () => schedules.listSchedules(context) });
        }
        if (!id) return notFound();
        if (request.method === 'POST') {
          return schedules.createSchedule(
            context,
            rest(pathname, '/v2/schedules/', search),
            request,
          );
        }
        if (segments.length === 4 && (action === 'pause' || action === 'resume')) {
          return byMethod(request, {
            PATCH: () => schedules.setSchedulePaused(context, id, action === 'pause'),
          });
        }
        if (segments.length !== 3) return notFound();
        return byMethod(request, {
          GET: () => schedules.getSchedule(context, id),
          DELETE: () => schedules.deleteSchedule(context, id),
        });
      case 'topics':
        if (segments.length === 2) {
          return byMethod(request, { GET: () => urlGroups.listUrlGroups(context) });
        }
        if (!id) return notFound();
        if (segments.length === 4 && action === 'endpoints') {
          return byMethod(request, {
            POST: () => urlGroups.addEndpoints(context, id, request),
            DELETE: () => urlGroups.removeEndpoints(context, id, request),
          });
        }
        if (segments.length !== 3) return notFound();
        return byMethod(request, {
          GET: () => urlGroups.getUrlGroup(context, id),
          DELETE: () => urlGroups.deleteUrlGroup(context, id),
        });
      case 'events':
      case 'logs':
        if (segments.length !== 2) return notFound();
        return byMethod(request, {
          GET: () => logs.listLogs(context, params, resource === 'events' ? 'events' : 'logs'),
        });
      case 'globalParallelism':
        if (segments.length !== 2) return notFound();
        return byMethod(request, { GET: () => flowControl.getGlobalParallelism(context) });
      case 'flowControl': {
        if (!id) return notFound();
        const key = decodeURIComponent(id);
        if (segments.length === 3) {
          return byMethod(request, { GET: () => flowControl.getFlowControl(context, key) });
        }
        if (segments.length !== 4) return notFound();
        const flowActions: Record<string, Handler> = {
          pause: () => flowControl.setFlowControlPaused(context, key, true),
          resume: () => flowControl.setFlowControlPaused(context, key, false),
          pin: () => flowControl.pinFlowControl(context, key, params),
          unpin: () => flowControl.unpinFlowControl(context, key, params),
          resetRate: () => flowControl.resetFlowControlRate(context, key),
        };
        const handler = action === undefined ? undefined : flowActions[action];
        return handler ? byMethod(request, { POST: handler }) : notFound();
      }
      default:
        return notFound();
    }
  };
}
