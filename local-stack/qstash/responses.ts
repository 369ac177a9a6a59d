// How the API answers: JSON bodies, and errors as QStash's `{"error": "..."}`.
import type { ApiError, Result } from './result.ts';

export function json(data: unknown, status = 200): Response {
  return Response.json(data, { status });
}

export function empty(status = 200): Response {
  return new Response(null, { status });
}

export function errorResponse(error: ApiError): Response {
  return Response.json({ error: error.message }, { status: error.status });
}

export function respond<T>(result: Result<T>, toResponse: (value: T) => Response): Response {
  return result.ok ? toResponse(result.value) : errorResponse(result.error);
}
