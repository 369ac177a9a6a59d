// Types told by the bytes: real images made by sharp and a minimal PDF written by hand are
// recognised by their signatures whatever they are called, and bytes of no known format are not
// given a type.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { detectContentType } from '../../src/lib/file-content-type.ts';
import { readUploadedFiles } from '../../src/lib/multipart-upload.ts';
import { seededRandom } from '../../src/lib/seeded-random.ts';

function image() {
  return sharp({ create: { width: 2, height: 2, channels: 3, background: 'red' } });
}

const limits = { field: 'files', maxFiles: 1, maxFileBytes: 64 * 1024 };

const minimalPdf = new TextEncoder().encode(
  [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
    '',
  ].join('\n'),
);

describe('detectContentType', () => {
  it.each([
    ['PNG', () => image().png().toBuffer(), { mime: 'image/png', ext: 'png' }],
    ['JPEG', () => image().jpeg().toBuffer(), { mime: 'image/jpeg', ext: 'jpg' }],
    ['WebP', () => image().webp().toBuffer(), { mime: 'image/webp', ext: 'webp' }],
    ['GIF', () => image().gif().toBuffer(), { mime: 'image/gif', ext: 'gif' }],
    ['PDF', async () => minimalPdf, { mime: 'application/pdf', ext: 'pdf' }],
  ])('knows a %s by its bytes', async (_, make, expected) => {
    expect(await detectContentType(new Uint8Array(await make()))).toEqual(expected);
  });

  it('goes by the bytes only: a PDF uploaded as photo.png, image/png, is still a PDF', async () => {
    expect.assertions(2);
    const form = new FormData();
    form.append('files', new Blob([minimalPdf], { type: 'image/png' }), 'photo.png');
    const request = new Request('https://api.example/v1/files', { method: 'POST', body: form });
    for await (const file of readUploadedFiles(request, limits)) {
      expect(file.filename).toBe('photo.png');
      expect(await detectContentType(file.bytes)).toEqual({ mime: 'application/pdf', ext: 'pdf' });
    }
  });

  it('gives no type to random bytes, text, or nothing', async () => {
    const next = seededRandom(42);
    const random = Uint8Array.from({ length: 4096 }, () => Math.floor(next() * 256));
    expect(await detectContentType(random)).toBeUndefined();
    expect(await detectContentType(new TextEncoder().encode('just some text'))).toBeUndefined();
    expect(await detectContentType(new Uint8Array())).toBeUndefined();
  });

  it('reads only what it is given: the first bytes of an image are enough', async () => {
    const png = new Uint8Array(await image().png().toBuffer());
    expect((await detectContentType(png.subarray(0, 64)))?.mime).toBe('image/png');
  });
});
