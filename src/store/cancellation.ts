// Cancelling a pipeline in the database. Jobs not started yet end as cancelled; running jobs are
// marked and returned (and announced on CANCEL_CHANNEL) for their lease owners to stop through the
// executor, after which finishJob records them. Waiting jobs are decided as their needs finish,
// with the pipeline cancelled: a job whose condition says always() or cancelled() still runs, as it
// does under `gust run`.
import { and, asc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "./database";
import { CANCEL_CHANNEL, JOBS_CHANNEL, UNFINISHED_JOB_STATUSES, UNFINISHED_PIPELINE_STATUSES, advancePipeline, type DecidedJob, type PipelineStatus } from "./job-progress";
import { jobs, pipelines } from "./schema";
import { inTransaction, run } from "./transaction";

/** A running job to stop, and who runs it. */
export interface StopRequest {
  jobId: number;
  runId: string | null;
  leaseOwner: string | null;
}

export interface CancelResult {
  /** `cancelled`: the cancel was recorded (jobs may still be stopping; see pipelineStatus). */
  outcome: "not_found" | "already_finished" | "cancelled";
  /** Running jobs the caller (or their owners, through CANCEL_CHANNEL) must stop. */
  stop: StopRequest[];
  decided: DecidedJob[];
  /** Set when the pipeline finished in this call. */
  pipelineStatus?: PipelineStatus;
}

export async function cancelPipeline(tx: Db, pipelineId: number, reason: string, now: SQL): Promise<CancelResult> {
  const [pipeline] = await tx
    .select({ id: pipelines.id, status: pipelines.status })
    .from(pipelines)
    .where(eq(pipelines.id, pipelineId))
    .for("update");
  if (!pipeline) return { outcome: "not_found", stop: [], decided: [] };
  if (!(UNFINISHED_PIPELINE_STATUSES as string[]).includes(pipeline.status)) return { outcome: "already_finished", stop: [], decided: [] };

  await tx.update(pipelines).set({ cancelRequested: true }).where(eq(pipelines.id, pipelineId));
  const unfinished = and(eq(jobs.pipelineId, pipelineId), inArray(jobs.status, UNFINISHED_JOB_STATUSES));
  await tx.update(jobs).set({ cancelRequested: true }).where(unfinished);
  await tx
    .update(jobs)
    .set({ status: "cancelled", detail: reason, finishedAt: now })
    .where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.status, "queued")));
  const stop = await tx
    .select({ jobId: jobs.id, runId: jobs.runId, leaseOwner: jobs.leaseOwner })
    .from(jobs)
    .where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.status, "running")))
    .orderBy(asc(jobs.id));

  const progress = await advancePipeline(tx, { id: pipelineId, cancelRequested: true }, now);
  if (progress.decided.some((job) => job.status === "queued")) await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${String(pipelineId)})`);
  if (stop.length > 0) await tx.execute(sql`select pg_notify(${CANCEL_CHANNEL}, ${JSON.stringify(stop.map((job) => job.jobId))})`);
  return { outcome: "cancelled", stop, decided: progress.decided, ...(progress.pipelineStatus ? { pipelineStatus: progress.pipelineStatus } : {}) };
}

/** Older pending or running pipelines of the same repository and concurrency group, oldest first. */
export async function olderInGroup(db: Db, pipelineId: number): Promise<number[]> {
  const [pipeline] = await db
    .select({ repositoryId: pipelines.repositoryId, group: pipelines.concurrencyGroup })
    .from(pipelines)
    .where(eq(pipelines.id, pipelineId));
  if (!pipeline?.group) return [];
  const rows = await db
    .select({ id: pipelines.id })
    .from(pipelines)
    .where(
      and(
        eq(pipelines.repositoryId, pipeline.repositoryId),
        eq(pipelines.concurrencyGroup, pipeline.group),
        inArray(pipelines.status, UNFINISHED_PIPELINE_STATUSES),
        lt(pipelines.id, pipelineId),
      ),
    )
    .orderBy(asc(pipelines.id));
  return rows.map((row) => row.id);
}

/**
 * `concurrency: {cancel-in-progress: true}`: cancels the older runs of the group. One transaction
 * per pipeline, oldest first, so a long list never holds many pipelines' locks at once.
 */
export async function cancelInProgress(db: Db, pipelineId: number, now: SQL): Promise<{ pipelineIds: number[]; stop: StopRequest[] }> {
  const older = await run(() => olderInGroup(db, pipelineId));
  const pipelineIds: number[] = [];
  const stop: StopRequest[] = [];
  for (const id of older) {
    const result = await inTransaction(db, (tx) => cancelPipeline(tx, id, `superseded by pipeline ${pipelineId} (concurrency group)`, now));
    if (result.outcome === "cancelled") pipelineIds.push(id);
    stop.push(...result.stop);
  }
  return { pipelineIds, stop };
}
