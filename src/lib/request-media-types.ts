// Which media types each operation takes its body in, read from the app's own OpenAPI definitions,
// so a 415 can tell the client what to send instead of only what it may not. A route left out of
// the document (`hide: true`) is not listed, and its 415 keeps the generic message.

/** The part of an OpenAPI route definition this needs. */
interface RouteDefinition {
  type: string;
  route?: {
    method: string;
    path: string;
    request?: { body?: { content?: Record<string, unknown> } };
  };
}

/** Hono's `/v1/users/:id` (or `:id{[0-9]+}`) as OpenAPI writes it: `/v1/users/{id}`. */
function openApiPath(routePath: string): string {
  return routePath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
}

/** Reads the definitions on first use, once every route is registered. */
export function mediaTypeIndex(
  definitions: () => readonly RouteDefinition[],
): (method: string, routePath: string) => string[] {
  let table: Map<string, string[]> | undefined;
  return (method, routePath) => {
    table ??= new Map(
      definitions().flatMap(({ type, route }) =>
        type === 'route' && route?.request?.body?.content !== undefined
          ? [
              [
                `${route.method.toUpperCase()} ${route.path}`,
                Object.keys(route.request.body.content),
              ],
            ]
          : [],
      ),
    );
    return table.get(`${method.toUpperCase()} ${openApiPath(routePath)}`) ?? [];
  };
}
