// image.avatar: fetch the uploaded image, make it the 400x400 JPEG avatar (cropped to cover,
// quality 80, no metadata: EXIF can hold a location), and PUT it where the payload says. An input
// that is not an image, too large, or refused for good by either side goes to the DLQ; a timeout
// or a 5xx is retried. Both transfers carry the delivery's traceparent, so the edge's lines for
// them join the trace of the upload.
import sharp from 'sharp';
import type { JobContext } from '../../src/jobs/job-delivery.ts';
import { PermanentJobError } from '../../src/jobs/job-delivery.ts';
import { formatTraceparent, traceparentHeader } from '../../src/lib/trace-context.ts';

export const avatarSize = 400;
const maxSourceBytes = 10 * 1024 * 1024;
const transferTimeoutMs = 20_000;

/**
 * A redirect (never followed) or a 4xx means this URL will never work (408 and 429 excepted);
 * anything else may pass later.
 */
function failure(what: string, response: Response): Error {
  const status = response.status;
  const message = `${what} answered ${status}`;
  const permanent = status >= 300 && status < 500 && status !== 408 && status !== 429;
  return permanent ? new PermanentJobError(message) : new Error(message);
}

async function download(url: string, headers: Record<string, string>): Promise<Uint8Array> {
  // The URL is one the API signed: a redirect away from it is not followed.
  const response = await fetch(url, {
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(transferTimeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw failure('the image source', response);
  }
  const tooLarge = new PermanentJobError(`the image is larger than ${maxSourceBytes} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > maxSourceBytes) {
    await response.body?.cancel();
    throw tooLarge;
  }
  // The declared length may be absent or false: count what actually arrives.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > maxSourceBytes) throw tooLarge;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function toAvatar(image: Uint8Array): Promise<Buffer> {
  try {
    return await sharp(image)
      .rotate()
      .resize(avatarSize, avatarSize, { fit: 'cover' })
      .jpeg({ quality: 80 })
      .toBuffer();
  } catch (error) {
    throw new PermanentJobError(
      `not an image sharp can read: ${error instanceof Error ? error.message : error}`,
    );
  }
}

export async function avatarJob(job: JobContext<'image.avatar'>) {
  const traced: Record<string, string> =
    job.trace === undefined ? {} : { [traceparentHeader]: formatTraceparent(job.trace) };
  const source = await download(job.payload.sourceUrl, traced);
  await job.progress(10);
  const avatar = await toAvatar(source);
  await job.progress(50);
  const response = await fetch(job.payload.targetUrl, {
    method: 'PUT',
    headers: { ...traced, 'content-type': 'image/jpeg' },
    body: new Uint8Array(avatar),
    redirect: 'manual',
    signal: AbortSignal.timeout(transferTimeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw failure('the avatar target', response);
  await job.progress(90);
  return { bytes: avatar.byteLength, width: avatarSize, height: avatarSize };
}
