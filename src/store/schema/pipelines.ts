// One run of one pipeline file at one commit, with the plan it was created from.
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { deliveries } from "./deliveries";
import { repositories } from "./repositories";

export const pipelines = pgTable(
  "pipelines",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repositoryId: bigint("repository_id", { mode: "number" })
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    /** Per repository, counting from 1: what people call "pipeline #12". */
    number: integer("number").notNull(),
    name: text("name").notNull(),
    file: text("file").notNull(),
    /** push | pull_request | merge_request | tag | manual | schedule */
    event: text("event").notNull(),
    ref: text("ref").notNull(),
    branch: text("branch"),
    tag: text("tag"),
    sha: text("sha").notNull(),
    /** pending | running | success | failure | cancelled | error | skipped */
    status: text("status").notNull().default("pending"),
    /** For status error: the full message (a broken pipeline file, every problem). */
    error: text("error"),
    /** The Plan (src/pipeline/plan-types.ts) as created; jobs reference its planned jobs. */
    plan: jsonb("plan"),
    inputs: jsonb("inputs").notNull().default(sql`'{}'::jsonb`),
    /** Pull requests from forks get no secrets. */
    fromFork: boolean("from_fork").notNull().default(false),
    concurrencyGroup: text("concurrency_group"),
    deliveryId: bigint("delivery_id", { mode: "number" }).references(() => deliveries.id, { onDelete: "set null" }),
    cancelRequested: boolean("cancel_requested").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /**
     * The forge's id for the check run of run `report_attempt` (forge-updates outbox), so updates
     * never create a second one; a failed-jobs retry reopens the pipeline as a new run with its own.
     */
    reportId: text("report_id"),
    reportAttempt: integer("report_attempt"),
  },
  (table) => [
    uniqueIndex("pipelines_repository_number").on(table.repositoryId, table.number),
    index("pipelines_repository_created").on(table.repositoryId, table.createdAt),
    index("pipelines_concurrency_group").on(table.concurrencyGroup).where(sql`status in ('pending', 'running')`),
  ],
);

export type PipelineRow = typeof pipelines.$inferSelect;
