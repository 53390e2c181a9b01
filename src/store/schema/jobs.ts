// Planned jobs of a pipeline, and the queue: a runnable job is leased by one dispatcher at a time
// (owner + expiry renewed by heartbeats); an expired lease is reconciled with the executor.
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { pipelines } from "./pipelines";
import { repositories } from "./repositories";

export const jobs = pgTable(
  "jobs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    pipelineId: bigint("pipeline_id", { mode: "number" })
      .notNull()
      .references(() => pipelines.id, { onDelete: "cascade" }),
    /** Denormalised for per-repository concurrency limits at lease time. */
    repositoryId: bigint("repository_id", { mode: "number" })
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    /** job: runs on an executor; release: the pipeline's release, ticked by the release worker. */
    kind: text("kind").notNull().default("job"),
    /** Planned job key, unique in the pipeline (`test-node-20`). */
    key: text("key").notNull(),
    /** Display name (`test (node: 20)`). */
    name: text("name").notNull(),
    /** Keys of the jobs of the same pipeline this one waits for. */
    needs: text("needs").array().notNull().default(sql`'{}'::text[]`),
    /** The PlannedJob (src/pipeline/plan-types.ts). */
    spec: jsonb("spec").notNull(),
    /** waiting | queued | running | success | failure | cancelled | skipped | timed_out | error */
    status: text("status").notNull().default("waiting"),
    attempt: integer("attempt").notNull().default(0),
    /** Replica holding the lease while the job runs, and until when. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    /** The executor's run id of the current attempt, to reconcile and adopt. */
    runId: text("run_id"),
    cancelRequested: boolean("cancel_requested").notNull().default(false),
    exitCode: integer("exit_code"),
    failedStep: integer("failed_step"),
    /** Why it was skipped, cancelled or failed, for people. */
    detail: text("detail"),
    logBytes: bigint("log_bytes", { mode: "number" }).notNull().default(0),
    logLines: bigint("log_lines", { mode: "number" }).notNull().default(0),
    queuedAt: timestamp("queued_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /**
     * The forge's id for the check run of attempt `report_attempt` (forge-updates outbox): later
     * updates of that attempt update it, also after a restart; the next attempt gets its own.
     */
    reportId: text("report_id"),
    reportAttempt: integer("report_attempt"),
  },
  (table) => [
    uniqueIndex("jobs_pipeline_key").on(table.pipelineId, table.key),
    index("jobs_queued").on(table.queuedAt).where(sql`status = 'queued'`),
    index("jobs_running_lease").on(table.leaseExpiresAt).where(sql`status = 'running'`),
    index("jobs_repository_running").on(table.repositoryId).where(sql`status = 'running'`),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
