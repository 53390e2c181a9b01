// Releases: one row per release job of a pipeline, holding the controller's persisted state
// (src/release/release-state.ts), its history of transitions and the commands people gave it.
// The release job (jobs.kind = 'release') carries the lease: the replica holding it ticks the release.
import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { jobs } from "./jobs";
import { pipelines } from "./pipelines";
import { repositories } from "./repositories";

export const releases = pgTable(
  "releases",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    jobId: bigint("job_id", { mode: "number" })
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    /** The release job's attempt: retrying a failed pipeline's release starts a new release. */
    jobAttempt: integer("job_attempt").notNull(),
    pipelineId: bigint("pipeline_id", { mode: "number" })
      .notNull()
      .references(() => pipelines.id, { onDelete: "cascade" }),
    repositoryId: bigint("repository_id", { mode: "number" })
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    /** The target alias ("fc cn-hangzhou/api@live", "local :8080"): one active release per target. */
    target: text("target").notNull(),
    /** fc | sae | local */
    targetType: text("target_type").notNull(),
    /** publishing | progressing | paused | rolling-back | promoted | rolled-back | aborted | failed */
    phase: text("phase").notNull(),
    version: text("version"),
    /** The canary's live weight in percent (100 once promoted). */
    weight: real("weight").notNull().default(0),
    /** ReleaseState. */
    state: jsonb("state").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [
    uniqueIndex("releases_job_attempt").on(table.jobId, table.jobAttempt),
    // The lock that keeps two releases off one alias: a second waits until the first has ended.
    uniqueIndex("releases_active_target").on(table.target).where(sql`phase not in ('promoted', 'rolled-back', 'aborted', 'failed')`),
    index("releases_pipeline").on(table.pipelineId, table.id),
    index("releases_repository_created").on(table.repositoryId, table.createdAt),
    index("releases_target_created").on(table.target, table.createdAt),
  ],
);

/** The audit history: every transition with its reason. */
export const releaseEvents = pgTable(
  "release_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    releaseId: bigint("release_id", { mode: "number" })
      .notNull()
      .references(() => releases.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull(),
    fromPhase: text("from_phase").notNull(),
    toPhase: text("to_phase").notNull(),
    weight: real("weight").notNull(),
    reason: text("reason").notNull(),
  },
  (table) => [index("release_events_release").on(table.releaseId, table.id)],
);

/** What people asked of a release (promote, pause, …), consumed in order by the replica ticking it. */
export const releaseCommands = pgTable(
  "release_commands",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    releaseId: bigint("release_id", { mode: "number" })
      .notNull()
      .references(() => releases.id, { onDelete: "cascade" }),
    command: text("command").notNull(),
    requestedBy: text("requested_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    consumedAt: timestamp("consumed_at", { withTimezone: true }),
  },
  (table) => [index("release_commands_pending").on(table.releaseId, table.id).where(sql`consumed_at is null`)],
);

export type ReleaseRow = typeof releases.$inferSelect;
export type ReleaseEventRow = typeof releaseEvents.$inferSelect;
