// LogStore over the log_chunks table (PGlite or PostgreSQL through drizzle): one row per appended
// batch, its lines numbered from the job's running count. jobs.log_lines is the count itself: the
// UPDATE that raises it locks the job's row, so concurrent appends to one job take disjoint,
// gapless ranges, and the chunk insert commits in the same transaction or not at all.
import { and, asc, eq, gte, lte, sql } from "drizzle-orm";
import { GustError } from "../errors";
import type { Db } from "../store/database";
import { inTransaction, run } from "../store/transaction";
import { jobs } from "../store/schema/jobs";
import { logChunks } from "../store/schema/log-chunks";
import { decodeBody, encodeBody } from "./chunk-body";
import { lineBytes } from "./line-text";
import type { AppendResult, LogLine, LogStore, NumberedLine, ReadOptions } from "./log-store";

export class DatabaseLogStore implements LogStore {
  /** Database errors reach callers as StoreErrors (src/store/transaction.ts) saying whether to retry. */
  constructor(private readonly db: Db) {}

  async append(jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    if (lines.length === 0) {
      const count = await this.lineCount(jobId);
      return { firstLine: count + 1, lastLine: count };
    }
    let bytes = 0;
    for (const line of lines) bytes += lineBytes(line.text);
    const body = encodeBody(lines);
    const count = lines.length;
    return inTransaction(this.db, async (tx) => {
      const [job] = await tx
        .update(jobs)
        .set({ logLines: sql`${jobs.logLines} + ${count}`, logBytes: sql`${jobs.logBytes} + ${bytes}` })
        .where(eq(jobs.id, jobId))
        .returning({ logLines: jobs.logLines });
      if (!job) throw new GustError(`cannot store log lines: job ${jobId} does not exist`, { fault: "internal", retryable: false, code: "log_job_missing" });
      const lastLine = Number(job.logLines);
      const firstLine = lastLine - count + 1;
      await tx.insert(logChunks).values({ jobId, firstLine, lineCount: count, byteCount: bytes, body });
      return { firstLine, lastLine };
    });
  }

  async read(jobId: number, { afterLine, limit, maxBytes = Number.POSITIVE_INFINITY }: ReadOptions): Promise<NumberedLine[]> {
    const after = Math.max(0, afterLine);
    if (limit <= 0) return [];
    // The chunks overlapping lines after+1 … after+limit: the one holding after+1 (the last to start
    // at or before it, a backward step through the primary key) and those starting up to after+limit.
    // What is read beyond the page is at most the two partial chunks at its ends.
    const first = sql`coalesce((select max(${logChunks.firstLine}) from ${logChunks} where ${logChunks.jobId} = ${jobId} and ${logChunks.firstLine} <= ${after + 1}), 0)`;
    const rows = await run(() =>
      this.db
        .select({ firstLine: logChunks.firstLine, body: logChunks.body })
        .from(logChunks)
        .where(and(eq(logChunks.jobId, jobId), gte(logChunks.firstLine, first), lte(logChunks.firstLine, after + limit)))
        .orderBy(asc(logChunks.firstLine)),
    );
    const out: NumberedLine[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (out.length >= limit || bytes >= maxBytes) break;
      for (const line of decodeBody(row.body, Number(row.firstLine), after + 1 + out.length, limit - out.length)) {
        if (bytes >= maxBytes) break;
        out.push(line);
        bytes += line.text.length;
      }
    }
    return out;
  }

  async lineCount(jobId: number): Promise<number> {
    const [job] = await run(() => this.db.select({ logLines: jobs.logLines }).from(jobs).where(eq(jobs.id, jobId)));
    return job ? Number(job.logLines) : 0;
  }

  async delete(jobId: number): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await tx.update(jobs).set({ logLines: 0, logBytes: 0 }).where(eq(jobs.id, jobId));
      await tx.delete(logChunks).where(eq(logChunks.jobId, jobId));
    });
  }
}
