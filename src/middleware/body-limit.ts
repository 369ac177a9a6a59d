// Refuses bodies over the configured size before anything reads them, with the 413 envelope.
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { errorResponse } from '../lib/envelope.ts';
import { AppError } from '../lib/errors.ts';

export const bodyLimit = (maxBytes: number) =>
  honoBodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      errorResponse(
        c,
        new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`, {
          details: { maxBytes },
        }),
      ),
  });
