// A request as an API client sends it: from an address, with an optional bearer token and JSON body.
export interface JsonRequestOptions {
  ip: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export function jsonRequest(method: string, options: JsonRequestOptions): RequestInit {
  const headers: Record<string, string> = { 'cf-connecting-ip': options.ip, ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body === undefined) return { method, headers };
  headers['content-type'] = 'application/json';
  return { method, headers, body: JSON.stringify(options.body) };
}
