// The local libSQL server as @libsql/client (http: mode) and drizzle-orm see it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, type InArgs, LibsqlError } from '@libsql/client';
import { openHttp, Stmt } from '@libsql/hrana-client';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import Database from 'libsql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { startLibsqlServer } from '../../local-stack/libsql/server.ts';
import { startTempLibsqlServer } from '../../local-stack/libsql/temp-server.ts';

const authToken = 'local-libsql-token';
let server: RunningHttpServer;
const clients: Client[] = [];

function connect(options: { intMode?: 'number' | 'bigint'; authToken?: string } = {}): Client {
  const client = createClient({ url: server.url, authToken, ...options });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  server = await startTempLibsqlServer({ authToken });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

describe('execute', () => {
  it('round-trips every value type, integers beyond 2^53 included', async () => {
    const client = connect({ intMode: 'bigint' });
    await client.execute(
      'CREATE TABLE value_types (i INTEGER, big INTEGER, f REAL, t TEXT, b BLOB, n TEXT)',
    );
    const big = 2n ** 62n + 7n;
    const blob = new Uint8Array([0, 1, 127, 128, 255]);
    const inserted = await client.execute({
      sql: 'INSERT INTO value_types VALUES (?, ?, ?, ?, ?, ?)',
      args: [42n, big, 3.25, 'héllo wörld ✓ 🌍', blob, null],
    });
    expect(inserted.rowsAffected).toBe(1);
    expect(inserted.lastInsertRowid).toBe(1n);

    const result = await client.execute('SELECT * FROM value_types');
    expect(result.columns).toEqual(['i', 'big', 'f', 't', 'b', 'n']);
    expect(result.columnTypes).toEqual(['INTEGER', 'INTEGER', 'REAL', 'TEXT', 'BLOB', 'TEXT']);
    const [row] = result.rows;
    expect(row?.i).toBe(42n);
    expect(row?.big).toBe(big);
    expect(row?.f).toBe(3.25);
    expect(row?.t).toBe('héllo wörld ✓ 🌍');
    expect(new Uint8Array(row?.b as ArrayBuffer)).toEqual(blob);
    expect(row?.n).toBeNull();
    expect(result.rowsAffected).toBe(0);
    expect(result.lastInsertRowid).toBeUndefined();
  });

  it('reads integers as numbers in the default int mode', async () => {
    const client = connect();
    const result = await client.execute('SELECT 7 AS seven, 1.5 AS half, NULL AS absent');
    expect(result.rows[0]).toMatchObject({ seven: 7, half: 1.5, absent: null });
  });

  it('binds positional and named arguments, with or without their prefix', async () => {
    const client = connect();
    await client.execute('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)');
    await client.execute({
      sql: 'INSERT INTO people (name, age) VALUES (?, ?)',
      args: ['Ann', 31],
    });
    await client.execute({
      sql: 'INSERT INTO people (name, age) VALUES (:name, @age)',
      args: { name: 'Bob', '@age': 42 },
    });
    await client.execute({
      sql: 'INSERT INTO people (name, age) VALUES ($name, $age)',
      args: { $name: 'Cy', age: 27 },
    });
    const result = await client.execute({
      sql: 'SELECT name, age FROM people WHERE age > :min ORDER BY id',
      args: { min: 30 },
    });
    expect(result.rows.map((row) => [row.name, row.age])).toEqual([
      ['Ann', 31],
      ['Bob', 42],
    ]);
    const cy = await client.execute({ sql: 'SELECT age FROM people WHERE name = ?', args: ['Cy'] });
    expect(cy.rows[0]?.age).toBe(27);
  });

  it('returns rows and counts from INSERT ... RETURNING', async () => {
    const client = connect();
    await client.execute('CREATE TABLE returning_rows (id INTEGER PRIMARY KEY, label TEXT)');
    const result = await client.execute({
      sql: 'INSERT INTO returning_rows (label) VALUES (?), (?) RETURNING id, label',
      args: ['a', 'b'],
    });
    expect(result.rows.map((row) => row.label)).toEqual(['a', 'b']);
    expect(result.rowsAffected).toBe(2);
    expect(result.lastInsertRowid).toBe(2n);
  });

  it("reports SQLite's error code and message", async () => {
    const client = connect();
    await client.execute('CREATE TABLE unique_names (name TEXT PRIMARY KEY)');
    await client.execute("INSERT INTO unique_names VALUES ('x')");
    const error = await client.execute("INSERT INTO unique_names VALUES ('x')").catch((e) => e);
    expect(error).toBeInstanceOf(LibsqlError);
    expect(error.code).toBe('SQLITE_CONSTRAINT');
    expect(error.message).toContain('UNIQUE constraint failed: unique_names.name');

    const missing = await client.execute('SELECT * FROM no_such_table').catch((e) => e);
    expect(missing).toBeInstanceOf(LibsqlError);
    expect(missing.message).toContain('no such table: no_such_table');
  });
});

// sqld binds as libsql-server's src/query.rs (Params::bind) does, read at tursodatabase/libsql
// f8fb14f: SQLite numbers the parameters; each index is looked up by the first name SQLite gave it
// (sqlite3_bind_parameter_name): `?NNN` in the positional arguments, another name in the named
// ones as spelled in the SQL and then without its prefix, an unnamed index in the positional ones.
// A missing value or one argument too many is ARGS_INVALID (src/hrana/stmt.rs), never NULL.
describe('parameter binding', () => {
  /** The rows the client returns, each as an array of its values. */
  async function rowsOf(sql: string, args: InArgs): Promise<unknown[][]> {
    const result = await connect().execute({ sql, args });
    return result.rows.map((row) => Array.from(row));
  }

  async function bindError(sql: string, args?: InArgs): Promise<LibsqlError> {
    const error = await connect()
      .execute({ sql, args })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LibsqlError);
    return error;
  }

  it('binds ?NNN to the index a name took first, names with or without their prefix', async () => {
    expect(await rowsOf('SELECT :b, :a, ?1', { a: 'one', ':b': 'two' })).toEqual([
      ['two', 'one', 'two'],
    ]);
  });

  it('numbers ?NNN with gaps as SQLite does, a gap taking its positional argument', async () => {
    // ?3 takes index 3, ?1 index 1, the bare ? the largest so far + 1 = 4; index 2 is unnamed.
    expect(await rowsOf('SELECT ?3, ?1, ?', ['a', 'b', 'c', 'd'])).toEqual([['c', 'a', 'd']]);
    const gap = await bindError('SELECT ?3, ?1', ['a']);
    expect(gap.code).toBe('ARGS_INVALID');
    expect(gap.message).toContain(
      'Arguments do not match SQL parameters: value for parameter 2 not found',
    );
  });

  it('binds @name, $name and #name, each prefix making a name of its own', async () => {
    expect(await rowsOf('SELECT @x, $y, #z', { '@x': 1, $y: 2, z: 3 })).toEqual([[1, 2, 3]]);
    // The name as spelled in the SQL wins over the bare name: sqld's "named_conflict" case.
    expect(await rowsOf('SELECT :v, $v, @v', { v: 'bare', $v: 'dollar' })).toEqual([
      ['bare', 'dollar', 'bare'],
    ]);
  });

  it('reuses the index of a name given twice', async () => {
    expect(await rowsOf('SELECT :a, :b, :a, ?2', { a: 1, b: 2 })).toEqual([[1, 2, 1, 2]]);
    expect(await rowsOf('SELECT $n * 10 + ?1', { n: 4 })).toEqual([[44]]);
  });

  it('binds a named argument given without its prefix', async () => {
    expect(await rowsOf('SELECT :first || $second', { first: 'x', second: 'y' })).toEqual([['xy']]);
  });

  it('never binds positional arguments to names, nor named ones to numbers', async () => {
    const positional = await bindError('SELECT ?, :a', ['x', 'y']);
    expect(positional.code).toBe('ARGS_INVALID');
    expect(positional.message).toContain('value for parameter :a not found');
    const named = await bindError('SELECT :a, ?', { a: 'x' });
    expect(named.code).toBe('ARGS_INVALID');
    expect(named.message).toContain('value for parameter 2 not found');
    const numbered = await bindError('SELECT ?1', { 1: 'x' });
    expect(numbered.message).toContain('value for parameter ?1 not found');
  });

  it('fails a statement whose argument is missing or one too many, except in EXPLAIN', async () => {
    const missing = await bindError('SELECT :a, :b', { a: 1 });
    expect(missing.code).toBe('ARGS_INVALID');
    expect(missing.message).toContain('value for parameter :b not found');
    // Another prefix is another name: @v does not bind :v.
    expect((await bindError('SELECT :v', { '@v': 1 })).message).toContain(
      'value for parameter :v not found',
    );
    expect((await bindError('SELECT ?, ?', ['only'])).message).toContain(
      'value for parameter 2 not found',
    );
    expect((await bindError('SELECT ?')).message).toContain('value for parameter 1 not found');
    const extra = await bindError('SELECT :a', { a: 1, b: 2 });
    expect(extra.code).toBe('ARGS_INVALID');
    expect(extra.message).toContain('too many parameters, expected 1 found 2');
    const plan = await connect().execute('EXPLAIN SELECT :a');
    expect(plan.rows.length).toBeGreaterThan(0);
  });
});

describe('batch', () => {
  let client: Client;

  beforeAll(async () => {
    client = connect();
    await client.execute('CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL)');
  });

  beforeEach(async () => {
    await client.execute('DELETE FROM ledger');
  });

  it.each(['write', 'deferred'] as const)(
    'commits a %s batch and returns every result',
    async (mode) => {
      const results = await client.batch(
        [
          { sql: 'INSERT INTO ledger (id, amount) VALUES (?, ?)', args: [1, 10] },
          { sql: 'INSERT INTO ledger (id, amount) VALUES (?, ?)', args: [2, 20] },
          'SELECT sum(amount) AS total FROM ledger',
        ],
        mode,
      );
      expect(results.map((result) => result.rowsAffected)).toEqual([1, 1, 0]);
      expect(results[2]?.rows[0]?.total).toBe(30);
    },
  );

  it.each(['write', 'deferred'] as const)(
    'rolls a %s batch back when a statement fails',
    async (mode) => {
      const error = await client
        .batch(
          [
            { sql: 'INSERT INTO ledger (id, amount) VALUES (?, ?)', args: [1, 10] },
            { sql: 'INSERT INTO ledger (id, amount) VALUES (?, ?)', args: [1, 20] },
          ],
          mode,
        )
        .catch((e) => e);
      expect(error).toBeInstanceOf(LibsqlError);
      expect(error.code).toBe('SQLITE_CONSTRAINT');
      const count = await client.execute('SELECT count(*) AS n FROM ledger');
      expect(count.rows[0]?.n).toBe(0);
    },
  );

  it('runs a read batch and refuses writes inside it', async () => {
    await client.execute('INSERT INTO ledger (id, amount) VALUES (1, 5)');
    const results = await client.batch(
      ['SELECT amount FROM ledger', 'SELECT count(*) AS n FROM ledger'],
      'read',
    );
    expect(results.map((result) => result.rows[0]?.[0])).toEqual([5, 1]);

    const error = await client
      .batch(['SELECT 1', 'INSERT INTO ledger (id, amount) VALUES (2, 7)'], 'read')
      .catch((e) => e);
    expect(error).toBeInstanceOf(LibsqlError);
    expect(error.code).toBe('SQLITE_READONLY');
    const count = await client.execute('SELECT count(*) AS n FROM ledger');
    expect(count.rows[0]?.n).toBe(1);
  });
});

describe('interactive transactions', () => {
  let first: Client;
  let second: Client;

  beforeAll(async () => {
    first = connect();
    second = connect();
    await first.execute('CREATE TABLE events (source TEXT NOT NULL)');
  });

  beforeEach(async () => {
    await first.execute('DELETE FROM events');
  });

  async function sources(): Promise<unknown[]> {
    const result = await second.execute('SELECT source FROM events ORDER BY rowid');
    return result.rows.map((row) => row.source);
  }

  it("commits, while another client's write waits and then succeeds", async () => {
    const tx = await first.transaction('write');
    await tx.execute("INSERT INTO events VALUES ('tx-1')");
    await tx.execute("INSERT INTO events VALUES ('tx-2')");

    let waitingWriteSettled = false;
    const waitingWrite = second.execute("INSERT INTO events VALUES ('other')").finally(() => {
      waitingWriteSettled = true;
    });
    expect(await sources()).toEqual([]);
    const inside = await tx.execute('SELECT count(*) AS n FROM events');
    expect(inside.rows[0]?.n).toBe(2);
    expect(waitingWriteSettled).toBe(false);

    await tx.commit();
    await expect(waitingWrite).resolves.toMatchObject({ rowsAffected: 1 });
    expect(await sources()).toEqual(['tx-1', 'tx-2', 'other']);
  });

  it("rolls back, and the other client's write still succeeds", async () => {
    const tx = await first.transaction('write');
    await tx.execute("INSERT INTO events VALUES ('discarded')");
    const waitingWrite = second.execute("INSERT INTO events VALUES ('other')");
    expect(await sources()).toEqual([]);

    await tx.rollback();
    await expect(waitingWrite).resolves.toMatchObject({ rowsAffected: 1 });
    expect(await sources()).toEqual(['other']);
  });

  it('keeps a failed statement from ending the transaction', async () => {
    const tx = await first.transaction('deferred');
    await tx.execute("INSERT INTO events VALUES ('kept')");
    await expect(tx.execute('INSERT INTO events VALUES (NULL)')).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT',
    });
    await tx.batch(["INSERT INTO events VALUES ('also kept')"]);
    await tx.commit();
    expect(await sources()).toEqual(['kept', 'also kept']);
  });

  it('runs executeMultiple inside a transaction', async () => {
    const tx = await first.transaction('write');
    await tx.executeMultiple("INSERT INTO events VALUES ('m1'); INSERT INTO events VALUES ('m2');");
    await tx.commit();
    expect(await sources()).toEqual(['m1', 'm2']);
  });
});

describe('scripts and migrations', () => {
  it('runs several statements with executeMultiple, triggers included', async () => {
    const client = connect();
    await client.executeMultiple(`
      CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); -- a comment; with a semicolon
      CREATE TABLE note_log (note_id INTEGER, kind TEXT);
      CREATE TRIGGER note_logged AFTER INSERT ON notes BEGIN
        INSERT INTO note_log VALUES (new.id, CASE WHEN new.body = '' THEN 'empty' ELSE 'text' END);
      END;
      INSERT INTO notes (body) VALUES ('semi;colon'), ('');
    `);
    const log = await client.execute('SELECT kind FROM note_log ORDER BY note_id');
    expect(log.rows.map((row) => row.kind)).toEqual(['text', 'empty']);
    const notes = await client.execute('SELECT body FROM notes ORDER BY id');
    expect(notes.rows.map((row) => row.body)).toEqual(['semi;colon', '']);
  });

  it('applies migrations with client.migrate', async () => {
    const client = connect();
    await client.migrate([
      'CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)',
      'CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id))',
      "INSERT INTO authors (name) VALUES ('Le Guin')",
    ]);
    const authors = await client.execute('SELECT name FROM authors');
    expect(authors.rows[0]?.name).toBe('Le Guin');

    const error = await client
      .migrate(['CREATE TABLE half_done (id INTEGER)', 'CREATE TABLE authors (id INTEGER)'])
      .catch((e) => e);
    expect(error).toBeInstanceOf(LibsqlError);
    const tables = await client.execute(
      "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half_done'",
    );
    expect(tables.rows[0]?.n).toBe(0);
  });
});

describe('lower-level Hrana requests (@libsql/hrana-client)', () => {
  it('describes statements and runs stored SQL by id', async () => {
    const hrana = openHttp(server.url, authToken);
    const stream = hrana.openStream();
    try {
      await stream.run('CREATE TABLE described (id INTEGER PRIMARY KEY, label TEXT)');
      const read = await stream.describe(
        'SELECT id, label FROM described WHERE id = :id OR id = ?',
      );
      expect(read.paramNames).toEqual([':id', undefined]);
      expect(read.columns).toEqual([
        { name: 'id', decltype: 'INTEGER' },
        { name: 'label', decltype: 'TEXT' },
      ]);
      expect(read.isReadonly).toBe(true);
      expect(read.isExplain).toBe(false);
      const write = await stream.describe('INSERT INTO described (label) VALUES (?)');
      expect(write.isReadonly).toBe(false);
      // Each index under the first name SQLite gave it: ?3 sets index 3, :a takes 4, ?1 names 1.
      const numbered = await stream.describe('SELECT ?3, :a, ?1, ?, :a');
      expect(numbered.paramNames).toEqual(['?1', undefined, '?3', ':a', undefined]);
      const both = new Stmt('SELECT ?, :a').bindIndexes(['x']).bindName('a', 'y');
      const refused = await stream.query(both).catch((e) => e);
      expect(refused.code).toBe('ARGS_BOTH_POSITIONAL_AND_NAMED');

      const insert = stream.storeSql('INSERT INTO described (label) VALUES (?)');
      await stream.run(new Stmt(insert).bindIndexes(['first']));
      await stream.run(new Stmt(insert).bindIndexes(['second']));
      insert.close();
      await stream.sequence(
        "UPDATE described SET label = upper(label); DELETE FROM described WHERE label = 'FIRST';",
      );
      const rows = await stream.query('SELECT label FROM described');
      expect(rows.rows.map((row) => row.label)).toEqual(['SECOND']);
    } finally {
      stream.close();
      hrana.close();
    }
  });
});

describe('drizzle-orm', () => {
  const users = sqliteTable('drizzle_users', {
    id: integer('id').primaryKey({ autoIncrement: true }),
    email: text('email').notNull().unique(),
    visits: integer('visits').notNull().default(0),
  });

  it('inserts, selects, updates, batches and runs transactions', async () => {
    const client = connect();
    const db = drizzle(client);
    await client.execute(
      'CREATE TABLE drizzle_users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, visits INTEGER NOT NULL DEFAULT 0)',
    );

    const [ann] = await db.insert(users).values({ email: 'ann@example.com' }).returning();
    expect(ann).toEqual({ id: 1, email: 'ann@example.com', visits: 0 });

    await db.update(users).set({ visits: 3 }).where(eq(users.email, 'ann@example.com'));
    expect(await db.select().from(users)).toEqual([{ id: 1, email: 'ann@example.com', visits: 3 }]);

    const [inserted, all] = await db.batch([
      db.insert(users).values({ email: 'bob@example.com' }).returning({ id: users.id }),
      db.select({ email: users.email }).from(users),
    ]);
    expect(inserted).toEqual([{ id: 2 }]);
    expect(all).toEqual([{ email: 'ann@example.com' }, { email: 'bob@example.com' }]);

    await db.transaction(async (tx) => {
      await tx.insert(users).values({ email: 'cy@example.com' });
      await tx.update(users).set({ visits: 1 }).where(eq(users.email, 'bob@example.com'));
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(users).values({ email: 'dee@example.com' });
        await tx.insert(users).values({ email: 'ann@example.com' });
      }),
    ).rejects.toThrow();

    const rows = await db.select({ email: users.email, visits: users.visits }).from(users);
    expect(rows).toEqual([
      { email: 'ann@example.com', visits: 3 },
      { email: 'bob@example.com', visits: 1 },
      { email: 'cy@example.com', visits: 0 },
    ]);
  });
});

describe('streams and tokens', () => {
  it('expires an idle stream, rolling back its transaction', async () => {
    const idleTimeoutMs = 200;
    const shortLived = await startTempLibsqlServer({ streamIdleTimeoutMs: idleTimeoutMs });
    const client = createClient({ url: shortLived.url });
    try {
      await client.execute('CREATE TABLE idle_rows (v TEXT)');
      const tx = await client.transaction('write');
      await tx.execute("INSERT INTO idle_rows VALUES ('never committed')");
      await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs * 2));

      const error = await tx.execute('SELECT 1').catch((e) => e);
      expect(error).toBeInstanceOf(LibsqlError);
      expect(error.code).toBe('STREAM_EXPIRED');
      await client.execute("INSERT INTO idle_rows VALUES ('later')");
      const rows = await client.execute('SELECT v FROM idle_rows');
      expect(rows.rows.map((row) => row.v)).toEqual(['later']);
    } finally {
      client.close();
      await shortLived.close();
    }
  });

  it('fails a write with SQLITE_BUSY after the busy timeout, then recovers', async () => {
    // Another process holding the write lock on the same file, e.g. a second tool on the database.
    const dir = await mkdtemp(join(tmpdir(), 'libsql-busy-'));
    const dbFile = join(dir, 'db.sqlite');
    const impatient = await startLibsqlServer({ port: 0, dbFile, busyTimeoutMs: 100 });
    const client = createClient({ url: impatient.url });
    const otherProcess = new Database(dbFile);
    try {
      await client.execute('CREATE TABLE contended (v TEXT)');
      otherProcess.exec("BEGIN IMMEDIATE; INSERT INTO contended VALUES ('other')");
      await expect(client.execute("INSERT INTO contended VALUES ('late')")).rejects.toMatchObject({
        code: 'SQLITE_BUSY',
      });
      otherProcess.exec('COMMIT');

      await client.execute("INSERT INTO contended VALUES ('after')");
      otherProcess.exec("INSERT INTO contended VALUES ('other again')");
      const rows = await client.execute('SELECT v FROM contended ORDER BY rowid');
      expect(rows.rows.map((row) => row.v)).toEqual(['other', 'after', 'other again']);
    } finally {
      otherProcess.close();
      client.close();
      await impatient.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a wrong or missing token', async () => {
    for (const token of ['wrong-token', undefined]) {
      const client = createClient({ url: server.url, authToken: token });
      const error = await client.execute('SELECT 1').catch((e) => e);
      client.close();
      expect(error).toBeInstanceOf(LibsqlError);
      expect(error.code).toBe('SERVER_ERROR');
      expect(error.message).toContain('401');
    }
  });
});
