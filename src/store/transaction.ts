// Transactions that survive the failures PostgreSQL asks clients to retry (serialization failures,
// deadlocks), and database errors turned into StoreErrors that say whether retrying can help.
import type { SQL } from "drizzle-orm";
import { StoreError, isGustError } from "../errors";
import type { Db } from "./database";

/** SQLSTATEs after which running the whole transaction again is the documented remedy. */
const RETRY_TRANSACTION = new Set(["40001", "40P01"]);
/** The server went away or is refusing work for now; the same call may succeed later. */
const TRANSIENT_STATE = /^(08|53|57P0[123])/;
const TRANSIENT_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/** Runs `work` in a transaction, again (up to `attempts` times) after a serialization failure or deadlock. */
export async function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => work(tx));
    } catch (error) {
      const state = sqlState(error);
      if (attempt < attempts && state !== undefined && RETRY_TRANSACTION.has(state)) {
        // A little jitter so the transactions that collided do not collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
        continue;
      }
      throw toStoreError(error);
    }
  }
}

/** Runs one statement outside a transaction, with errors classified. */
export async function run<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw toStoreError(error);
  }
}

/** Rows of a raw statement; both drivers answer `{ rows }`. Bigint columns differ (number or string): convert them. */
export async function rowsOf<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export function toStoreError(error: unknown): unknown {
  if (isGustError(error)) return error;
  const state = sqlState(error);
  const errno = errnoOf(error);
  if (state !== undefined && (RETRY_TRANSACTION.has(state) || TRANSIENT_STATE.test(state))) {
    return new StoreError(`database: ${rootMessage(error)}`, { retryable: true, code: "database_unavailable", cause: error });
  }
  if ((errno !== undefined && TRANSIENT_ERRNO.has(errno)) || /Connection terminated|connection timeout/i.test(rootMessage(error))) {
    return new StoreError(`database unreachable: ${rootMessage(error)}`, { retryable: true, code: "database_unavailable", cause: error });
  }
  if (state !== undefined) {
    return new StoreError(`database: ${rootMessage(error)} (SQLSTATE ${state})`, { retryable: false, code: "database_error", cause: error });
  }
  return error;
}

/** The SQLSTATE of a database error, looking through drizzle's wrapper (DrizzleQueryError.cause). */
export function sqlState(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    // No SQLSTATE class starts with E, so errno codes such as EPIPE are not taken for one.
    if (typeof code === "string" && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code)) return code;
  }
  return undefined;
}

function errnoOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("E")) return code;
  }
  return undefined;
}

function rootMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | undefined)?.cause;
    if (!cause) break;
    current = cause;
  }
  return current instanceof Error ? current.message : String(current);
}
