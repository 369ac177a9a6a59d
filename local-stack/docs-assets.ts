// The /docs page's JavaScript and CSS: Scalar's standalone ESM build, copied from the installed
// @scalar/api-reference into static/ (wrangler.toml `[assets]`), so every runtime serves it from
// its own origin and the page never needs a CDN. Generated rather than committed: some 4.5 MiB of
// minified vendor code that `npm install` already brings, and that an upgrade of the package
// must replace whole. wrangler runs this before every build (`[build] command`: `npm run dev`,
// `npm run build`, the e2e setup, the benchmarks, `wrangler deploy`); the Node and Deno entries
// serve the same folder once it exists. Alone: `node local-stack/docs-assets.ts`.
import {
  copyFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docsAssetsPath } from '../src/modules/docs/docs-page.ts';

/** wrangler.toml's `[assets] directory`: what is served as is, before the Worker runs. */
export const staticAssetsDir = fileURLToPath(new URL('../static', import.meta.url));

const targetDir = join(staticAssetsDir, ...docsAssetsPath.split('/').filter(Boolean));

/** dist/browser of the installed @scalar/api-reference, wherever npm put the package. */
function scalarBrowserBuild(): string {
  const entry = fileURLToPath(import.meta.resolve('@scalar/api-reference'));
  return join(dirname(entry), 'browser');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** The entry module and the chunks it imports; the source maps (18 MiB) no page needs. */
const isServed = (file: string): boolean =>
  file === 'standalone.esm.js' || (file.startsWith('chunks/') && file.endsWith('.js'));

async function sameFile(source: string, target: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  // utimes keeps whole milliseconds only.
  return b !== undefined && a.size === b.size && Math.abs(a.mtimeMs - b.mtimeMs) < 1;
}

/**
 * Workers answers static assets before the Worker runs, so the Worker's security headers never
 * reach them: its `_headers` file gives them theirs (Deno and Node serve them through the app).
 */
const assetHeaders = `${docsAssetsPath}/*
  X-Content-Type-Options: nosniff
  Cross-Origin-Resource-Policy: same-origin
  Strict-Transport-Security: max-age=15552000; includeSubDomains
`;

async function writeIfChanged(path: string, content: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === content) return;
  await writeFile(path, content);
}

/**
 * Brings static/docs/assets/ in line with the installed build: copies what is missing or changed,
 * removes what the build no longer has. Idempotent and cheap when nothing changed, so every build
 * can run it; each file is written under a temporary name and renamed into place, so a server
 * reading the folder meanwhile never sees half a file.
 */
export async function ensureDocsAssets(): Promise<{ copied: number; removed: number }> {
  const sourceDir = scalarBrowserBuild();
  const wanted = (await filesUnder(sourceDir)).filter(isServed);
  if (!wanted.includes('standalone.esm.js')) {
    throw new Error(`no standalone.esm.js in ${sourceDir}: is @scalar/api-reference installed?`);
  }
  let copied = 0;
  for (const file of wanted) {
    const source = join(sourceDir, file);
    const target = join(targetDir, file);
    if (await sameFile(source, target)) continue;
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    await copyFile(source, partial);
    // The source's times, so the next run recognises the copy without reading it.
    const { atime, mtime } = await stat(source);
    await utimes(partial, atime, mtime);
    await rename(partial, target);
    copied += 1;
  }
  await writeIfChanged(join(staticAssetsDir, '_headers'), assetHeaders);
  let removed = 0;
  for (const file of await filesUnder(targetDir)) {
    if (wanted.includes(file) || file.endsWith('.partial')) continue;
    await rm(join(targetDir, file), { force: true });
    removed += 1;
  }
  return { copied, removed };
}

if (import.meta.main) {
  const { copied, removed } = await ensureDocsAssets();
  const where = relative(process.cwd(), targetDir) || '.';
  console.error(
    copied + removed === 0
      ? `docs assets: ${where} is up to date`
      : `docs assets: ${copied} file(s) copied to ${where}, ${removed} removed`,
  );
}
