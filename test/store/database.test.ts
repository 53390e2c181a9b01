// The database client on both drivers: queries, LISTEN/NOTIFY (transactional, per handler), the
// PGlite data directory surviving a reopen, and the PostgreSQL LISTEN connection coming back.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database";
import { applyMigrations } from "../../src/store/migrate";
import { repositories } from "../../src/store/schema";
import { DATABASE_KINDS, TEST_DATABASE_URL, useTestDatabase } from "../helpers/database";

function collector() {
  const received: string[] = [];
  let wake: (() => void) | undefined;
  return {
    received,
    handler: (payload: string) => {
      received.push(payload);
      wake?.();
    },
    async until(count: number, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`received ${received.length} of ${count} notifications: ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

describe.each(DATABASE_KINDS)("database (%s)", (kind) => {
  const test = useTestDatabase(kind);

  it("runs queries through drizzle with the schema", async () => {
    const { db } = test.database;
    expect(test.database.kind).toBe(kind);
    const [row] = await db.insert(repositories).values({ forge: "github", fullName: "acme/db-test" }).returning();
    expect(row).toMatchObject({ forge: "github", fullName: "acme/db-test", defaultBranch: "main", maxConcurrentJobs: null });
    expect(row!.createdAt).toBeInstanceOf(Date);
    expect(typeof row!.id).toBe("number");
  });

  it("delivers notifications to every handler of the channel until it stops listening", async () => {
    const first = collector();
    const second = collector();
    const stopFirst = await test.database.listen("gust_test_a", first.handler);
    const stopSecond = await test.database.listen("gust_test_a", second.handler);
    await test.database.notify("gust_test_a", "one");
    await Promise.all([first.until(1), second.until(1)]);
    await stopFirst();
    await test.database.notify("gust_test_a", "two");
    await second.until(2);
    expect(first.received).toEqual(["one"]);
    expect(second.received).toEqual(["one", "two"]);
    await stopSecond();
    await stopSecond(); // idempotent
  });

  it("sends a notification made in a transaction at commit, and never after a rollback", async () => {
    const { db } = test.database;
    const got = collector();
    const stop = await test.database.listen("gust_test_tx", got.handler);
    await db
      .transaction(async (tx) => {
        await tx.execute(sql`select pg_notify('gust_test_tx', 'rolled back')`);
        throw new Error("roll back");
      })
      .catch(() => {});
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_notify('gust_test_tx', 'committed')`);
    });
    await got.until(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(got.received).toEqual(["committed"]);
    await stop();
  });

  it.runIf(kind === "pglite")("keeps PGlite data in <dataDir>/pgdata across a reopen", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gust-pglite-"));
    try {
      const first = await openDatabase({ dataDir });
      await applyMigrations(first);
      await first.db.insert(repositories).values({ forge: "local", fullName: "/srv/repo" });
      await first.close();
      await first.close(); // idempotent

      const second = await openDatabase({ dataDir });
      await applyMigrations(second);
      const rows = await second.db.select().from(repositories);
      expect(rows.map((row) => row.fullName)).toEqual(["/srv/repo"]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.runIf(kind === "pglite")("refuses a second open of a data directory in use, and takes over a stale lock", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gust-pglite-lock-"));
    try {
      const first = await openDatabase({ dataDir });
      await expect(openDatabase({ dataDir })).rejects.toMatchObject({ code: "data_dir_in_use" });
      await first.close();
      // A process killed with -9 leaves its lock behind.
      writeFileSync(join(dataDir, "gust-database.lock"), "999999999\n");
      const second = await openDatabase({ dataDir });
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.runIf(kind === "postgres")("reconnects the LISTEN connection and asks subscribers to look again", async () => {
    const other = await test.connect({ maxConnections: 2 });
    const got = collector();
    let resyncs = 0;
    const errors: Error[] = [];
    const listening = await openDatabase({ url: connectionUrl(other), onError: (error) => errors.push(error) });
    try {
      await listening.listen("gust_test_reconnect", got.handler, { onResync: () => resyncs++ });
      await other.notify("gust_test_reconnect", "before");
      await got.until(1);
      // Kill the LISTEN session from the server side, as a failover or a proxy timeout would.
      await other.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity
                                  where datname = current_database() and query ilike 'LISTEN%' and pid <> pg_backend_pid()`);
      const deadline = Date.now() + 10_000;
      while (resyncs === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(resyncs).toBe(1);
      await other.notify("gust_test_reconnect", "after");
      await got.until(2);
      expect(got.received).toEqual(["before", "after"]);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await listening.close();
    }
  });

  it.runIf(kind === "postgres")("fails to open with the server's reason when PostgreSQL refuses", async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.password = "wrong-password";
    await expect(openDatabase({ url: url.toString() })).rejects.toMatchObject({ name: "StoreError", message: expect.stringMatching(/password/i) });
    url.port = "1";
    await expect(openDatabase({ url: url.toString() })).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/unreachable/) });
  });
});

function connectionUrl(database: Awaited<ReturnType<typeof openDatabase>>): string {
  if (database.kind !== "postgres") throw new Error("postgres only");
  const options = database.pool.options as { connectionString?: string };
  return options.connectionString!;
}
