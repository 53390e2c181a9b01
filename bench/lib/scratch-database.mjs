// A PostgreSQL database of a benchmark's own on the server at `url`, created empty and dropped
// afterwards, so a run never sees another's rows and leaves nothing behind.
import pg from "pg";

/** The server to run PostgreSQL variants against, if any. */
export function benchDatabaseUrl() {
  return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
}

export async function createScratchDatabase(url, name) {
  const database = `${name}_${process.pid}`;
  const admin = async (statement) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`drop database if exists ${database} with (force)`);
  await admin(`create database ${database}`);
  const target = new URL(url);
  target.pathname = `/${database}`;
  return {
    url: target.toString(),
    /** Call once every client of it is gone (FORCE ends stragglers). */
    drop: () => admin(`drop database if exists ${database} with (force)`),
  };
}
