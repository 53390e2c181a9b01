// The job queue: job rows in the database, leased by dispatchers (one lease owner per running job,
// with an expiry renewed by heartbeats). Finishing a job moves its pipeline on in the same
// transaction. Cancellation is in cancellation.ts; this class is the one entry point for both.
import { and, asc, eq, inArray, lt, sql } from "drizzle-orm";
import type { PlannedJob } from "../pipeline";
import type { Database, Db } from "./database";
import { cancelInProgress, cancelPipeline, olderInGroup, type CancelResult, type StopRequest } from "./cancellation";
import { CANCEL_CHANNEL, JOBS_CHANNEL, advancePipeline, at, type DecidedJob, type PipelineStatus } from "./job-progress";
import { jobs, pipelines } from "./schema";
import { candidates, leasedJobs, pick } from "./job-leasing";
import { inTransaction, rowsOf, run } from "./transaction";

/** Serializes lease steps (PostgreSQL): see leaseJobs. Unique among Gust's advisory locks. */
const LEASE_LOCK = 7_301_946_204;

export interface LeaseOptions {
  /** Who holds the leases: a replica's id. */
  owner: string;
  /** Jobs to take at most. */
  limit: number;
  leaseMs: number;
  /** Jobs running at once across all owners; absent means no limit. */
  globalLimit?: number;
  now?: Date;
}

/** A leased job with what the executor needs to run it. */
export interface LeasedJob {
  id: number;
  pipelineId: number;
  repositoryId: number;
  key: string;
  name: string;
  attempt: number;
  /** `<jobId>-<attempt>`: the executor's idempotency key for this attempt. */
  runId: string;
  leaseExpiresAt: Date;
  spec: PlannedJob;
  pipeline: { id: number; number: number; name: string; file: string; event: string; ref: string; branch: string | null; tag: string | null; sha: string; fromFork: boolean };
  /** `settings` (the clone URL among them) too: the workspace is made without reading the repository again. */
  repository: { id: number; forge: string; fullName: string; apiUrl: string | null; settings: unknown };
}

export interface HeartbeatResult {
  /** Leases this owner no longer holds: stop those jobs, their results would be refused. */
  lost: number[];
  /** Jobs still held whose stop was requested (cancelled, or fail-fast), in case the notification was missed. */
  cancelRequested: number[];
}

export interface ExpiredLease {
  id: number;
  pipelineId: number;
  runId: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  attempt: number;
}

export interface JobOutcome {
  status: "success" | "failure" | "cancelled" | "timed_out" | "error";
  exitCode?: number | null;
  failedStep?: number | null;
  /** For people: what failed, or why it was cancelled. */
  detail?: string | null;
}

export type FinishResult =
  | { accepted: false; reason: "not_found" | "lease_lost" }
  | {
      accepted: true;
      /** True when the job went back to the queue for another attempt (spec.retry). */
      retried: boolean;
      /** Running jobs to stop (fail-fast siblings). */
      stop: StopRequest[];
      decided: DecidedJob[];
      /** Set when the pipeline finished. */
      pipelineStatus?: PipelineStatus;
    };

export class JobQueue {
  private readonly db: Db;
  private readonly kind: Database["kind"];

  constructor(database: Pick<Database, "db" | "kind">) {
    this.db = database.db;
    this.kind = database.kind;
  }

  /**
   * Takes up to `limit` queued jobs, oldest first, within the global limit and each repository's
   * max_concurrent_jobs (and a matrix's max-parallel), and marks them running under `owner`.
   *
   * The limits are counts of running jobs, so counting and claiming must not interleave between
   * dispatchers, or two could both see one free slot and both take it. A transaction-scoped
   * advisory lock makes the lease steps take turns (each is a few short statements; the jobs
   * themselves run outside it). SKIP LOCKED still matters: rows a finishing or cancelling
   * transaction holds are passed over instead of waited for.
   */
  async leaseJobs(options: LeaseOptions): Promise<LeasedJob[]> {
    const { owner, leaseMs, globalLimit } = options;
    if (options.limit <= 0) return [];
    const now = at(options.now);
    const leaseStart = leaseClock(options.now);
    return inTransaction(this.db, async (tx) => {
      if (this.kind === "postgres") await tx.execute(sql`select pg_advisory_xact_lock(${LEASE_LOCK})`);
      let room = options.limit;
      if (globalLimit !== undefined) {
        const [running] = await tx.select({ count: sql<number>`count(*)::int` }).from(jobs).where(and(eq(jobs.status, "running"), eq(jobs.kind, "job")));
        room = Math.min(room, globalLimit - (running?.count ?? 0));
        if (room <= 0) return [];
      }
      const ids = pick(await candidates(tx, room * 4 + 16), room);
      if (ids.length === 0) return [];
      const leased = await tx
        .update(jobs)
        .set({
          status: "running",
          leaseOwner: owner,
          leaseExpiresAt: sql`${leaseStart} + ${leaseMs}::float8 * interval '1 millisecond'`,
          attempt: sql`${jobs.attempt} + 1`,
          runId: sql`${jobs.id}::text || '-' || (${jobs.attempt} + 1)::text`,
          startedAt: sql`coalesce(${jobs.startedAt}, ${now})`,
        })
        .where(inArray(jobs.id, ids))
        .returning({ id: jobs.id, pipelineId: jobs.pipelineId });
      const pipelineIds = [...new Set(leased.map((job) => job.pipelineId))];
      // Never wait for a pipeline's lock here: its holder (finishing or cancelling a job of it) may
      // be waiting for a job row this transaction holds. A pipeline skipped now is marked running
      // by advancePipeline later.
      await tx.execute(sql`
        update ${pipelines} set status = 'running', started_at = coalesce(started_at, ${now})
         where id in (select id from ${pipelines}
                       where id in (${sql.join(pipelineIds.map((id) => sql`${id}`), sql`, `)}) and status = 'pending'
                       for update skip locked)`);
      return leasedJobs(tx, ids);
    });
  }

  /** Jobs runnable now and waiting for a lease, across all replicas. */
  async queuedCount(): Promise<number> {
    const [row] = await run(() => this.db.select({ count: sql<number>`count(*)::int` }).from(jobs).where(eq(jobs.status, "queued")));
    return row?.count ?? 0;
  }

  /** Extends the leases `owner` still holds. */
  async heartbeat(owner: string, jobIds: readonly number[], leaseMs: number, now?: Date): Promise<HeartbeatResult> {
    if (jobIds.length === 0) return { lost: [], cancelRequested: [] };
    const list = sql.join([...new Set(jobIds)].map((id) => sql`${id}`), sql`, `);
    const time = leaseClock(now);
    // Rows locked by a transaction finishing or cancelling them are not waited for: they are
    // renewed by the next heartbeat, if they are still running then.
    const held = await run(() =>
      rowsOf<{ id: number | string; cancel_requested: boolean }>(
        this.db,
        sql`with renewed as (
              update ${jobs} set lease_expires_at = ${time} + ${leaseMs}::float8 * interval '1 millisecond'
               where id in (select id from ${jobs}
                             where id in (${list}) and status = 'running' and lease_owner = ${owner}
                             for update skip locked)
              returning id)
            select id, cancel_requested from ${jobs}
             where id in (${list}) and status = 'running' and lease_owner = ${owner}`,
      ),
    );
    const heldIds = new Set(held.map((row) => Number(row.id)));
    return {
      lost: jobIds.filter((id) => !heldIds.has(id)),
      cancelRequested: held.filter((row) => row.cancel_requested).map((row) => Number(row.id)),
    };
  }

  /**
   * Running jobs whose lease ran out, for reconciliation with the executor (nothing is changed).
   * `exceptOwner` leaves out one owner's jobs (the caller's own: its heartbeats handle them);
   * `allForeign` takes every other owner's job, expired or not — for a replica that knows it is
   * the only one (the embedded database is locked to one process), after a restart.
   */
  expiredLeases(options: { now?: Date; limit?: number; exceptOwner?: string; allForeign?: boolean } = {}): Promise<ExpiredLease[]> {
    // A release's lease is taken over by the release worker, which resumes it from its stored state.
    const conditions = [eq(jobs.status, "running"), eq(jobs.kind, "job")];
    if (!options.allForeign) conditions.push(lt(jobs.leaseExpiresAt, at(options.now)));
    if (options.exceptOwner !== undefined) conditions.push(sql`${jobs.leaseOwner} is distinct from ${options.exceptOwner}`);
    return run(() =>
      this.db
        .select({ id: jobs.id, pipelineId: jobs.pipelineId, runId: jobs.runId, leaseOwner: jobs.leaseOwner, leaseExpiresAt: jobs.leaseExpiresAt, attempt: jobs.attempt })
        .from(jobs)
        .where(and(...conditions))
        .orderBy(asc(jobs.leaseExpiresAt))
        .limit(options.limit ?? 100),
    );
  }

  /** Moves a running job to another owner (a reconciler adopting a run the executor still has). */
  async adopt(jobId: number, fromOwner: string, toOwner: string, leaseMs: number, now?: Date): Promise<boolean> {
    const rows = await run(() =>
      this.db
        .update(jobs)
        .set({ leaseOwner: toOwner, leaseExpiresAt: sql`${leaseClock(now)} + ${leaseMs}::float8 * interval '1 millisecond'` })
        .where(and(eq(jobs.id, jobId), eq(jobs.status, "running"), eq(jobs.leaseOwner, fromOwner)))
        .returning({ id: jobs.id }),
    );
    return rows.length > 0;
  }

  /** Of these run ids, the ones whose job is still running (the Kubernetes janitor keeps their pods). */
  async runningRunIds(runIds: readonly string[]): Promise<Set<string>> {
    if (runIds.length === 0) return new Set();
    const rows = await run(() =>
      this.db
        .select({ runId: jobs.runId })
        .from(jobs)
        .where(and(eq(jobs.status, "running"), inArray(jobs.runId, [...runIds]))),
    );
    return new Set(rows.map((row) => row.runId).filter((id): id is string => id !== null));
  }

  /** adopt(), then the job as a lease gives it (same run id and attempt), to follow its run further. */
  async takeOver(jobId: number, fromOwner: string, toOwner: string, leaseMs: number, now?: Date): Promise<LeasedJob | undefined> {
    if (!(await this.adopt(jobId, fromOwner, toOwner, leaseMs, now))) return undefined;
    const [job] = await run(() => leasedJobs(this.db, [jobId]));
    return job;
  }

  /**
   * Lets the lease run out now, keeping the run: this replica stops following the job (shutdown)
   * and another one, or this one restarted, adopts it at once.
   */
  async release(jobId: number, owner: string, now?: Date): Promise<void> {
    await run(() =>
      this.db
        .update(jobs)
        .set({ leaseExpiresAt: leaseClock(now) })
        .where(and(eq(jobs.id, jobId), eq(jobs.status, "running"), eq(jobs.leaseOwner, owner))),
    );
  }

  /**
   * Puts a running job whose run is gone back in the queue (the next lease is a new attempt). When
   * `owner` is given, only if that owner still holds it. A job whose stop was requested is finished
   * as cancelled instead.
   */
  async requeue(jobId: number, options: { owner?: string; now?: Date } = {}): Promise<"requeued" | "cancelled" | "not_running"> {
    const now = at(options.now);
    return inTransaction(this.db, async (tx) => {
      const locked = await lockJobAndPipeline(tx, jobId);
      if (!locked) return "not_running";
      const { job, pipeline } = locked;
      if (job.status !== "running" || (options.owner !== undefined && job.leaseOwner !== options.owner)) return "not_running";
      if (job.cancelRequested || pipeline.cancelRequested) {
        await tx
          .update(jobs)
          .set({ status: "cancelled", detail: "cancelled (its runner was lost)", finishedAt: now, leaseExpiresAt: null })
          .where(eq(jobs.id, jobId));
        const progress = await advancePipeline(tx, pipeline, now);
        await notifyQueued(tx, pipeline.id, progress.decided);
        return "cancelled";
      }
      await tx
        .update(jobs)
        .set({ status: "queued", queuedAt: now, leaseOwner: null, leaseExpiresAt: null, runId: null, detail: `attempt ${job.attempt} lost its runner; queued again` })
        .where(eq(jobs.id, jobId));
      await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${String(pipeline.id)})`);
      return "requeued";
    });
  }

  /**
   * Records a job's outcome if `owner` still holds its lease; then, in the same transaction,
   * retries it (spec.retry), cancels its matrix siblings (fail-fast), decides the jobs waiting for
   * it, and finishes the pipeline when nothing is left.
   */
  async finishJob(jobId: number, owner: string, outcome: JobOutcome, now?: Date): Promise<FinishResult> {
    const time = at(now);
    return inTransaction(this.db, async (tx): Promise<FinishResult> => {
      const locked = await lockJobAndPipeline(tx, jobId);
      if (!locked) return { accepted: false, reason: "not_found" };
      const { job, pipeline } = locked;
      if (job.status !== "running" || job.leaseOwner !== owner) return { accepted: false, reason: "lease_lost" };
      const spec = job.spec as PlannedJob;
      const exitCode = outcome.exitCode ?? null;
      const failedStep = outcome.failedStep ?? null;

      if (!job.cancelRequested && !pipeline.cancelRequested && shouldRetry(spec, outcome, job.attempt)) {
        const why = exitCode !== null ? `exit code ${exitCode}` : outcome.status.replace("_", " ");
        await tx
          .update(jobs)
          .set({
            status: "queued",
            queuedAt: time,
            leaseOwner: null,
            leaseExpiresAt: null,
            exitCode,
            failedStep,
            detail: `attempt ${job.attempt} failed (${why}); retrying`,
          })
          .where(eq(jobs.id, jobId));
        await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${String(pipeline.id)})`);
        return { accepted: true, retried: true, stop: [], decided: [] };
      }

      await tx
        .update(jobs)
        .set({ status: outcome.status, exitCode, failedStep, detail: outcome.detail ?? null, finishedAt: time, leaseExpiresAt: null })
        .where(eq(jobs.id, jobId));
      // A job stopped on request (cancel, or a sibling's fail-fast) did not fail on its own.
      const failedItself = outcome.status !== "success" && !job.cancelRequested && !pipeline.cancelRequested;
      const stop = spec.matrixGroup?.failFast && failedItself ? await failFast(tx, job.pipelineId, spec, time) : [];
      const progress = await advancePipeline(tx, pipeline, time);
      await notifyQueued(tx, pipeline.id, progress.decided);
      if (stop.length > 0) await tx.execute(sql`select pg_notify(${CANCEL_CHANNEL}, ${JSON.stringify(stop.map((job) => job.jobId))})`);
      return { accepted: true, retried: false, stop, decided: progress.decided, ...(progress.pipelineStatus ? { pipelineStatus: progress.pipelineStatus } : {}) };
    });
  }

  /** See cancellation.ts. */
  cancelPipeline(pipelineId: number, options: { reason?: string; now?: Date } = {}): Promise<CancelResult> {
    return inTransaction(this.db, (tx) => cancelPipeline(tx, pipelineId, options.reason ?? "the pipeline was cancelled", at(options.now)));
  }

  /** Older pending or running pipelines of the same concurrency group and repository. */
  olderInGroup(pipelineId: number): Promise<number[]> {
    return run(() => olderInGroup(this.db, pipelineId));
  }

  /** Cancels olderInGroup(pipelineId), for `concurrency: {cancel-in-progress: true}`. */
  cancelInProgress(pipelineId: number, options: { now?: Date } = {}): Promise<{ pipelineIds: number[]; stop: StopRequest[] }> {
    return cancelInProgress(this.db, pipelineId, at(options.now));
  }
}

/**
 * When a lease starts: the given clock, or the database's at this statement (not at the start of
 * the transaction, which may have waited for the lease lock: the lease would start in the past).
 */
function leaseClock(now: Date | undefined) {
  return now === undefined ? sql`clock_timestamp()` : at(now);
}

/** The retry rule of PipelineRunner: failures and timeouts, up to `count` more attempts, optionally only for some exit codes. */
export function shouldRetry(spec: PlannedJob, outcome: JobOutcome, attempt: number): boolean {
  const retry = spec.retry ?? { count: 0 };
  if (attempt > retry.count) return false;
  if (outcome.status !== "failure" && outcome.status !== "timed_out") return false;
  const exitCode = outcome.exitCode ?? null;
  return retry.exitCodes === undefined || (exitCode !== null && retry.exitCodes.includes(exitCode));
}

/**
 * Locks the job's pipeline, then the job: always in this order (pipeline first), so transactions
 * changing jobs of one pipeline take turns without deadlocking.
 */
export async function lockJobAndPipeline(tx: Db, jobId: number) {
  const [ref] = await tx.select({ pipelineId: jobs.pipelineId }).from(jobs).where(eq(jobs.id, jobId));
  if (!ref) return undefined;
  const [pipeline] = await tx
    .select({ id: pipelines.id, cancelRequested: pipelines.cancelRequested })
    .from(pipelines)
    .where(eq(pipelines.id, ref.pipelineId))
    .for("update");
  const [job] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).for("update");
  if (!pipeline || !job) return undefined;
  return { pipeline, job };
}

/** Matrix fail-fast: the siblings not started are cancelled, the running ones asked to stop. */
async function failFast(tx: Db, pipelineId: number, spec: PlannedJob, now: ReturnType<typeof at>): Promise<StopRequest[]> {
  const sibling = and(eq(jobs.pipelineId, pipelineId), sql`${jobs.spec}->>'jobId' = ${spec.jobId}`, sql`${jobs.key} <> ${spec.key}`);
  const detail = `fail-fast: ${spec.name} failed`;
  await tx
    .update(jobs)
    .set({ status: "cancelled", detail, finishedAt: now, cancelRequested: true })
    .where(and(sibling, inArray(jobs.status, ["waiting", "queued"])));
  const running = await tx
    .update(jobs)
    .set({ cancelRequested: true, detail })
    .where(and(sibling, eq(jobs.status, "running"), eq(jobs.cancelRequested, false)))
    .returning({ jobId: jobs.id, runId: jobs.runId, leaseOwner: jobs.leaseOwner });
  return running;
}

async function notifyQueued(tx: Db, pipelineId: number, decided: DecidedJob[]): Promise<void> {
  if (decided.some((job) => job.status === "queued")) await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${String(pipelineId)})`);
}
