// Steps of a job attempt as the executor reports them: one row per (job, attempt, step index),
// written when a step starts and again when it finishes (or once, for a step that never started).
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, Db } from "./database";
import { steps } from "./schema";
import { run } from "./transaction";

export type StepStatus = "pending" | "running" | "success" | "failure" | "skipped" | "cancelled" | "timed_out";

export interface StepUpdate {
  jobId: number;
  attempt: number;
  index: number;
  name: string;
  status: StepStatus;
  exitCode?: number | null;
  reason?: string | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

export class StepsStore {
  private readonly db: Db;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
  }

  /** Creates or updates the step's row; times already recorded are kept when not given again. */
  async recordStep(update: StepUpdate): Promise<void> {
    const values = {
      jobId: update.jobId,
      attempt: update.attempt,
      index: update.index,
      name: update.name,
      status: update.status,
      exitCode: update.exitCode ?? null,
      reason: update.reason ?? null,
      startedAt: update.startedAt ?? null,
      finishedAt: update.finishedAt ?? null,
    };
    await run(() =>
      this.db
        .insert(steps)
        .values(values)
        .onConflictDoUpdate({
          target: [steps.jobId, steps.attempt, steps.index],
          set: {
            status: values.status,
            exitCode: values.exitCode,
            reason: values.reason,
            startedAt: sql`coalesce(excluded.started_at, ${steps.startedAt})`,
            finishedAt: sql`coalesce(excluded.finished_at, ${steps.finishedAt})`,
          },
        }),
    );
  }

  /** Indexes of the attempt's steps whose end is recorded (an adopting replica reports them no more). */
  async finishedSteps(jobId: number, attempt: number): Promise<number[]> {
    const rows = await run(() =>
      this.db
        .select({ index: steps.index })
        .from(steps)
        .where(and(eq(steps.jobId, jobId), eq(steps.attempt, attempt), inArray(steps.status, ["success", "failure", "skipped", "cancelled", "timed_out"]))),
    );
    return rows.map((row) => row.index).sort((a, b) => a - b);
  }
}
