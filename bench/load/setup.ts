// What the load finds when it starts: a generated catalogue seeded into the database (the one
// `npm run db:seed -- --products N` makes, owned by its sellers), and accounts registered
// through the API, each from an address of its own, each with the session registration answers.
import { createClient } from '@libsql/client';
import { isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { products } from '../../src/db/schema.ts';
import { seedDatabase } from '../../src/entries/seed.ts';
import type { StackEnv } from '../app-on-stack.ts';
import type { Recorder } from './recorder.ts';
import { type LoadTarget, register } from './traffic.ts';

export interface Catalogue {
  /** The listed products: not deleted. */
  productIds: string[];
  /** The distinct words of the products' names, three letters or more. */
  words: string[];
}

/**
 * Seeds `count` products (and their sellers); answers the ids of those listed and the words of
 * their names.
 */
export async function seedCatalogue(env: StackEnv, count: number): Promise<Catalogue> {
  const url = env.TURSO_DATABASE_URL ?? '';
  const seeded = await seedDatabase(url, env.TURSO_AUTH_TOKEN, { products: { count, seed: 1 } });
  if (seeded.products?.inserted !== count) {
    throw new Error(`seeded ${seeded.products?.inserted ?? 0} products, not ${count}`);
  }
  const client = createClient({ url, authToken: env.TURSO_AUTH_TOKEN });
  try {
    // The generator deletes a few products, as sellers do: those answer 404.
    const rows = await drizzle(client)
      .select({ id: products.id, name: products.name })
      .from(products)
      .where(isNull(products.deletedAt));
    const words = new Set(rows.flatMap(({ name }) => name.split(/\s+/)));
    return {
      productIds: rows.map(({ id }) => id),
      words: [...words].filter((word) => /^\p{L}{3,}$/u.test(word)),
    };
  } finally {
    client.close();
  }
}

/** Registers `count` accounts, `concurrency` at a time, into `target.accounts`. */
export async function registerAccounts(
  target: LoadTarget,
  recorder: Recorder,
  count: number,
  concurrency: number,
): Promise<void> {
  let left = count;
  const registerSome = async () => {
    while (left > 0) {
      left -= 1;
      const { answer, account } = await register(target, recorder, target.freshAddress());
      if (account === undefined) {
        throw new Error(`registration answered ${answer?.status ?? 'nothing'}: ${answer?.text}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, registerSome));
}
