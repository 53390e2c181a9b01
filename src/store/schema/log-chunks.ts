// Job logs in durable chunks: lines already masked, numbered from 1 per job, so a reader resumes
// from a line number with nothing lost or repeated.
import { bigint, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { jobs } from "./jobs";

export const logChunks = pgTable(
  "log_chunks",
  {
    jobId: bigint("job_id", { mode: "number" })
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    /** Number of the chunk's first line (1-based, per job). */
    firstLine: bigint("first_line", { mode: "number" }).notNull(),
    lineCount: integer("line_count").notNull(),
    byteCount: integer("byte_count").notNull(),
    /**
     * The lines' texts and a JSON index of their lengths and fields, as it is or deflated and
     * base64-encoded (src/logs/chunk-body.ts, chunk-packing.ts); older rows: one JSON array per line.
     */
    body: text("body").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.jobId, table.firstLine] })],
);

export type LogChunkRow = typeof logChunks.$inferSelect;
