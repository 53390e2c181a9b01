// Shared by the store tests: repositories with unique names, plans from real pipeline files (the
// planner decides conditions and matrix keys exactly as in production) and small synthetic plans.
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { parsePipeline, planPipeline, type EventContext, type Plan, type PlannedJob } from "../../src/pipeline";
import type { Database } from "../../src/store/database";
import { JobQueue, type JobOutcome } from "../../src/store/job-queue";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { RepositoriesStore, type NewRepository } from "../../src/store/repositories-store";
import { jobs } from "../../src/store/schema";
import { Sealer } from "../../src/store/sealing";

export const TEST_KEY = Buffer.alloc(32, 7);
export const sealer = new Sealer(TEST_KEY);

export const PUSH_MAIN: EventContext = { event: "push", ref: "refs/heads/main", sha: "abc123", branch: "main" };

export async function createRepository(database: Database, overrides: Partial<NewRepository> = {}) {
  return new RepositoriesStore(database, sealer).createRepository({
    forge: "github",
    fullName: `acme/${randomBytes(5).toString("hex")}`,
    ...overrides,
  });
}

/** Plans a pipeline file given as lines, for a push to main. */
export function planOf(lines: string[], event: EventContext = PUSH_MAIN): Plan {
  const parsed = parsePipeline(`${lines.join("\n")}\n`, ".gust.yml");
  if (!parsed.ok) throw new Error(parsed.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join("\n"));
  const planned = planPipeline(parsed.pipeline, event);
  if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
  return planned.plan;
}

/** A planned job with defaults; `needs` are keys (and job ids: no matrix). */
export function plannedJob(key: string, overrides: Partial<PlannedJob> = {}): PlannedJob {
  const needs = overrides.needs ?? [];
  return {
    key,
    jobId: key,
    name: key,
    needs,
    needsJobIds: needs,
    condition: { usesStatus: false },
    variables: {},
    state: "pending",
    env: {},
    secrets: [],
    timeoutMs: 60_000,
    retry: { count: 0 },
    services: [],
    artifactsFrom: [],
    steps: [{ index: 0, name: "run", script: "true", env: {}, continueOnError: false, when: { onSuccess: true, onFailure: false } }],
    ...overrides,
  };
}

export function planWith(jobsList: PlannedJob[], extra: Partial<Plan> = {}): Plan {
  return {
    pipeline: { name: "test", file: ".gust.yml" },
    event: PUSH_MAIN,
    triggered: true,
    reason: "push to main",
    inputs: {},
    env: {},
    jobs: jobsList,
    ...extra,
  };
}

/** Status per job key, for compact assertions. */
export async function statuses(database: Database, pipelineId: number): Promise<Record<string, string>> {
  const rows = await database.db.select({ key: jobs.key, status: jobs.status }).from(jobs).where(eq(jobs.pipelineId, pipelineId));
  return Object.fromEntries(rows.map((row) => [row.key, row.status]));
}

/** Leases every queued job of the pipeline (one owner) and finishes the ones named with the outcome given. */
export async function runJobs(queue: JobQueue, owner: string, outcomes: Record<string, JobOutcome["status"] | JobOutcome>): Promise<void> {
  const leased = await queue.leaseJobs({ owner, limit: 1000, leaseMs: 60_000 });
  for (const job of leased) {
    const outcome = outcomes[job.key];
    if (outcome === undefined) continue;
    const result = await queue.finishJob(job.id, owner, typeof outcome === "string" ? { status: outcome } : outcome);
    if (!result.accepted) throw new Error(`finishJob(${job.key}) refused: ${result.reason}`);
  }
}

export function stores(database: Database) {
  return { pipelines: new PipelinesStore(database), queue: new JobQueue(database) };
}
