// Files from a multipart/form-data upload, read as the bytes arrive and refused with a clear 4xx
// at the first thing wrong: the body is never buffered whole, and every limit is counted on the
// bytes that actually pass, so a false or missing Content-Length cannot carry more through.
//
// The parser (@remix-run/multipart-parser) hands over a part only once all of it has arrived, and
// buffers it until then, up to `maxFileSize`: so at most one part of at most `maxFileBytes` is in
// memory here at a time, handed to the caller as one copy once the parser's chunks are let go. It
// also means a part refused for its size cannot be named: its headers are not shown before it is
// whole, so the refusal gives its position in the body instead.
import {
  MaxFileSizeExceededError,
  MaxHeaderSizeExceededError,
  MaxPartsExceededError,
  MaxTotalSizeExceededError,
  MultipartParseError,
  type MultipartPart,
  parseMultipartStream,
} from '@remix-run/multipart-parser';
import { AppError } from './errors.ts';

export interface UploadLimits {
  /** The one field name files must come in (e.g. 'files' or 'avatar'). */
  field: string;
  maxFiles: number;
  maxFileBytes: number;
}

export interface UploadedFile {
  field: string;
  /** As the client sent it, unchecked: sanitize before storing or showing it. */
  filename: string | undefined;
  /** A copy of its own, so digests and stores that take only an ArrayBuffer accept it. */
  bytes: Uint8Array<ArrayBuffer>;
}

/** The parser's default: far above what any client sends for a part's few headers. */
const maxPartHeaderBytes = 8 * 1024;

/**
 * What a part may add around its content: its headers and the boundary lines before and after it
 * (RFC 2046 boundaries are at most 70 characters), rounded up generously.
 */
const partEnvelopeBytes = 2 * maxPartHeaderBytes;

/** The largest body the limits can ever take. */
export function maxUploadBytes(limits: UploadLimits): number {
  return limits.maxFiles * (limits.maxFileBytes + partEnvelopeBytes);
}

/**
 * Yields each file as soon as its part has arrived whole, so the caller can store it before the next
 * is read. A refusal can come after some files were yielded (the fourth file too large, the body
 * cut short): the caller discards what it kept of them. Stopping early (a `break`, or a throw in
 * the loop) cancels the rest of the body.
 */
export async function* readUploadedFiles(
  request: Request,
  limits: UploadLimits,
): AsyncGenerator<UploadedFile> {
  const body = request.body;
  let files = 0;
  try {
    const boundary = boundaryOf(request.headers.get('content-type'));
    refuseDeclaredLength(request.headers.get('content-length'), limits);
    if (body === null) {
      throw new AppError('MULTIPART_INVALID', 'The multipart body is empty');
    }
    const parts = parseMultipartStream(body, {
      boundary,
      maxHeaderSize: maxPartHeaderBytes,
      maxFileSize: limits.maxFileBytes,
      maxParts: limits.maxFiles,
      // Files each within maxFileBytes cannot pass this unless there are more of them than
      // maxFiles: a part too many is refused as its bytes arrive, not once it is whole.
      maxTotalSize: limits.maxFiles * limits.maxFileBytes,
    });
    for await (const part of parts) {
      files += 1;
      yield uploadedFile(part, limits);
    }
    if (files === 0) {
      throw new AppError('UPLOAD_FIELD_INVALID', `Send the file in the field '${limits.field}'`, {
        details: { expected: limits.field },
      });
    }
  } catch (error) {
    throw refusal(error, limits, files + 1);
  } finally {
    // Whatever ended the reading, the rest of the body is not wanted. A body that already failed
    // refuses the cancel, which changes nothing.
    void body?.cancel().catch(() => {});
  }
}

function boundaryOf(contentType: string | null): string {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'multipart/form-data') {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the upload as multipart/form-data', {
      details: { accepted: ['multipart/form-data'] },
    });
  }
  const boundary = /;\s*boundary=(?:"([^"]*)"|([^\s;]*))/i.exec(contentType ?? '');
  const value = boundary?.[1] ?? boundary?.[2] ?? '';
  if (value.length === 0 || value.length > 70) {
    throw new AppError(
      'MULTIPART_INVALID',
      'The Content-Type needs a boundary parameter of 1 to 70 characters',
    );
  }
  return value;
}

// Refused before a byte is read, as the whole body's size: a declared length says nothing of which
// file is too large, or whether there are only too many of them.
function refuseDeclaredLength(contentLength: string | null, limits: UploadLimits): void {
  const maxBytes = maxUploadBytes(limits);
  if (contentLength !== null && /^\d+$/.test(contentLength) && Number(contentLength) > maxBytes) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `An upload of at most ${limits.maxFiles} files of ${limits.maxFileBytes} bytes each cannot be ${contentLength} bytes long`,
      { details: { maxBytes } },
    );
  }
}

function uploadedFile(part: MultipartPart, limits: UploadLimits): UploadedFile {
  const { field } = limits;
  if (part.name !== field) {
    const got = part.name ?? null;
    throw new AppError(
      'UPLOAD_FIELD_INVALID',
      `Send files in the field '${field}' only${got === null ? '' : `, not in '${got}'`}`,
      { details: { expected: field, got } },
    );
  }
  if (!part.isFile) {
    throw new AppError('UPLOAD_FIELD_INVALID', `The field '${field}' takes files, not text`, {
      details: { expected: field, got: field },
    });
  }
  const { filename } = part;
  if (part.size === 0) {
    throw new AppError('FILE_EMPTY', `${filename ? `'${filename}'` : 'A file'} is empty`, {
      details: { field, filename: filename ?? null },
    });
  }
  // `bytes` copies the chunks into a new ArrayBuffer. The parser keeps the same list of chunks
  // until it reads on, which would hold the file twice while the caller stores it: emptied here.
  const bytes = part.bytes as Uint8Array<ArrayBuffer>;
  part.content.length = 0;
  return { field, filename, bytes };
}

/** The parser's errors, and a body stream that failed (a client gone), as the 4xx they are. */
function refusal(error: unknown, limits: UploadLimits, position: number): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof MaxFileSizeExceededError) {
    return new AppError(
      'FILE_TOO_LARGE',
      `File ${position} of the upload is over ${limits.maxFileBytes} bytes, the most a file may have`,
      { details: { maxBytes: limits.maxFileBytes, field: limits.field, position } },
    );
  }
  if (error instanceof MaxPartsExceededError || error instanceof MaxTotalSizeExceededError) {
    return new AppError('TOO_MANY_FILES', `Send at most ${limits.maxFiles} files at a time`, {
      details: { maxFiles: limits.maxFiles },
    });
  }
  if (error instanceof MaxHeaderSizeExceededError) {
    return new AppError(
      'MULTIPART_INVALID',
      `A part's headers are over ${maxPartHeaderBytes} bytes`,
      { cause: error },
    );
  }
  const why = error instanceof MultipartParseError ? `: ${error.message}` : '';
  return new AppError(
    'MULTIPART_INVALID',
    `The multipart body is malformed or was cut short${why}`,
    { cause: error },
  );
}
