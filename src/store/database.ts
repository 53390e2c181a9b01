// The database client: embedded PGlite (PostgreSQL compiled to WebAssembly) in the data directory,
// or PostgreSQL through a pg.Pool. Both speak the same SQL and use the same schema and migrations;
// everything above this module sees one drizzle type and never asks which one it got, except where
// the difference below matters.
//
// How PGlite differs: it is ONE connection inside this process. Every statement waits for the
// transaction in progress to end, so transactions serialize (no concurrency to test, no deadlocks,
// `FOR UPDATE SKIP LOCKED` never skips anything) and a query on `db` from inside a transaction
// callback waits for that transaction forever: inside a transaction use its `tx` only. Session
// state (advisory locks, LISTEN) is shared by all callers, and only this process can open the data
// directory. NOTIFY and LISTEN work within the process.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/node-postgres";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import * as schema from "./schema";
import { lockDataDir } from "./data-dir-lock";
import { NotificationListener } from "./notification-listener";
import { run, toStoreError } from "./transaction";

export type Schema = typeof schema;
/** One type for both drivers; a transaction (`tx`) is one too. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** Called with a notification's payload. */
export type NotificationHandler = (payload: string) => void;

export interface ListenOptions {
  /**
   * Called after the LISTEN connection was lost and restored: notifications sent meanwhile are
   * gone, so look at the database again. (PostgreSQL only; PGlite never loses them.)
   */
  onResync?: () => void;
}

interface DatabaseBase {
  db: Db;
  /** Resolves once LISTEN is in effect; the returned function stops this handler. */
  listen(channel: string, handler: NotificationHandler, options?: ListenOptions): Promise<() => Promise<void>>;
  /** Outside a transaction; inside one, `select pg_notify(...)` on the `tx` sends it at commit. */
  notify(channel: string, payload: string): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

export type Database =
  | (DatabaseBase & { kind: "pglite"; client: PGlite })
  | (DatabaseBase & { kind: "postgres"; pool: pg.Pool });

export interface DatabaseOptions {
  /** postgres:// URL; absent means the embedded PGlite database. */
  url?: string;
  /** PGlite keeps its files in `<dataDir>/pgdata`; `:memory:` keeps nothing. */
  dataDir?: string;
  /** PostgreSQL pool size (default 10). */
  maxConnections?: number;
  /** Errors of idle connections and of the LISTEN connection (they are recovered from). */
  onError?: (error: Error) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url !== undefined) return openPostgres(options.url, options);
  if (options.dataDir === undefined) throw new TypeError("openDatabase: give a url or a dataDir");
  return openPglite(options.dataDir);
}

async function openPglite(dataDir: string): Promise<Database> {
  if (dataDir === ":memory:") return pgliteDatabase(await PGlite.create());
  const directory = join(dataDir, "pgdata");
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dataDir);
  try {
    return pgliteDatabase(await PGlite.create(directory), unlock);
  } catch (error) {
    unlock();
    throw error;
  }
}

/**
 * A Database over a PGlite instance created elsewhere (e.g. from a data directory dump); closing
 * it closes the instance, then calls `onClosed`.
 */
export function pgliteDatabase(client: PGlite, onClosed: () => void = () => {}): Database {
  const db: Db = drizzlePglite(client, { schema });
  let closing: Promise<void> | undefined;
  return {
    kind: "pglite",
    client,
    db,
    async listen(channel, handler) {
      const stop = await client.listen(channel, handler);
      return async () => {
        if (!client.closed) await stop();
      };
    },
    async notify(channel, payload) {
      await run(() => db.execute(sql`select pg_notify(${channel}, ${payload})`));
    },
    close() {
      closing ??= client.close().finally(onClosed);
      return closing;
    },
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const onError = options.onError ?? (() => {});
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client that loses its connection emits 'error' on the pool; unhandled, it would end the
  // process. The pool drops that client and opens another when needed.
  pool.on("error", onError);
  // Fail now, with the server's own message, rather than at the first query.
  const probe = await pool.connect().catch(async (error: unknown) => {
    await pool.end().catch(() => {});
    throw toStoreError(error);
  });
  probe.release();
  const db: Db = drizzlePostgres(pool, { schema });
  const listener = new NotificationListener(url, onError);
  let closing: Promise<void> | undefined;
  return {
    kind: "postgres",
    pool,
    db,
    listen: (channel, handler, listenOptions) => listener.add(channel, handler, listenOptions?.onResync),
    async notify(channel, payload) {
      await run(() => db.execute(sql`select pg_notify(${channel}, ${payload})`));
    },
    close() {
      closing ??= (async () => {
        await listener.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
