// The avatar pipeline across the whole jobs system: the upload answers 202 `pending`, avatar.dispatch
// on the edge hands image.avatar to the Node worker with two signed URLs, sharp makes the 400x400
// JPEG and PUTs it back, and only then does the profile show it, public and without metadata. A
// second upload leaves the first shown until its own is ready; then the first answers 404 and every
// object but the new JPEG leaves the bucket. The signed URLs refuse a request that is unsigned,
// altered or late. Holding the Node worker's proxy (pause) makes "not ready yet" a state to check.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/lib/signed-urls.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import { call, dataOf, register } from './harness/identity.ts';
import { jobsSystemForFile } from './harness/jobs-system.ts';
import { multipartFiles } from './harness/multipart.ts';
import { defaultJwtKey } from './harness/worker.ts';

const system = jobsSystemForFile();

interface FileView {
  id: string;
  kind: string;
  status: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  url: string;
}

interface Avatar {
  id: string;
  url: string;
  type: string;
  size: number;
}

type User = Awaited<ReturnType<typeof register>>;

/** An image with a camera's metadata, GPS position included: none of it may reach the avatar. */
function photo(format: 'png' | 'jpeg', width: number, height: number): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: '#c0392b' } })
    .withExif({
      IFD0: { Make: 'E2E Camera', Copyright: 'Tester' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1' },
    })
    .toFormat(format)
    .toBuffer()
    .then((buffer) => new Uint8Array(buffer));
}

async function uploadAvatar(user: User, name: string, bytes: Uint8Array): Promise<FileView> {
  const { body, contentType } = await multipartFiles(
    [{ name, bytes, type: 'image/png' }],
    'avatar',
  );
  const response = await system().fetch('/v1/users/me/avatar', {
    method: 'POST',
    headers: { authorization: `Bearer ${user.session.accessToken}`, 'content-type': contentType },
    body,
  });
  return dataOf<FileView>(response, 202);
}

async function shownAvatar(user: User): Promise<Avatar | null> {
  const me = await dataOf<{ avatar: Avatar | null }>(
    await call(system(), 'GET', '/v1/me', { token: user.session.accessToken }),
    200,
  );
  return me.avatar;
}

async function publicAvatar(user: User): Promise<Avatar | null> {
  const profile = await dataOf<{ avatar: Avatar | null }>(
    await call(system(), 'GET', `/v1/users/${user.id}`),
    200,
  );
  return profile.avatar;
}

/** Waits until both the user's own and the public profile show the avatar of `fileId`. */
function avatarShown(user: User, fileId: string): Promise<Avatar> {
  return eventually(
    `the avatar ${fileId} on both profiles`,
    async () => {
      const [own, seen] = await Promise.all([shownAvatar(user), publicAvatar(user)]);
      return own?.id === fileId && seen?.id === fileId ? own : undefined;
    },
    15_000,
  );
}

/** What the table says of a file's objects: the JPEG's key, and the original's while kept. */
async function keysOf(fileId: string): Promise<{ storageKey: string; sourceKey: string | null }> {
  const { rows } = await system().db.execute({
    sql: 'SELECT storage_key, source_key FROM files WHERE id = ?',
    args: [fileId],
  });
  const [row] = rows;
  if (row === undefined) throw new Error(`no file ${fileId}`);
  return {
    storageKey: String(row.storage_key),
    sourceKey: row.source_key === null ? null : String(row.source_key),
  };
}

function storedFor(user: User): Promise<string[]> {
  return system()
    .storedKeys()
    .then((keys) => keys.filter((key) => key.startsWith(`users/${user.id}/`)));
}

/** Waits until the user's objects in the bucket are exactly `expected`. */
function storedExactly(user: User, expected: string[]): Promise<string[]> {
  return eventually(
    `the bucket holding ${expected.join(', ')}`,
    async () => {
      const keys = await storedFor(user);
      return JSON.stringify(keys) === JSON.stringify([...expected].sort()) ? keys : undefined;
    },
    15_000,
  );
}

const avatarJobsAtWorker = () =>
  system().workerProxy.paths.filter((path) => path === '/jobs/image.avatar').length;

/**
 * Runs `whileHeld` with the Node worker's deliveries held at its door, then lets them through;
 * `jobArrived` waits until one more image.avatar than before has come to the door.
 */
async function withWorkerHeld<T>(whileHeld: (jobArrived: () => Promise<void>) => Promise<T>) {
  const before = avatarJobsAtWorker();
  const jobArrived = async () => {
    await eventually('image.avatar at the Node worker', () =>
      avatarJobsAtWorker() > before ? true : undefined,
    );
  };
  system().workerProxy.pause();
  try {
    return await whileHeld(jobArrived);
  } finally {
    system().workerProxy.resume();
  }
}

/** The avatar as anyone downloads it, without credentials; its image decoded. */
async function downloaded(avatar: Avatar) {
  const response = await system().fetch(avatar.url);
  expect(response.status).toBe(200);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { response, bytes, metadata: await sharp(bytes).metadata() };
}

describe('the first avatar', () => {
  let user: User;
  let source: Uint8Array;
  let file: FileView;
  let avatar: Avatar;

  beforeAll(async () => {
    user = await register(system(), 'avatar-first');
    source = await photo('png', 800, 600);
  });

  it('answers 202 pending, and the profile shows no avatar until the JPEG is ready', async () => {
    await withWorkerHeld(async (jobArrived) => {
      file = await uploadAvatar(user, 'me.png', source);
      expect(file).toMatchObject({
        kind: 'avatar',
        status: 'pending',
        name: 'me.png',
        contentType: 'image/png',
        size: source.byteLength,
        url: `/v1/files/${file.id}/content`,
      });
      // The dispatch ran on the edge: the Node worker's job is waiting at its door.
      await jobArrived();
      expect(await shownAvatar(user)).toBeNull();
      expect(await publicAvatar(user)).toBeNull();
      await expectErrorEnvelope(await system().fetch(file.url), 404, 'NOT_FOUND');
      // The original waits in the bucket for the worker.
      const { sourceKey } = await keysOf(file.id);
      expect(await storedFor(user)).toEqual([sourceKey]);
    });
    avatar = await avatarShown(user, file.id);
    expect(avatar).toEqual({
      id: file.id,
      url: `/v1/files/${file.id}/content`,
      type: 'image/jpeg',
      size: expect.any(Number),
    });
  });

  it('serves a 400x400 JPEG to anyone, without the original’s metadata', async () => {
    const { response, bytes, metadata } = await downloaded(avatar);
    expect(bytes.byteLength).toBe(avatar.size);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'image/jpeg',
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=31536000, immutable',
      'content-disposition': expect.stringMatching(/^inline; /),
    });
    expect((await sharp(source).metadata()).exif).toBeDefined();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 400, height: 400 });
    expect(metadata.exif).toBeUndefined();
    expect(metadata.icc).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
  });

  it('removes the original from the bucket once the JPEG is ready', async () => {
    const { storageKey, sourceKey } = await keysOf(file.id);
    expect(sourceKey).toBeNull();
    expect(storageKey).toMatch(/\.jpg$/);
    await storedExactly(user, [storageKey]);
  });
});

describe('a second avatar', () => {
  it('leaves the first shown until it is ready, then replaces it and removes it', async () => {
    const user = await register(system(), 'avatar-second');
    const first = await uploadAvatar(user, 'first.png', await photo('png', 640, 480));
    const firstAvatar = await avatarShown(user, first.id);
    const firstKey = (await keysOf(first.id)).storageKey;
    await storedExactly(user, [firstKey]);

    const source = await photo('jpeg', 1200, 900);
    const second = await withWorkerHeld(async (jobArrived) => {
      const pending = await uploadAvatar(user, 'second.jpg', source);
      expect(pending).toMatchObject({ status: 'pending', contentType: 'image/jpeg' });
      await jobArrived();
      expect(await shownAvatar(user)).toEqual(firstAvatar);
      expect(await publicAvatar(user)).toEqual(firstAvatar);
      expect((await downloaded(firstAvatar)).bytes.byteLength).toBe(firstAvatar.size);
      return pending;
    });

    const secondAvatar = await avatarShown(user, second.id);
    const { metadata } = await downloaded(secondAvatar);
    expect(metadata).toMatchObject({ format: 'jpeg', width: 400, height: 400 });
    expect(metadata.exif).toBeUndefined();

    // The replaced avatar is deleted: its content, its file, and its object.
    await expectErrorEnvelope(await system().fetch(firstAvatar.url), 404, 'NOT_FOUND');
    const token = user.session.accessToken;
    await expectErrorEnvelope(
      await call(system(), 'GET', firstAvatar.url, { token }),
      404,
      'NOT_FOUND',
    );
    await expectErrorEnvelope(
      await call(system(), 'GET', `/v1/files/${first.id}`, { token }),
      404,
      'NOT_FOUND',
    );
    await storedExactly(user, [(await keysOf(second.id)).storageKey]);
  });
});

describe('the signed URLs of the Node worker', () => {
  const sourcePath = (id: string) => `/v1/files/${id}/source`;
  const renditionPath = (id: string) => `/v1/files/${id}/rendition`;

  /** A path and query signed as the Worker signs them, valid for `seconds` (negative: expired). */
  async function signed(method: 'GET' | 'PUT', path: string, seconds = 600): Promise<string> {
    const url = await signUrl(
      defaultJwtKey.secret,
      method,
      `${system().edgeUrl}${path}`,
      new Date(Date.now() + seconds * 1000),
    );
    const { pathname, search } = new URL(url);
    return `${pathname}${search}`;
  }

  const put = (path: string, body: Uint8Array) =>
    system().fetch(path, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body });

  it('hands the original to a signed GET while the avatar is pending, and nothing after', async () => {
    const user = await register(system(), 'avatar-signed');
    const source = await photo('png', 320, 240);
    const file = await withWorkerHeld(async () => {
      const pending = await uploadAvatar(user, 'me.png', source);
      const response = await system().fetch(await signed('GET', sourcePath(pending.id)));
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(source);
      return pending;
    });
    await avatarShown(user, file.id);
    // The original is gone with the rendition's arrival; a signature does not bring it back.
    await expectErrorEnvelope(
      await system().fetch(await signed('GET', sourcePath(file.id))),
      404,
      'NOT_FOUND',
    );
  });

  it('refuses a request without a signature: 401 SIGNATURE_MISSING', async () => {
    const id = crypto.randomUUID();
    await expectErrorEnvelope(await system().fetch(sourcePath(id)), 401, 'SIGNATURE_MISSING');
    const onlyExpiry = `${sourcePath(id)}?expires=${Math.floor(Date.now() / 1000) + 600}`;
    await expectErrorEnvelope(await system().fetch(onlyExpiry), 401, 'SIGNATURE_MISSING');
    await expectErrorEnvelope(
      await put(renditionPath(id), new Uint8Array([0xff, 0xd8, 0xff])),
      401,
      'SIGNATURE_MISSING',
    );
  });

  it('refuses a URL altered in any part: 401 SIGNATURE_INVALID', async () => {
    const id = crypto.randomUUID();
    const good = new URL(await signed('GET', sourcePath(id)), system().edgeUrl);
    const signature = good.searchParams.get('signature') ?? '';
    const expires = Number(good.searchParams.get('expires'));

    const otherFile = `${sourcePath(crypto.randomUUID())}${good.search}`;
    const flipped = new URL(good);
    flipped.searchParams.set(
      'signature',
      `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
    );
    const later = new URL(good);
    later.searchParams.set('expires', String(expires + 3600));
    for (const path of [
      otherFile,
      `${flipped.pathname}${flipped.search}`,
      `${later.pathname}${later.search}`,
    ]) {
      await expectErrorEnvelope(await system().fetch(path), 401, 'SIGNATURE_INVALID');
    }
    // Signed for reading the original: not for writing the rendition, nor for another method.
    await expectErrorEnvelope(
      await put(`${renditionPath(id)}${good.search}`, new Uint8Array([0xff, 0xd8, 0xff])),
      401,
      'SIGNATURE_INVALID',
    );
    const getSignedForPut = await signed('PUT', sourcePath(id));
    await expectErrorEnvelope(await system().fetch(getSignedForPut), 401, 'SIGNATURE_INVALID');
    // Made with another secret.
    const forged = await signUrl(
      'a-secret-the-worker-does-not-have-of-32-bytes',
      'GET',
      `${system().edgeUrl}${sourcePath(id)}`,
      new Date(Date.now() + 600_000),
    );
    const { pathname, search } = new URL(forged);
    await expectErrorEnvelope(
      await system().fetch(`${pathname}${search}`),
      401,
      'SIGNATURE_INVALID',
    );
  });

  it('refuses a URL past its time: 401 SIGNATURE_EXPIRED', async () => {
    const id = crypto.randomUUID();
    await expectErrorEnvelope(
      await system().fetch(await signed('GET', sourcePath(id), -60)),
      401,
      'SIGNATURE_EXPIRED',
    );
    await expectErrorEnvelope(
      await put(await signed('PUT', renditionPath(id), -1), new Uint8Array([0xff, 0xd8, 0xff])),
      401,
      'SIGNATURE_EXPIRED',
    );
  });
});
