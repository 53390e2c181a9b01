// Retrying a pipeline. Whole: a new pipeline (the next number) from the stored plan at the same
// commit, created exactly as a delivery creates one. Failed jobs only: the same pipeline, in one
// transaction; its failed jobs and the jobs skipped or cancelled because of them are reset, the
// rest keep their results. A reset job keeps its attempt count, so the next lease makes a new
// attempt whose steps and log lines are told apart from the old ones.
import { asc, eq, sql } from "drizzle-orm";
import type { Plan } from "../pipeline";
import type { Database, Db } from "./database";
import { JOBS_CHANNEL, UNFINISHED_PIPELINE_STATUSES, advancePipeline, at, type JobStatus, type PipelineStatus } from "./job-progress";
import { PipelinesStore } from "./pipelines-store";
import { jobs, pipelines } from "./schema";
import { inTransaction, run } from "./transaction";

export type RetryResult =
  | { outcome: "retried"; pipeline: { id: number; number: number; status: PipelineStatus } }
  | { outcome: "not_found" }
  /** Refused: the pipeline is still running, nothing failed, or there is no plan to run again. */
  | { outcome: "conflict"; reason: string };

export interface RetryOptions {
  /** Only the failed jobs and those they held back, in the same pipeline. Default: a whole new pipeline. */
  failedOnly?: boolean;
  now?: Date;
}

/** Job results a failed-only retry runs again. */
const FAILED_STATUSES: readonly string[] = ["failure", "timed_out", "cancelled", "error"] satisfies JobStatus[];

/** What the reset decision reads of a job. */
export interface RetryJobState {
  id: number;
  key: string;
  status: string;
  needs: string[];
  /** The planner skipped it (a static `if:`): no failure of this run is the reason. */
  plannedSkip: boolean;
}

export interface JobReset {
  id: number;
  key: string;
  /** Jobs without needs are runnable at once; the others wait and are decided by advancePipeline. */
  status: "queued" | "waiting";
}

/**
 * The jobs a failed-only retry resets: the failed ones, and every job skipped or cancelled
 * downstream of a reset job (through `needs`, transitively). `states` are in plan order, which is
 * dependency order, so one pass sees a job's needs before the job.
 */
export function planFailedRetry(states: readonly RetryJobState[]): JobReset[] {
  const reset = new Set<string>();
  const resets: JobReset[] = [];
  for (const state of states) {
    const failed = FAILED_STATUSES.includes(state.status);
    const heldBack = (state.status === "skipped" || state.status === "cancelled") && !state.plannedSkip && state.needs.some((key) => reset.has(key));
    if (!failed && !heldBack) continue;
    reset.add(state.key);
    resets.push({ id: state.id, key: state.key, status: state.needs.length === 0 ? "queued" : "waiting" });
  }
  return resets;
}

export class PipelineRetry {
  private readonly db: Db;
  private readonly pipelines: PipelinesStore;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
    this.pipelines = new PipelinesStore(database);
  }

  retry(pipelineId: number, options: RetryOptions = {}): Promise<RetryResult> {
    return options.failedOnly ? this.retryFailed(pipelineId, options.now) : this.retryWhole(pipelineId, options.now);
  }

  private async retryWhole(pipelineId: number, now: Date | undefined): Promise<RetryResult> {
    const [row] = await run(() =>
      this.db
        .select({ repositoryId: pipelines.repositoryId, number: pipelines.number, plan: pipelines.plan, fromFork: pipelines.fromFork })
        .from(pipelines)
        .where(eq(pipelines.id, pipelineId)),
    );
    if (!row) return { outcome: "not_found" };
    const plan = row.plan as Plan | null;
    if (!plan) return { outcome: "conflict", reason: `pipeline #${row.number} has no plan to run again: its file could not be planned` };
    if (!plan.triggered) return { outcome: "conflict", reason: `pipeline #${row.number} was not triggered (${plan.reason}); there is nothing to run again` };
    const created = await this.pipelines.createPipeline({ repositoryId: row.repositoryId, plan, fromFork: row.fromFork, ...(now ? { now } : {}) });
    return { outcome: "retried", pipeline: { id: created.id, number: created.number, status: created.status } };
  }

  private retryFailed(pipelineId: number, now: Date | undefined): Promise<RetryResult> {
    const time = at(now);
    return inTransaction(this.db, async (tx): Promise<RetryResult> => {
      // The pipeline's lock first, then its jobs: the order every transaction changing jobs keeps.
      const [pipeline] = await tx
        .select({ id: pipelines.id, number: pipelines.number, status: pipelines.status })
        .from(pipelines)
        .where(eq(pipelines.id, pipelineId))
        .for("update");
      if (!pipeline) return { outcome: "not_found" };
      if ((UNFINISHED_PIPELINE_STATUSES as string[]).includes(pipeline.status)) {
        return { outcome: "conflict", reason: `pipeline #${pipeline.number} is still ${pipeline.status}; retry it once it finished` };
      }
      const states = await lockedJobStates(tx, pipelineId);
      const resets = planFailedRetry(states);
      if (resets.length === 0) return { outcome: "conflict", reason: `pipeline #${pipeline.number} has no failed, timed-out, cancelled or errored job to retry` };

      for (const reset of resets) {
        await tx
          .update(jobs)
          .set({
            status: reset.status,
            queuedAt: reset.status === "queued" ? time : null,
            startedAt: null,
            finishedAt: null,
            exitCode: null,
            failedStep: null,
            detail: null,
            leaseOwner: null,
            leaseExpiresAt: null,
            runId: null,
            cancelRequested: false,
          })
          .where(eq(jobs.id, reset.id));
      }
      await tx.update(pipelines).set({ status: "pending", finishedAt: null, cancelRequested: false }).where(eq(pipelines.id, pipelineId));
      // Waiting jobs whose needs all kept their results are decided now, conditions included (an
      // `if: failure()` job cancelled with its pipeline does not run now that nothing failed); the
      // pipeline is marked running, as jobs of it ran before.
      const progress = await advancePipeline(tx, { id: pipelineId, cancelRequested: false }, time);
      const queued = resets.some((reset) => reset.status === "queued") || progress.decided.some((job) => job.status === "queued");
      if (queued) await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${String(pipelineId)})`);
      const [after] = await tx.select({ status: pipelines.status }).from(pipelines).where(eq(pipelines.id, pipelineId));
      return { outcome: "retried", pipeline: { id: pipelineId, number: pipeline.number, status: after!.status as PipelineStatus } };
    });
  }
}

async function lockedJobStates(tx: Db, pipelineId: number): Promise<RetryJobState[]> {
  const rows = await tx
    .select({ id: jobs.id, key: jobs.key, status: jobs.status, needs: jobs.needs, plannedState: sql<string | null>`${jobs.spec}->>'state'` })
    .from(jobs)
    .where(eq(jobs.pipelineId, pipelineId))
    .orderBy(asc(jobs.id))
    .for("update");
  return rows.map((row) => ({ id: row.id, key: row.key, status: row.status, needs: row.needs, plannedSkip: row.plannedState === "skipped" }));
}
