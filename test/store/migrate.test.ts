// Migrations: applied from migrations/ wherever the code runs from, idempotent, and safe when two
// servers start at once against one database.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database";
import { applyMigrations, findMigrationsFolder } from "../../src/store/migrate";
import { rowsOf } from "../../src/store/transaction";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";

const ROOT = resolve(import.meta.dirname, "../..");

async function tables(database: Database): Promise<string[]> {
  const rows = await rowsOf<{ name: string }>(database.db, sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`);
  return rows.map((row) => row.name);
}

async function appliedMigrations(database: Database): Promise<number> {
  const [row] = await rowsOf<{ count: number }>(database.db, sql`select count(*)::int as count from drizzle.__drizzle_migrations`);
  return row!.count;
}

/** Every migration drizzle-kit wrote into the journal. */
const JOURNAL_ENTRIES = (JSON.parse(readFileSync(join(ROOT, "migrations", "meta", "_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;

describe.each(DATABASE_KINDS)("migrations (%s)", (kind) => {
  const test = useTestDatabase(kind, { migrate: false });

  it("creates every table of the schema, and does nothing the second time", async () => {
    const { database } = test;
    expect(await tables(database)).toEqual([]);
    expect(JOURNAL_ENTRIES).toBeGreaterThanOrEqual(2);
    await applyMigrations(database);
    expect(await tables(database)).toEqual(
      ["api_tokens", "deliveries", "forge_updates", "jobs", "log_chunks", "pipelines", "release_commands", "release_events", "releases", "repositories", "schedule_ticks", "secrets", "steps"].sort(),
    );
    expect(await appliedMigrations(database)).toBe(JOURNAL_ENTRIES);
    await applyMigrations(database);
    await applyMigrations(database);
    expect(await appliedMigrations(database)).toBe(JOURNAL_ENTRIES);
  });

  it("lets two servers starting at once both succeed, migrating once", async () => {
    const fresh = await test.fresh({ migrate: false });
    // On PostgreSQL these are two separate pools, as two replicas would have.
    const first = fresh.database;
    const second = await fresh.connect();
    await Promise.all([applyMigrations(first), applyMigrations(second), applyMigrations(first)]);
    expect(await appliedMigrations(first)).toBe(JOURNAL_ENTRIES);
    expect(await tables(second)).toContain("jobs");
  });

  it("finds migrations/ from the sources and from the bundle in dist/", () => {
    expect(findMigrationsFolder()).toBe(join(ROOT, "migrations"));
    expect(findMigrationsFolder(join(ROOT, "dist"))).toBe(join(ROOT, "migrations"));
    expect(findMigrationsFolder(join(ROOT, "src", "store", "schema"))).toBe(join(ROOT, "migrations"));
  });

  it("says clearly when migrations/ cannot be found", () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "gust-no-migrations-"));
    try {
      expect(() => findMigrationsFolder(elsewhere)).toThrow(/cannot find the migrations\/ folder/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
