// Shared by the forge reporter tests: a repository and pipelines in a test database, jobs driven
// through the real queue (steps and log lines recorded as the dispatcher would), and a reporter on
// the real outbox, woken by its NOTIFY, with a way to wait until everything pending was handled.
import { eq, sql } from "drizzle-orm";
import { ForgeReporter, type ForgeReporterOptions } from "../../src/app/forge-reporter";
import type { Forge } from "../../src/forges";
import { DatabaseLogStore } from "../../src/logs/database-log-store";
import type { PlannedJob } from "../../src/pipeline";
import type { Database } from "../../src/store/database";
import { FORGE_UPDATES_CHANNEL, ForgeUpdatesStore } from "../../src/store/forge-updates-store";
import { JobQueue, type JobOutcome, type LeasedJob } from "../../src/store/job-queue";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { forgeUpdates } from "../../src/store/schema";
import { StepsStore } from "../../src/store/steps-store";
import { rowsOf } from "../../src/store/transaction";
import { createRepository, planWith } from "../store/fixtures";

export const PUBLIC_URL = "https://gust.example.com";

export interface StepRun {
  name: string;
  status: "success" | "failure" | "timed_out" | "skipped";
  exitCode?: number;
  reason?: string;
  lines?: string[];
}

const OWNER = "driver";
/** Jobs leased by any driver, by job id: a lease takes queued jobs of every pipeline in the database. */
const leased = new Map<number, LeasedJob>();

/** Pipelines of one repository, with their jobs run through the queue. */
export class PipelineDriver {
  private readonly queue: JobQueue;
  pipelineId = 0;

  constructor(
    private readonly database: Database,
    readonly repositoryId: number,
  ) {
    this.queue = new JobQueue(database);
  }

  static async create(database: Database, repository: { forge: string; fullName: string; apiUrl?: string }): Promise<PipelineDriver> {
    const created = await createRepository(database, repository);
    return new PipelineDriver(database, created.id);
  }

  async createPipeline(sha: string, jobs: PlannedJob[], name = "ci"): Promise<number> {
    const event = { event: "push" as const, ref: "refs/heads/main", branch: "main", sha };
    const plan = planWith(jobs, { pipeline: { name, file: ".gust.yml" }, event });
    this.pipelineId = (await new PipelinesStore(this.database).createPipeline({ repositoryId: this.repositoryId, plan })).id;
    return this.pipelineId;
  }

  async createBroken(sha: string, error: string, name = "ci"): Promise<number> {
    const event = { event: "push" as const, ref: "refs/heads/main", branch: "main", sha };
    this.pipelineId = (await new PipelinesStore(this.database).createPipeline({ repositoryId: this.repositoryId, error, file: ".gust.yml", name, event })).id;
    return this.pipelineId;
  }

  /** Leases what is queued (of any pipeline) and returns this pipeline's job `key`. */
  async start(key: string): Promise<LeasedJob> {
    let job = this.find(key);
    for (let round = 0; round < 10 && !job; round++) {
      for (const leasedJob of await this.queue.leaseJobs({ owner: OWNER, limit: 100, leaseMs: 60_000 })) leased.set(leasedJob.id, leasedJob);
      job = this.find(key);
    }
    if (!job) throw new Error(`job ${key} was not leased`);
    return job;
  }

  private find(key: string): LeasedJob | undefined {
    return [...leased.values()].find((job) => job.pipelineId === this.pipelineId && job.key === key);
  }

  /** Records the steps (with their log lines) of the job's current attempt and finishes it. */
  async finish(key: string, outcome: JobOutcome, stepRuns: StepRun[] = []): Promise<void> {
    const job = this.find(key);
    if (!job) throw new Error(`job ${key} is not running`);
    leased.delete(job.id);
    const stepsStore = new StepsStore(this.database);
    const logs = new DatabaseLogStore(this.database.db);
    const start = Date.now();
    for (const [index, step] of stepRuns.entries()) {
      await stepsStore.recordStep({ jobId: job.id, attempt: job.attempt, index, name: step.name, status: "running", startedAt: new Date(start + index * 1000) });
      const lines = step.lines ?? [];
      if (lines.length > 0) await logs.append(job.id, lines.map((text) => ({ at: start, attempt: job.attempt, step: index, stream: "stdout" as const, text })));
      await stepsStore.recordStep({
        jobId: job.id,
        attempt: job.attempt,
        index,
        name: step.name,
        status: step.status,
        exitCode: step.exitCode ?? null,
        reason: step.reason ?? null,
        finishedAt: new Date(start + index * 1000 + 500),
      });
    }
    const result = await this.queue.finishJob(job.id, OWNER, outcome);
    if (!result.accepted) throw new Error(`finishJob(${key}) refused: ${result.reason}`);
  }

  cancel(): Promise<unknown> {
    return this.queue.cancelPipeline(this.pipelineId);
  }
}

export function startReporter(
  database: Database,
  forgeFor: (repositoryId: number) => Pick<Forge, "reportJob" | "reportPipeline">,
  options: Partial<ForgeReporterOptions> & { errors?: unknown[] } = {},
): Promise<ForgeReporter> {
  const { errors = [], ...rest } = options;
  const reporter = new ForgeReporter({
    owner: `reporter-${Math.random().toString(36).slice(2, 8)}`,
    outbox: new ForgeUpdatesStore(database),
    forgeFor: async (repository) => forgeFor(repository.id),
    logs: new DatabaseLogStore(database.db),
    wakeups: { onChange: (handler) => database.listen(FORGE_UPDATES_CHANNEL, handler) },
    publicUrl: PUBLIC_URL,
    retry: { baseDelayMs: 100, maxDelayMs: 400 },
    onError: (error) => errors.push(error),
    ...rest,
  });
  return reporter.start().then(() => reporter);
}

/** Waits until no update is pending (the reporter sent, or gave up on, everything). */
export async function settle(database: Database, pipelineId?: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const where = pipelineId === undefined ? sql`status = 'pending'` : sql`status = 'pending' and pipeline_id = ${pipelineId}`;
    const [row] = await rowsOf<{ pending: number }>(database.db, sql`select count(*)::int as pending from ${forgeUpdates} where ${where}`);
    if (row!.pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.pending} forge updates still pending`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `check` holds (a condition reached by background work, not a timing assertion). */
export async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The outbox rows of a pipeline, for assertions on what was given up. */
export function outboxRows(database: Database, pipelineId: number) {
  return database.db.select().from(forgeUpdates).where(eq(forgeUpdates.pipelineId, pipelineId)).orderBy(forgeUpdates.id);
}
