// Errors are values: every parser and API operation returns one of these instead of throwing, and
// the router turns an ApiError into QStash's `{"error": "..."}` answer.

export interface ApiError {
  status: number;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(status: number, message: string): Result<T> {
  return { ok: false, error: { status, message } };
}
