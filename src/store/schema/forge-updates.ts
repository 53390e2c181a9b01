// Outbox of status updates for forges (check runs, commit statuses): written in the transaction
// that changes a job, sent in order per job, retried with backoff, never blocking the queue.
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { jobs } from "./jobs";
import { pipelines } from "./pipelines";

export const forgeUpdates = pgTable(
  "forge_updates",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    pipelineId: bigint("pipeline_id", { mode: "number" })
      .notNull()
      .references(() => pipelines.id, { onDelete: "cascade" }),
    jobId: bigint("job_id", { mode: "number" }).references(() => jobs.id, { onDelete: "cascade" }),
    /** What to report: the state and the text for the forge. */
    payload: jsonb("payload").notNull(),
    /** pending | sent | failed (gave up) */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("forge_updates_pending").on(table.nextAttemptAt).where(sql`status = 'pending'`)],
);

export type ForgeUpdateRow = typeof forgeUpdates.$inferSelect;
