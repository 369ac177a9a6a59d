// Which shebang flags reach Redis: the ones Redis 7 knows, in the order the script gave them.
import { describe, expect, it } from 'vitest';
import { stripUnknownShebangFlags } from '../../local-stack/redis-rest/script-shebang.ts';

const strip = (script: string): string | undefined =>
  stripUnknownShebangFlags(Buffer.from(script))?.toString();

describe('stripUnknownShebangFlags', () => {
  it('drops flags Redis does not know and keeps the rest of the script byte for byte', () => {
    expect(strip('#!lua flags=allow-key-locking\n  return 1\n')).toBe('#!lua\n  return 1\n');
    expect(strip('#!lua flags=no-writes,allow-key-locking,allow-stale\r\nreturn 1')).toBe(
      '#!lua flags=no-writes,allow-stale\r\nreturn 1',
    );
    expect(strip('#!lua flags=allow-key-locking')).toBe('#!lua');
  });

  it('leaves scripts Redis accepts as they are', () => {
    expect(strip('return 1')).toBeUndefined();
    expect(strip('#!lua\nreturn 1')).toBeUndefined();
    expect(strip('#!lua flags=no-writes,allow-oom\r\nreturn 1')).toBeUndefined();
    expect(strip('#!lua flags=\nreturn 1')).toBeUndefined();
  });
});
