// Query-string booleans: "true" or "false" and nothing else, so `?flag=1` or `?flag=yes` is a 422
// rather than a silent false.
import { z } from '@hono/zod-openapi';

const booleanText = z.enum(['true', 'false']);
const toBoolean = (value: 'true' | 'false') => value === 'true';

export const booleanQuery = (description: string) =>
  booleanText.transform(toBoolean).openapi({ description });

/** Absent means false; the default is the text, so the document shows "false" as sent. */
export const falseByDefault = (description: string) =>
  booleanText.default('false').transform(toBoolean).openapi({ description });
