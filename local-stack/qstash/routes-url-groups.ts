// URL groups (QStash's former "topics", still their path): add endpoints (creating the group if
// needed), remove endpoints, list, get and delete. Messages already published to a group are
// separate messages by then: changing or deleting the group does not touch them.
import { type ApiContext, isRecord, readJson } from './context.ts';
import type { Endpoint } from './model.ts';
import { validateName, validateUrl } from './publish-request.ts';
import { empty, errorResponse, json } from './responses.ts';
import { fail, ok, type Result } from './result.ts';
import { urlGroupView } from './views.ts';

function notFound(name: string) {
  return errorResponse({ status: 404, message: `url group ${name} not found` });
}

/** The `endpoints` array of an add (url required) or remove (name or url) request body. */
async function readEndpoints(
  request: Request,
  need: 'url' | 'name or url',
): Promise<Result<Partial<Endpoint>[]>> {
  const payload = await readJson(request);
  if (!payload.ok) return payload;
  const list = isRecord(payload.value) ? payload.value.endpoints : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    return fail(400, 'invalid request body: endpoints must be a non-empty array');
  }
  const endpoints: Partial<Endpoint>[] = [];
  for (const item of list) {
    if (!isRecord(item)) return fail(400, 'invalid request body: each endpoint must be an object');
    const { name, url } = item;
    if (name !== undefined) {
      const valid = typeof name === 'string' ? validateName(name, 'endpoint name') : undefined;
      if (!valid?.ok) return fail(400, `invalid endpoint name: ${String(name)}`);
    }
    if (url !== undefined) {
      const valid = typeof url === 'string' ? validateUrl(url, 'endpoint') : undefined;
      if (!valid?.ok) return valid ?? fail(400, 'invalid endpoint url');
    }
    if (url === undefined && (need === 'url' || name === undefined)) {
      return fail(
        400,
        `invalid request body: each endpoint needs ${need === 'url' ? 'a url' : 'a name or url'}`,
      );
    }
    endpoints.push({
      ...(typeof name === 'string' && { name }),
      ...(typeof url === 'string' && { url }),
    });
  }
  return ok(endpoints);
}

/**
 * Adds each endpoint unless the group has it already: a named endpoint replaces the one of the
 * same name (or names an unnamed one with its URL), an unnamed one is skipped when its URL is there.
 */
function merge(existing: Endpoint[], added: Endpoint[]): Endpoint[] {
  const endpoints = [...existing];
  for (const endpoint of added) {
    const sameName = endpoints.findIndex(
      (e) => endpoint.name !== undefined && e.name === endpoint.name,
    );
    const sameUrl = endpoints.findIndex(
      (e) => e.url === endpoint.url && (endpoint.name === undefined || e.name === undefined),
    );
    const index = sameName >= 0 ? sameName : sameUrl;
    if (index < 0) endpoints.push(endpoint);
    else if (endpoint.name !== undefined) endpoints[index] = endpoint;
  }
  return endpoints;
}

export async function addEndpoints(
  { store, now }: ApiContext,
  name: string,
  request: Request,
): Promise<Response> {
  const valid = validateName(name, 'url group name');
  if (!valid.ok) return errorResponse(valid.error);
  const endpoints = await readEndpoints(request, 'url');
  if (!endpoints.ok) return errorResponse(endpoints.error);
  const at = now();
  store.transaction(() => {
    const group = store.getUrlGroup(name);
    store.upsertUrlGroup({
      name,
      endpoints: merge(
        group?.endpoints ?? [],
        endpoints.value.flatMap(({ url, ...rest }) =>
          url === undefined ? [] : [{ ...rest, url }],
        ),
      ),
      createdAt: group?.createdAt ?? at,
      updatedAt: at,
    });
  });
  return empty();
}

/** An endpoint goes when it matches every field the request gives (name, url or both). */
export async function removeEndpoints(
  { store, now }: ApiContext,
  name: string,
  request: Request,
): Promise<Response> {
  const removed = await readEndpoints(request, 'name or url');
  if (!removed.ok) return errorResponse(removed.error);
  const found = store.transaction(() => {
    const group = store.getUrlGroup(name);
    if (!group) return false;
    const matches = (endpoint: Endpoint) =>
      removed.value.some(
        (gone) =>
          (gone.name === undefined || gone.name === endpoint.name) &&
          (gone.url === undefined || gone.url === endpoint.url),
      );
    store.upsertUrlGroup({
      ...group,
      endpoints: group.endpoints.filter((endpoint) => !matches(endpoint)),
      updatedAt: now(),
    });
    return true;
  });
  return found ? empty() : notFound(name);
}

export function listUrlGroups({ store }: ApiContext): Response {
  return json(store.listUrlGroups().map(urlGroupView));
}

export function getUrlGroup({ store }: ApiContext, name: string): Response {
  const group = store.getUrlGroup(name);
  return group ? json(urlGroupView(group)) : notFound(name);
}

export function deleteUrlGroup({ store }: ApiContext, name: string): Response {
  return store.deleteUrlGroup(name) ? empty() : notFound(name);
}
