import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DatabaseLogStore } from "../../src/logs/database-log-store";
import { jobs } from "../../src/store/schema/jobs";
import { logChunks } from "../../src/store/schema/log-chunks";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { line, logStoreContract } from "./log-store-contract";
import { jobMaker } from "./log-database";

describe.each(DATABASE_KINDS)("DatabaseLogStore on %s", (kind) => {
  const test = useTestDatabase(kind);

  logStoreContract(`database (${kind})`, async () => ({
    store: new DatabaseLogStore(test.database.db),
    createJob: await jobMaker(test.database.db),
    close: async () => {},
  }));

  it("writes one chunk per batch and keeps jobs.log_lines and log_bytes with it", async () => {
    const db = test.database.db;
    const store = new DatabaseLogStore(db);
    const job = await (await jobMaker(db))();
    await store.append(job, [line("héllo"), line("", { step: null, stream: "system" })]);
    await store.append(job, [line("third")]);
    const chunks = await db.select().from(logChunks).where(eq(logChunks.jobId, job)).orderBy(logChunks.firstLine);
    expect(chunks.map((c) => [c.firstLine, c.lineCount, c.byteCount])).toEqual([
      [1, 2, 7 + 1],
      [3, 1, 6],
    ]);
    expect(chunks[0]!.body).toBe('[1700000000000,1,0,"stdout","héllo"]\n[1700000000000,1,null,"system",""]');
    const [row] = await db.select({ lines: jobs.logLines, bytes: jobs.logBytes }).from(jobs).where(eq(jobs.id, job));
    expect(row).toEqual({ lines: 3, bytes: 14 });
    await store.delete(job);
    const [after] = await db.select({ lines: jobs.logLines, bytes: jobs.logBytes }).from(jobs).where(eq(jobs.id, job));
    expect(after).toEqual({ lines: 0, bytes: 0 });
  });

  it("refuses lines for a job that does not exist, storing nothing", async () => {
    const store = new DatabaseLogStore(test.database.db);
    await expect(store.append(987_654_321, [line("x")])).rejects.toMatchObject({ code: "log_job_missing" });
    const rows = await test.database.db.select().from(logChunks).where(eq(logChunks.jobId, 987_654_321));
    expect(rows).toEqual([]);
  });
});
