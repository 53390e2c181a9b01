import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DatabaseLogStore } from "../../src/logs/database-log-store";
import { jobs } from "../../src/store/schema/jobs";
import { logChunks } from "../../src/store/schema/log-chunks";
import { rowsOf } from "../../src/store/transaction";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { line, logStoreContract } from "./log-store-contract";

const texts = (count: number) => Array.from({ length: count }, (_, i) => line(`t${i}`));
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
    // Small bodies stay readable: the texts, then the lengths and the other fields as JSON.
    expect(chunks[0]!.body).toBe('héllo\n\n{"v":2,"n":[5,0],"r":[1,1700000000000,1,0,0,1,1700000000000,1,null,2]}');
    const [row] = await db.select({ lines: jobs.logLines, bytes: jobs.logBytes }).from(jobs).where(eq(jobs.id, job));
    expect(row).toEqual({ lines: 3, bytes: 14 });
    await store.delete(job);
    const [after] = await db.select({ lines: jobs.logLines, bytes: jobs.logBytes }).from(jobs).where(eq(jobs.id, job));
    expect(after).toEqual({ lines: 0, bytes: 0 });
  });

  it("deflates large batches and bodies holding NUL, and reads them from any line", async () => {
    const db = test.database.db;
    const store = new DatabaseLogStore(db);
    const job = await (await jobMaker(db))();
    const big = Array.from({ length: 3000 }, (_, i) => line(`building module ${i} of 3000 … ✓ ${"=".repeat(i % 50)}`, { at: 1_700_000_000_000 + (i >> 4), step: i % 3 === 0 ? null : 1 }));
    await store.append(job, big);
    await store.append(job, [line("nul \u0000 inside")]);
    const chunks = await db.select().from(logChunks).where(eq(logChunks.jobId, job)).orderBy(logChunks.firstLine);
    expect(chunks.map((c) => c.body.slice(0, 8))).toEqual(["deflate:", "deflate:"]);
    const raw = big.reduce((sum, l) => sum + Buffer.byteLength(l.text) + 1, 0);
    expect(chunks[0]!.byteCount).toBe(raw);
    expect(chunks[0]!.body.length).toBeLessThan(raw / 3);
    for (const after of [0, 1, 1234, 2999]) {
      const page = await store.read(job, { afterLine: after, limit: 5 });
      expect(page).toEqual([...big, line("nul \u0000 inside")].slice(after, after + 5).map((l, i) => ({ ...l, number: after + i + 1 })));
    }
  });

  it("reads chunks written in the earlier form, one JSON array per line", async () => {
    const db = test.database.db;
    const store = new DatabaseLogStore(db);
    const job = await (await jobMaker(db))();
    await db.update(jobs).set({ logLines: 2, logBytes: 8 }).where(eq(jobs.id, job));
    await db.insert(logChunks).values({ jobId: job, firstLine: 1, lineCount: 2, byteCount: 8, body: '[1700000000000,1,0,"stdout","héllo"]\n[1700000000001,2,null,"system",""]' });
    await store.append(job, [line("third")]);
    expect(await store.read(job, { afterLine: 0, limit: 10 })).toEqual([
      { number: 1, at: 1_700_000_000_000, attempt: 1, step: 0, stream: "stdout", text: "héllo" },
      { number: 2, at: 1_700_000_000_001, attempt: 2, step: null, stream: "system", text: "" },
      { ...line("third"), number: 3 },
    ]);
  });

  it("says which chunk cannot be read when a body is damaged", async () => {
    const db = test.database.db;
    const store = new DatabaseLogStore(db);
    const job = await (await jobMaker(db))();
    await store.append(job, [line("a"), line("b")]);
    await db.update(logChunks).set({ body: 'a\nb\n{"v":2,"n":[1,1],"r":[1,0,1,0,0]}' }).where(eq(logChunks.jobId, job));
    await expect(store.read(job, { afterLine: 0, limit: 10 })).rejects.toMatchObject({
      code: "log_chunk_corrupt",
      retryable: false,
      message: expect.stringMatching(/chunk from line 1 .*runs hold 1 lines, not 2/),
    });
  });

  it("fails an append queued behind one that failed, without writing it", async () => {
    const db = test.database.db;
    const store = new DatabaseLogStore(db);
    const job = await (await jobMaker(db))();
    // Ten more lines overflow the count; one more would still fit.
    const nearMax = "9223372036854775800";
    await db.update(jobs).set({ logLines: sql`${nearMax}::bigint` }).where(eq(jobs.id, job));
    const first = store.append(job, texts(10));
    const second = store.append(job, texts(1));
    await expect(first).rejects.toMatchObject({ message: expect.stringMatching(/out of range/) });
    await expect(second).rejects.toBe(await first.catch((error: unknown) => error));
    const [row] = await rowsOf<{ lines: string }>(db, sql`select log_lines::text as lines from ${jobs} where id = ${job}`);
    expect(row?.lines).toBe(nearMax);
    expect(await db.select().from(logChunks).where(eq(logChunks.jobId, job))).toEqual([]);
    // An append made afterwards is not affected.
    await db.update(jobs).set({ logLines: 0 }).where(eq(jobs.id, job));
    expect(await store.append(job, texts(2))).toEqual({ firstLine: 1, lastLine: 2 });
  });

  it("refuses lines for a job that does not exist, storing nothing", async () => {
    const store = new DatabaseLogStore(test.database.db);
    await expect(store.append(987_654_321, [line("x")])).rejects.toMatchObject({ code: "log_job_missing" });
    const rows = await test.database.db.select().from(logChunks).where(eq(logChunks.jobId, 987_654_321));
    expect(rows).toEqual([]);
  });
});
