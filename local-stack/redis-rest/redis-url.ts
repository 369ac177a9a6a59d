// redis://[[user]:password@]host[:port][/db], the form REDIS_URL takes everywhere.

export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** The URL without credentials, safe to print. */
  display: string;
}

export class RedisUrlError extends Error {}

export function parseRedisUrl(redisUrl: string): RedisAddress {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new RedisUrlError(`not a URL: ${redisUrl}`);
  }
  if (url.protocol !== 'redis:') {
    throw new RedisUrlError(`only redis:// URLs are supported, got ${url.protocol}//`);
  }
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new RedisUrlError(`bad database index "${dbText}"`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = url.port === '' ? 6379 : Number(url.port);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return {
    host,
    port,
    db,
    ...(username !== '' && { username }),
    ...(password !== '' && { password }),
    display: `redis://${url.host}/${db}`,
  };
}
