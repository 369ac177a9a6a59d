// The ids of rows the deployment holds (users, products, files, partners, ...), which the fuzzer
// cannot know when it generates a request: set-up makes them, and a repair between batches may
// make them again. A request carries placeholders such as `⦃products.1⦄` instead, put in place
// when it is sent, so what is generated depends on the seed alone.
import fc from 'fast-check';

/** Ids by resource: the path segment before the parameter (`products` in /v1/products/{id}). */
export type IdPools = Map<string, string[]>;

/** The resource of a placeholder that may stand for any known id. */
export const anyResource = 'any';

/** A UUID of the right shape that no row has. */
const unknownId = '00000000-0000-4000-8000-000000000000';

const placeholder = /⦃([a-z-]+)\.(\d+)⦄/g;

/** `text` with `change` applied to what lies between its placeholders, which stay as they are. */
export function outsideIds(text: string, change: (part: string) => string): string {
  return text
    .split(/(⦃[a-z-]+\.\d+⦄)/)
    .map((part, index) => (index % 2 === 1 ? part : change(part)))
    .join('');
}

/** A placeholder for one of the ids of `resource` (or of any resource). */
export function knownId(resource: string): fc.Arbitrary<string> {
  return fc.nat(7).map((index) => `⦃${resource}.${index}⦄`);
}

/** `text` with each placeholder replaced by an id of its pool. */
export function withKnownIds(text: string, pools: IdPools): string {
  return text.replace(placeholder, (_, resource: string, index: string) => {
    const pool = pools.get(resource) ?? [...pools.values()].flat();
    return pool[Number(index) % Math.max(pool.length, 1)] ?? unknownId;
  });
}
