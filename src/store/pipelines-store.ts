// Pipelines and their jobs: created in one transaction from a plan (or as an error for a broken
// pipeline file), and read back for the API.
import { and, asc, desc, eq, getTableColumns, inArray, lt, max, sql, type SQL } from "drizzle-orm";
import type { PgInsertValue } from "drizzle-orm/pg-core";
import { GustError, InputError } from "../errors";
import { RELEASE_JOB_KEY, releaseJobName, type EventContext, type Plan, type PlannedJob } from "../pipeline";
import type { Database, Db } from "./database";
import { JOBS_CHANNEL, advancePipeline, at, type DecidedJob, type JobStatus, type PipelineStatus } from "./job-progress";
import { jobs, pipelines, repositories, steps, type JobRow, type PipelineRow, type StepRow } from "./schema";
import { inTransaction, run } from "./transaction";

interface CommonInput {
  repositoryId: number;
  /** The webhook delivery that caused it. */
  deliveryId?: number | null;
  /** A pull request from a fork: its jobs get no secrets. */
  fromFork?: boolean;
  now?: Date;
}

/** A planned run, or a pipeline file that could not be planned (`error` says every problem). */
export type CreatePipelineInput = CommonInput & ({ plan: Plan } | { error: string; file: string; name?: string; event: EventContext });

export interface CreatedPipeline {
  id: number;
  number: number;
  status: PipelineStatus;
  /** Jobs already runnable (dispatchers were notified). */
  queued: number;
  /** Jobs decided at creation beyond what the plan said (needs that were all skipped). */
  decided: DecidedJob[];
}

export type PipelineSummary = Omit<PipelineRow, "plan">;
export type JobSummary = Omit<JobRow, "spec">;
export type PipelineDetail = PipelineRow & { jobs: JobSummary[] };
export type JobDetail = Omit<JobRow, "spec"> & { spec: PlannedJob; steps: StepRow[] };

export interface ListPipelinesQuery {
  repositoryId?: number;
  branch?: string;
  status?: PipelineStatus | PipelineStatus[];
  /** Default 50, at most 200. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Rows per INSERT: far below PostgreSQL's 65,535 parameters per statement. */
const INSERT_BATCH = 500;

export class PipelinesStore {
  private readonly db: Db;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
  }

  async createPipeline(input: CreatePipelineInput): Promise<CreatedPipeline> {
    if ("plan" in input) checkPlan(input.plan);
    const now = at(input.now);
    return inTransaction(this.db, async (tx) => {
      // Numbers are per repository: take turns on the repository's row. NO KEY UPDATE still lets
      // other transactions insert rows that reference the repository (they take KEY SHARE).
      const [repository] = await tx
        .select({ id: repositories.id })
        .from(repositories)
        .where(eq(repositories.id, input.repositoryId))
        .for("no key update");
      if (!repository) throw new InputError(`repository ${input.repositoryId} does not exist`, "repository_not_found");
      const [last] = await tx.select({ number: max(pipelines.number) }).from(pipelines).where(eq(pipelines.repositoryId, input.repositoryId));
      const number = (last?.number ?? 0) + 1;

      const [pipeline] = await tx.insert(pipelines).values(pipelineValues(input, number, now)).returning({ id: pipelines.id, status: pipelines.status });
      const { id } = pipeline!;
      if (!("plan" in input) || !input.plan.triggered) return { id, number, status: pipeline!.status as PipelineStatus, queued: 0, decided: [] };

      const rows = input.plan.jobs.map((job) => jobValues(job, id, input.repositoryId, now));
      if (input.plan.release) rows.push(releaseJobValues(input.plan, id, input.repositoryId, now));
      for (let start = 0; start < rows.length; start += INSERT_BATCH) await tx.insert(jobs).values(rows.slice(start, start + INSERT_BATCH));
      const progress = await advancePipeline(tx, { id, cancelRequested: false }, now);
      const queued = rows.filter((row) => row.status === "queued").length + progress.decided.filter((job) => job.status === "queued").length;
      if (queued > 0) await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${String(id)})`);
      return { id, number, status: progress.pipelineStatus ?? "pending", queued, decided: progress.decided };
    });
  }

  /** Newest first, a page at a time. */
  async listPipelines(query: ListPipelinesQuery = {}): Promise<{ pipelines: PipelineSummary[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const conditions: SQL[] = [];
    if (query.repositoryId !== undefined) conditions.push(eq(pipelines.repositoryId, query.repositoryId));
    if (query.branch !== undefined) conditions.push(eq(pipelines.branch, query.branch));
    if (query.status !== undefined) conditions.push(inArray(pipelines.status, Array.isArray(query.status) ? query.status : [query.status]));
    if (query.cursor !== undefined) conditions.push(lt(pipelines.id, parseCursor(query.cursor)));
    const { plan: _plan, ...columns } = getTableColumns(pipelines);
    // Keyset pagination on the id (which grows with creation): a page costs the same wherever it is.
    const rows = await run(() =>
      this.db
        .select(columns)
        .from(pipelines)
        .where(and(...conditions))
        .orderBy(desc(pipelines.id))
        .limit(limit + 1),
    );
    const page = rows.slice(0, limit);
    return { pipelines: page, nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null };
  }

  async getPipeline(id: number): Promise<PipelineDetail | undefined> {
    const [pipeline] = await run(() => this.db.select().from(pipelines).where(eq(pipelines.id, id)));
    if (!pipeline) return undefined;
    return { ...pipeline, jobs: await this.jobsOf(id) };
  }

  async getPipelineByNumber(repositoryId: number, number: number): Promise<PipelineDetail | undefined> {
    const [pipeline] = await run(() =>
      this.db
        .select()
        .from(pipelines)
        .where(and(eq(pipelines.repositoryId, repositoryId), eq(pipelines.number, number))),
    );
    if (!pipeline) return undefined;
    return { ...pipeline, jobs: await this.jobsOf(pipeline.id) };
  }

  /** The job with its planned spec and the steps of every attempt. */
  async getJob(id: number): Promise<JobDetail | undefined> {
    const [job] = await run(() => this.db.select().from(jobs).where(eq(jobs.id, id)));
    if (!job) return undefined;
    const jobSteps = await run(() =>
      this.db
        .select()
        .from(steps)
        .where(eq(steps.jobId, id))
        .orderBy(asc(steps.attempt), asc(steps.index)),
    );
    return { ...job, spec: job.spec as PlannedJob, steps: jobSteps };
  }

  private jobsOf(pipelineId: number): Promise<JobSummary[]> {
    const { spec: _spec, ...columns } = getTableColumns(jobs);
    return run(() => this.db.select(columns).from(jobs).where(eq(jobs.pipelineId, pipelineId)).orderBy(asc(jobs.id)));
  }
}

function pipelineValues(input: CreatePipelineInput, number: number, now: SQL): PgInsertValue<typeof pipelines> {
  const common = {
    repositoryId: input.repositoryId,
    number,
    fromFork: input.fromFork ?? false,
    deliveryId: input.deliveryId ?? null,
    createdAt: now,
  };
  if ("plan" in input) {
    const { plan } = input;
    return {
      ...common,
      ...eventColumns(plan.event),
      name: plan.pipeline.name,
      file: plan.pipeline.file,
      // A plan that does not trigger is kept (the UI can say why nothing ran) but runs nothing.
      status: plan.triggered ? "pending" : "skipped",
      finishedAt: plan.triggered ? null : now,
      plan,
      inputs: plan.inputs,
      concurrencyGroup: plan.concurrency?.group ?? null,
    };
  }
  return {
    ...common,
    ...eventColumns(input.event),
    name: input.name ?? input.file,
    file: input.file,
    status: "error",
    error: input.error,
    finishedAt: now,
    inputs: input.event.inputs ?? {},
  };
}

function eventColumns(event: EventContext) {
  return { event: event.event, ref: event.ref, branch: event.branch ?? null, tag: event.tag ?? null, sha: event.sha };
}

function jobValues(job: PlannedJob, pipelineId: number, repositoryId: number, now: SQL): PgInsertValue<typeof jobs> & { status: JobStatus } {
  const base = { pipelineId, repositoryId, key: job.key, name: job.name, needs: job.needs, spec: job };
  if (job.state === "skipped") return { ...base, status: "skipped", detail: job.skipReason ?? "skipped", finishedAt: now };
  if (job.needs.length === 0) return { ...base, status: "queued", queuedAt: now };
  return { ...base, status: "waiting" };
}

/** The release as a job of its pipeline: the pipeline waits for it and forges show it as a check. */
function releaseJobValues(plan: Plan, pipelineId: number, repositoryId: number, now: SQL): PgInsertValue<typeof jobs> & { status: JobStatus } {
  const release = plan.release!;
  // A job of the file may be called release already; job ids cannot start with '@'.
  const key = plan.jobs.some((job) => job.key === RELEASE_JOB_KEY) ? `@${RELEASE_JOB_KEY}` : RELEASE_JOB_KEY;
  const base = { pipelineId, repositoryId, kind: "release", key, name: releaseJobName(release.def.target), needs: release.needs, spec: release };
  if (release.state === "skipped") return { ...base, status: "skipped", detail: release.skipReason ?? "skipped", finishedAt: now };
  if (release.needs.length === 0) return { ...base, status: "queued", queuedAt: now };
  return { ...base, status: "waiting" };
}

/** A plan whose needs point nowhere (or forward) would leave jobs waiting forever: refuse it. */
function checkPlan(plan: Plan): void {
  const seen = new Set<string>();
  for (const job of plan.jobs) {
    if (seen.has(job.key)) throw new GustError(`plan has job key '${job.key}' twice`, { fault: "internal", retryable: false, code: "invalid_plan" });
    const missing = job.needs.filter((key) => !seen.has(key));
    if (missing.length > 0) {
      throw new GustError(`plan job '${job.key}' needs ${missing.join(", ")}, not planned before it`, { fault: "internal", retryable: false, code: "invalid_plan" });
    }
    seen.add(job.key);
  }
}

function parseCursor(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new InputError(`invalid cursor '${cursor}'`, "invalid_cursor");
  return Number(cursor);
}
