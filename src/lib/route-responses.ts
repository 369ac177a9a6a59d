// The request bodies and responses every module's routes describe, written once.
import type { z } from '@hono/zod-openapi';
import { errorEnvelopeSchema, successEnvelopeSchema } from './envelope.ts';

const errorContent = { 'application/json': { schema: errorEnvelopeSchema } };

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A success response: `data` in the envelope. */
export const success = <T extends Parameters<typeof successEnvelopeSchema>[0]>(
  description: string,
  data: T,
) => ({ description, content: { 'application/json': { schema: successEnvelopeSchema(data) } } });

/** An error response whose description names when it happens and its code. */
export const failure = (description: string) => ({ description, content: errorContent });

export const unauthorized = failure('No valid session or API key (code UNAUTHORIZED).');
export const forbidden = (what: string) => failure(`${what} (code FORBIDDEN).`);
export const invalid = (what: string) => failure(`${what} (code VALIDATION_FAILED).`);
export const notFound = (what: string) => failure(`${what} (code NOT_FOUND).`);
