// A fresh database per describe block: PGlite in memory, or a new PostgreSQL database
// `gust_test_<random>` created through TEST_DATABASE_URL (its role needs CREATEDB) and dropped
// afterwards. Store tests run once per kind in DATABASE_KINDS: PGlite always, PostgreSQL too when
// TEST_DATABASE_URL is set. Migrations are applied unless asked not to. Tests of a block share the
// database, so each makes its own repositories, or calls reset() first.
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll } from "vitest";
import { sql } from "drizzle-orm";
import pg from "pg";
import { openDatabase, pgliteDatabase, type Database, type DatabaseOptions } from "../../src/store/database";
import { applyMigrations } from "../../src/store/migrate";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export type DatabaseKind = Database["kind"];
/** For `describe.each(DATABASE_KINDS)`. */
export const DATABASE_KINDS: DatabaseKind[] = TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export interface TestDatabase {
  readonly database: Database;
  readonly kind: Database["kind"];
  /**
   * Another client of the same database: a separate pool on PostgreSQL (so concurrency is real);
   * the same Database on PGlite, which is a single connection. Closed with the test file.
   */
  connect(options?: Pick<DatabaseOptions, "maxConnections">): Promise<Database>;
  /** A new empty database of the same kind, migrated unless `migrate: false`; closed with the file. */
  fresh(options?: { migrate?: boolean }): Promise<TestDatabase>;
  /** Empties every table (for tests whose counts span the whole database, like the queue's). */
  reset(): Promise<void>;
}

export function useTestDatabase(kind: DatabaseKind, options: { migrate?: boolean } = {}): TestDatabase {
  let current: TestDatabase | undefined;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    current = await createTestDatabase(kind, options.migrate ?? true, cleanups);
  });
  afterAll(async () => {
    // Last opened, first closed: extra clients before the database they use is dropped.
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const get = () => {
    if (!current) throw new Error("useTestDatabase(): use the database inside tests or hooks");
    return current;
  };
  return {
    get database() {
      return get().database;
    },
    get kind() {
      return get().kind;
    },
    connect: (connectOptions) => get().connect(connectOptions),
    fresh: (freshOptions) => get().fresh(freshOptions),
    reset: () => get().reset(),
  };
}

async function createTestDatabase(kind: DatabaseKind, migrate: boolean, cleanups: Array<() => Promise<void>>): Promise<TestDatabase> {
  let database: Database;
  let url: string | undefined;
  if (kind === "postgres") {
    if (!TEST_DATABASE_URL) throw new Error("PostgreSQL tests need TEST_DATABASE_URL");
    const name = `gust_test_${randomBytes(6).toString("hex")}`;
    await admin(TEST_DATABASE_URL, `create database ${name}`);
    cleanups.push(() => admin(TEST_DATABASE_URL!, `drop database if exists ${name} with (force)`));
    const target = new URL(TEST_DATABASE_URL);
    target.pathname = `/${name}`;
    url = target.toString();
    database = await openDatabase({ url, maxConnections: 20 });
  } else {
    database = pgliteDatabase(await newPglite());
  }
  cleanups.push(() => database.close());
  if (migrate) await applyMigrations(database);

  return {
    database,
    kind: database.kind,
    async connect(connectOptions) {
      if (url === undefined) return database;
      const other = await openDatabase({ url, maxConnections: connectOptions?.maxConnections ?? 4 });
      cleanups.push(() => other.close());
      return other;
    },
    fresh: (freshOptions) => createTestDatabase(kind, freshOptions?.migrate ?? true, cleanups),
    async reset() {
      // Every other table references one of these, so CASCADE empties them too.
      await database.db.execute(sql`truncate table repositories, deliveries, api_tokens restart identity cascade`);
    },
  };
}

/**
 * An empty PostgreSQL database of its own for a test that hands its URL to another process (a
 * `gust serve` child); `drop()` removes it.
 */
export async function scratchPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("PostgreSQL tests need TEST_DATABASE_URL");
  const name = `gust_test_${randomBytes(6).toString("hex")}`;
  await admin(TEST_DATABASE_URL, `create database ${name}`);
  const target = new URL(TEST_DATABASE_URL);
  target.pathname = `/${name}`;
  return { url: target.toString(), drop: () => admin(TEST_DATABASE_URL!, `drop database if exists ${name} with (force)`) };
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * An in-memory PGlite. Its initdb takes seconds of CPU, every time: the first test file to need one
 * saves an empty data directory in the temporary directory, and later ones start from that copy.
 */
async function newPglite(): Promise<PGlite> {
  const packageJson = join(dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")), "..", "package.json");
  const { version } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string };
  const template = join(tmpdir(), `gust-test-pglite-${version}.tar`);
  const saved = await readFile(template).catch(() => undefined);
  if (saved) return PGlite.create({ loadDataDir: new Blob([saved]) });
  const client = await PGlite.create();
  const dump = await client.dumpDataDir("none");
  // Written aside and renamed: a file appears complete or not at all, whoever else is writing one.
  const partial = `${template}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, template);
  return client;
}
