// Steps of a job attempt as they ran (or were skipped).
import { bigint, bigserial, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { jobs } from "./jobs";

export const steps = pgTable(
  "steps",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    jobId: bigint("job_id", { mode: "number" })
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    index: integer("index").notNull(),
    name: text("name").notNull(),
    /** pending | running | success | failure | skipped | cancelled | timed_out */
    status: text("status").notNull().default("pending"),
    exitCode: integer("exit_code"),
    reason: text("reason"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [uniqueIndex("steps_job_attempt_index").on(table.jobId, table.attempt, table.index)],
);

export type StepRow = typeof steps.$inferSelect;
