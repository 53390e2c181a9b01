// Outbox of status updates for forges (check runs, commit statuses). Rows are written by database
// triggers (migrations/0001_forge_outbox.sql) in the transaction that changes a job's or pipeline's
// status, whichever code path changes it; the row says only what changed, and the sender builds the
// forge's update from the current rows when it sends. Sent in order per job, the newest state of a
// job attempt replacing older ones not sent yet, retried with backoff, never blocking the queue.
import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { jobs } from "./jobs";
import { pipelines } from "./pipelines";

export const forgeUpdates = pgTable(
  "forge_updates",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    pipelineId: bigint("pipeline_id", { mode: "number" })
      .notNull()
      .references(() => pipelines.id, { onDelete: "cascade" }),
    /** Null for an update of the pipeline run itself. */
    jobId: bigint("job_id", { mode: "number" }).references(() => jobs.id, { onDelete: "cascade" }),
    /**
     * Which check run of the job (or pipeline) shows it, counting from 1: a new one starts when an
     * attempt ends in the queue again (a retry, a lost runner) and when a finished job or pipeline
     * is run again (a retry of failed jobs). Sent to the forge as the update's attempt.
     */
    attempt: integer("attempt").notNull().default(1),
    /** jobs.attempt at the change: whose steps and log lines the update shows (0 before the first lease). */
    jobAttempt: integer("job_attempt").notNull().default(0),
    /**
     * The job's or pipeline's status when it changed; `requeued` when a running attempt ended and
     * the job went back to the queue (a retry, a lost runner): that attempt is closed on the forge.
     */
    state: text("state").notNull(),
    /** pending → sent | superseded (a newer state of the same job attempt went instead) | failed (gave up) */
    status: text("status").notNull().default("pending"),
    /** Failed sends so far. */
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** Since when sends of this update (or of the older ones it replaced) have been failing. */
    failingSince: timestamp("failing_since", { withTimezone: true }),
    /** The replica sending it, until when: a dead replica's claim is taken over once it expires. */
    claimedBy: text("claimed_by"),
    claimExpiresAt: timestamp("claim_expires_at", { withTimezone: true }),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (table) => [
    // What senders look at: the pending updates of each job (and pipeline run) in order.
    index("forge_updates_pending").on(table.pipelineId, table.jobId, table.id).where(sql`status = 'pending'`),
    // The triggers' look-up of a subject's latest update, and the cascades from pipelines and jobs.
    index("forge_updates_subject").on(table.pipelineId, table.jobId, table.id),
    index("forge_updates_job").on(table.jobId, table.id),
  ],
);

export type ForgeUpdateRow = typeof forgeUpdates.$inferSelect;
