// LogStore over the log_chunks table (PGlite or PostgreSQL through drizzle): one row per appended
// batch, its lines numbered from the job's running count. jobs.log_lines is the count itself: the
// UPDATE that raises it locks the job's row, so concurrent appends to one job take disjoint,
// gapless ranges. The UPDATE and the chunk's INSERT are one statement (a data-modifying WITH), so
// they commit together or not at all, in one round trip. Body format: chunk-body.ts and
// chunk-packing.ts.
//
// Appends of one job made here are written one after another, in call order, each packed (encoded,
// deflated) as soon as it is made: a batch is prepared while the one before it is being written.
// One queued behind an append that fails fails with the same error, unwritten, so a log never
// continues past lines that were lost.
import { and, asc, eq, gte, lte, sql } from "drizzle-orm";
import { GustError, StoreError } from "../errors";
import type { Db } from "../store/database";
import { inTransaction, rowsOf, run } from "../store/transaction";
import { jobs } from "../store/schema/jobs";
import { logChunks } from "../store/schema/log-chunks";
import { decodeChunk, decodeLegacyBody, isLegacyBody } from "./chunk-body";
import { type PackedChunk, packChunk, unpackBody } from "./chunk-packing";
import type { AppendResult, LogLine, LogStore, NumberedLine, ReadOptions } from "./log-store";

export class DatabaseLogStore implements LogStore {
  /** The last append of each job with one pending. */
  private readonly pending = new Map<number, Promise<AppendResult>>();

  /** Database errors reach callers as StoreErrors (src/store/transaction.ts) saying whether to retry. */
  constructor(private readonly db: Db) {}

  async append(jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    const packed = lines.length === 0 ? null : packChunk(lines);
    packed?.catch(() => {}); // awaited below, unless an earlier append failed first
    const before = this.pending.get(jobId);
    const append = (async () => {
      await before;
      return packed ? this.insert(jobId, lines.length, await packed) : this.emptyAppend(jobId);
    })();
    this.pending.set(jobId, append);
    try {
      return await append;
    } finally {
      if (this.pending.get(jobId) === append) this.pending.delete(jobId);
    }
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
        .select({ firstLine: logChunks.firstLine, lineCount: logChunks.lineCount, body: logChunks.body })
        .from(logChunks)
        .where(and(eq(logChunks.jobId, jobId), gte(logChunks.firstLine, first), lte(logChunks.firstLine, after + limit)))
        .orderBy(asc(logChunks.firstLine)),
    );
    const out: NumberedLine[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (out.length >= limit || bytes >= maxBytes) break;
      for (const line of await this.decode(jobId, row, after + 1 + out.length, limit - out.length)) {
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

  private async emptyAppend(jobId: number): Promise<AppendResult> {
    const count = await this.lineCount(jobId);
    return { firstLine: count + 1, lastLine: count };
  }

  private async insert(jobId: number, count: number, { body, textBytes: bytes }: PackedChunk): Promise<AppendResult> {
    const [row] = await run(() =>
      rowsOf<{ first_line: number | string }>(
        this.db,
        sql`with job as (
              update ${jobs} set log_lines = log_lines + ${count}::bigint, log_bytes = log_bytes + ${bytes}::bigint
               where id = ${jobId}
              returning log_lines)
            insert into ${logChunks} (job_id, first_line, line_count, byte_count, body)
            select ${jobId}::bigint, log_lines - ${count}::bigint + 1, ${count}::int, ${bytes}::int, ${body}::text from job
            returning first_line`,
      ),
    );
    if (!row) throw new GustError(`cannot store log lines: job ${jobId} does not exist`, { fault: "internal", retryable: false, code: "log_job_missing" });
    const firstLine = Number(row.first_line);
    return { firstLine, lastLine: firstLine + count - 1 };
  }

  private async decode(jobId: number, row: { firstLine: number; lineCount: number; body: string }, from: number, limit: number): Promise<NumberedLine[]> {
    const firstLine = Number(row.firstLine);
    try {
      if (isLegacyBody(row.body)) return decodeLegacyBody(row.body, firstLine, from, limit);
      return decodeChunk(await unpackBody(row.body), firstLine, row.lineCount, from, limit);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreError(`log of job ${jobId}: the chunk from line ${firstLine} cannot be read: ${reason}`, { retryable: false, code: "log_chunk_corrupt", cause: error });
    }
  }
}
