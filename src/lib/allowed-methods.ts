// Which methods a path answers to, from the app's own route table: turns "no such route" into
// 405 with an Allow header when the path exists under another method.
import type { RouterRoute } from 'hono/types';

const wildcardMethods = new Set(['ALL']);

function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) {
        const custom = /^:[^{]+\{(.+)\}$/.exec(segment);
        return custom ? `(?:${custom[1]})` : '[^/]+';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  // Exactly as the router matches (strict: a trailing slash is another path), or a GET to
  // `/v1/me/` would be told 405 with `Allow: GET`.
  return new RegExp(`^${source}$`);
}

/** Reads the route table on first use, once every route is registered. */
export function methodIndex(routes: () => RouterRoute[]): (path: string) => string[] {
  let table: { method: string; pattern: RegExp }[] | undefined;
  return (path) => {
    table ??= routes()
      .filter((route) => !wildcardMethods.has(route.method) && route.path !== '/*')
      .map((route) => ({ method: route.method, pattern: patternOf(route.path) }));
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
