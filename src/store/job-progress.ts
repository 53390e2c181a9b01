// How a pipeline moves on inside the database, with the same rules as `gust run` (PipelineRunner):
// a waiting job is decided once every job it needs has finished (decideJob over the needs'
// aggregated results), and the pipeline finishes when no job is left to run.
//
// Callers hold the pipeline's row lock (SELECT … FOR UPDATE) in the transaction that changed a job:
// two jobs of one pipeline finishing at once on two replicas then take turns, and the second one
// sees the first one's result, so no dependent is left waiting forever.
import { and, asc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { aggregateResults, decideJob, type JobCondition, type JobResult } from "../pipeline";
import type { Value } from "../pipeline/expressions";
import type { Db } from "./database";
import { jobs, pipelines } from "./schema";

export type JobStatus = "waiting" | "queued" | "running" | "success" | "failure" | "cancelled" | "skipped" | "timed_out" | "error";
export type PipelineStatus = "pending" | "running" | "success" | "failure" | "cancelled" | "error" | "skipped";

export const UNFINISHED_JOB_STATUSES: JobStatus[] = ["waiting", "queued", "running"];
export const UNFINISHED_PIPELINE_STATUSES: PipelineStatus[] = ["pending", "running"];

/** Wakes the dispatchers: jobs were queued. The payload is the pipeline id. */
export const JOBS_CHANNEL = "gust_jobs";
/** Running jobs to stop (cancelled, or fail-fast): the payload is a JSON array of job ids. */
export const CANCEL_CHANNEL = "gust_cancel";

export interface DecidedJob {
  id: number;
  key: string;
  status: JobStatus;
  detail: string | null;
}

export interface Progress {
  /** Waiting jobs decided now: queued, skipped or cancelled. */
  decided: DecidedJob[];
  /** Set when the pipeline finished in this call. */
  pipelineStatus?: PipelineStatus;
}

/** A point in time for SQL: the given clock (tests) or the database's own. */
export function at(now: Date | undefined): SQL {
  return now === undefined ? sql`now()` : sql`${now.toISOString()}::timestamptz`;
}

export function isFinished(status: string): boolean {
  return !(UNFINISHED_JOB_STATUSES as string[]).includes(status);
}

/** A finished job's status as a result conditions understand: timed out and errors count as failures. */
export function toJobResult(status: string): JobResult {
  return status === "success" || status === "skipped" || status === "cancelled" ? status : "failure";
}

interface JobState {
  id: number;
  key: string;
  status: string;
  needs: string[];
  jobId: string;
  attempt: number;
}

/**
 * Decides the waiting jobs of a pipeline whose needs have all finished, then finishes the pipeline
 * when nothing is left. The caller holds the pipeline's row lock.
 */
export async function advancePipeline(tx: Db, pipeline: { id: number; cancelRequested: boolean }, now: SQL): Promise<Progress> {
  const states: JobState[] = await tx
    .select({ id: jobs.id, key: jobs.key, status: jobs.status, needs: jobs.needs, jobId: sql<string>`${jobs.spec}->>'jobId'`, attempt: jobs.attempt })
    .from(jobs)
    .where(eq(jobs.pipelineId, pipeline.id))
    .orderBy(asc(jobs.id));
  const byKey = new Map(states.map((state) => [state.key, state]));
  const ready = (state: JobState) => state.status === "waiting" && state.needs.every((key) => isFinished(byKey.get(key)?.status ?? "waiting"));

  const decided: DecidedJob[] = [];
  if (states.some(ready)) {
    const gates = await loadGates(tx, states.filter((state) => state.status === "waiting").map((state) => state.id));
    // Rows are in plan order, which is dependency order: one pass also decides the dependents of
    // the jobs it decides.
    for (const state of states) {
      if (!ready(state)) continue;
      const gate = gates.get(state.id)!;
      const needs: Record<string, JobResult> = {};
      for (const jobId of gate.needsJobIds) {
        needs[jobId] = aggregateResults(states.filter((other) => other.jobId === jobId).map((other) => toJobResult(other.status)));
      }
      const decision = decideJob({ condition: gate.condition, variables: gate.variables, needs, pipelineCancelled: pipeline.cancelRequested });
      state.status = decision.run ? "queued" : decision.result;
      decided.push({ id: state.id, key: state.key, status: state.status as JobStatus, detail: decision.run ? null : decision.reason });
    }
    await writeDecisions(tx, decided, now);
  }

  if (states.every((state) => isFinished(state.status))) {
    const status = pipelineResult(states, pipeline.cancelRequested);
    await tx
      .update(pipelines)
      .set({ status, finishedAt: now })
      .where(and(eq(pipelines.id, pipeline.id), inArray(pipelines.status, UNFINISHED_PIPELINE_STATUSES)));
    return { decided, pipelineStatus: status };
  }
  if (states.some((state) => state.attempt > 0)) {
    // The lease step may have skipped marking it running (it never waits for a pipeline's lock).
    await tx
      .update(pipelines)
      .set({ status: "running", startedAt: sql`coalesce(${pipelines.startedAt}, ${now})` })
      .where(and(eq(pipelines.id, pipeline.id), eq(pipelines.status, "pending")));
  }
  return { decided };
}

/** What the finished jobs add up to. */
export function pipelineResult(states: Array<{ status: string }>, cancelRequested: boolean): PipelineStatus {
  const ran = states.filter((state) => state.status !== "skipped");
  if (ran.length === 0) return "skipped";
  const succeeded = ran.every((state) => state.status === "success");
  // A cancel that stopped anything makes the run cancelled, also when a job it interrupted failed.
  if (cancelRequested && !succeeded) return "cancelled";
  return succeeded ? "success" : "failure";
}

interface Gate {
  condition: JobCondition;
  variables: Record<string, Value>;
  needsJobIds: string[];
}

/** Only the parts of the specs a decision reads: a spec with its steps can be large. */
async function loadGates(tx: Db, ids: number[]): Promise<Map<number, Gate>> {
  const rows = await tx
    .select({
      id: jobs.id,
      condition: sql<JobCondition>`${jobs.spec}->'condition'`,
      variables: sql<Record<string, Value> | null>`${jobs.spec}->'variables'`,
      needsJobIds: sql<string[] | null>`${jobs.spec}->'needsJobIds'`,
    })
    .from(jobs)
    .where(inArray(jobs.id, ids));
  return new Map(rows.map((row) => [row.id, { condition: row.condition ?? { usesStatus: false }, variables: row.variables ?? {}, needsJobIds: row.needsJobIds ?? [] }]));
}

async function writeDecisions(tx: Db, decided: DecidedJob[], now: SQL): Promise<void> {
  const queued = decided.filter((job) => job.status === "queued").map((job) => job.id);
  if (queued.length > 0) {
    // A job that runs although the pipeline was cancelled (an always() job) is not to be stopped.
    await tx
      .update(jobs)
      .set({ status: "queued", queuedAt: now, cancelRequested: false })
      .where(and(inArray(jobs.id, queued), eq(jobs.status, "waiting")));
  }
  for (const job of decided) {
    if (job.status === "queued") continue;
    await tx
      .update(jobs)
      .set({ status: job.status, detail: job.detail, finishedAt: now })
      .where(and(eq(jobs.id, job.id), eq(jobs.status, "waiting")));
  }
}
