// Runs a plan's jobs on an Executor: in dependency order, as parallel as allowed, with conditions
// decided as needs finish, retries, matrix fail-fast and max-parallel, and cancellation.
// Used by `gust run`; the scheduler of `gust serve` applies the same rules through the database.
import type { Executor, ExecutorEvent, JobHandle, JobOutcome, WorkspaceSource } from "../executors/executor";
import { aggregateResults, decideJob, type JobResult, type Plan, type PlannedJob } from "../pipeline";
import { errorOutcome } from "../executors/error-outcome";
import { jobRunFor } from "./job-run";

export type JobFinalStatus = "success" | "failure" | "cancelled" | "timed-out" | "error" | "skipped";

export interface JobSummary {
  key: string;
  name: string;
  status: JobFinalStatus;
  attempts: number;
  durationMs: number;
  /** Why it was skipped or cancelled, or what failed. */
  detail?: string;
}

export type RunnerEvent =
  | { type: "job-started"; job: PlannedJob; attempt: number; at: number }
  | { type: "job-event"; job: PlannedJob; attempt: number; event: ExecutorEvent }
  | { type: "job-retrying"; job: PlannedJob; attempt: number; reason: string; at: number }
  | { type: "job-finished"; job: PlannedJob; summary: JobSummary; at: number };

export interface PipelineRunnerOptions {
  executor: Executor;
  plan: Plan;
  pipelineRunId: string;
  workspace: WorkspaceSource;
  /** All secret values available; each job receives only the names it lists. */
  secrets: Record<string, string>;
  /** Jobs running at once. */
  parallel: number;
  onEvent: (event: RunnerEvent) => void;
}

export interface PipelineResult {
  status: "success" | "failure" | "cancelled";
  jobs: JobSummary[];
  durationMs: number;
}

interface JobState {
  job: PlannedJob;
  phase: "waiting" | "running" | "done";
  attempt: number;
  handle?: JobHandle;
  startedAt?: number;
  summary?: JobSummary;
}

export class PipelineRunner {
  private readonly states: Map<string, JobState>;
  private cancelled = false;
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(private readonly options: PipelineRunnerOptions) {
    this.states = new Map(options.plan.jobs.map((job) => [job.key, { job, phase: "waiting", attempt: 0 }]));
  }

  async run(): Promise<PipelineResult> {
    const startedAt = Date.now();
    for (const state of this.states.values()) {
      if (state.job.state === "skipped") this.complete(state, { status: "skipped", detail: state.job.skipReason }, 0);
    }
    this.schedule();
    await this.finished;
    const jobs = this.options.plan.jobs.map((job) => this.states.get(job.key)!.summary!);
    const ran = jobs.filter((job) => job.status !== "skipped");
    const status = this.cancelled ? "cancelled" : ran.every((job) => job.status === "success") ? "success" : "failure";
    return { status, jobs, durationMs: Date.now() - startedAt };
  }

  /** Stops running jobs and starts no more. Safe to call repeatedly. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    const running = [...this.states.values()].filter((state) => state.phase === "running" && state.handle);
    await Promise.all(running.map((state) => state.handle!.cancel("pipeline cancelled")));
    this.schedule();
  }

  private schedule(): void {
    for (const state of this.states.values()) {
      if (state.phase !== "waiting") continue;
      const needs = state.job.needs.map((key) => this.states.get(key)!);
      if (needs.some((need) => need.phase !== "done")) continue;
      if (this.cancelled) {
        this.complete(state, { status: "cancelled", detail: "the pipeline was cancelled" }, 0);
        continue;
      }
      const decision = decideJob({
        condition: state.job.condition,
        variables: state.job.variables,
        needs: this.needResults(state.job),
        pipelineCancelled: false,
      });
      if (!decision.run) {
        this.complete(state, { status: decision.result, detail: decision.reason }, 0);
        continue;
      }
      if (!this.hasCapacity(state.job)) continue;
      this.start(state);
    }
    if ([...this.states.values()].every((state) => state.phase === "done")) this.finish();
  }

  private needResults(job: PlannedJob): Record<string, JobResult> {
    const results: Record<string, JobResult> = {};
    for (const jobId of job.needsJobIds) {
      const siblings = [...this.states.values()].filter((state) => state.job.jobId === jobId);
      results[jobId] = aggregateResults(siblings.map((state) => toJobResult(state.summary!.status)));
    }
    return results;
  }

  private hasCapacity(job: PlannedJob): boolean {
    const running = [...this.states.values()].filter((state) => state.phase === "running");
    if (running.length >= this.options.parallel) return false;
    const limit = job.matrixGroup?.maxParallel;
    return limit === undefined || running.filter((state) => state.job.jobId === job.jobId).length < limit;
  }

  private start(state: JobState): void {
    state.phase = "running";
    state.attempt += 1;
    state.startedAt ??= Date.now();
    const { job } = state;
    const attempt = state.attempt;
    this.options.onEvent({ type: "job-started", job, attempt, at: Date.now() });
    const onEvent = (event: ExecutorEvent) => this.options.onEvent({ type: "job-event", job, attempt, event });
    this.options.executor
      .start(
        jobRunFor(job, { plan: this.options.plan, pipelineRunId: this.options.pipelineRunId, workspace: this.options.workspace, secrets: this.options.secrets, attempt }),
        onEvent,
      )
      .then(async (handle) => {
        state.handle = handle;
        if (this.cancelled) await handle.cancel("pipeline cancelled");
        const outcome = await handle.wait();
        await handle.cleanup();
        this.onOutcome(state, outcome);
      })
      .catch((error: unknown) => {
        this.onOutcome(state, errorOutcome(error));
      });
  }

  private onOutcome(state: JobState, outcome: JobOutcome): void {
    state.handle = undefined;
    const { job } = state;
    if (!this.cancelled && this.shouldRetry(job, outcome, state.attempt)) {
      const reason = outcome.exitCode !== null ? `exit code ${outcome.exitCode}` : outcome.status;
      this.options.onEvent({ type: "job-retrying", job, attempt: state.attempt + 1, reason, at: Date.now() });
      state.phase = "waiting";
      this.schedule();
      return;
    }
    this.complete(state, { status: outcome.status, detail: describeOutcome(job, outcome) }, state.attempt);
    if (job.matrixGroup?.failFast && outcome.status !== "success") this.cancelSiblings(job);
  }

  private shouldRetry(job: PlannedJob, outcome: JobOutcome, attempt: number): boolean {
    if (attempt > job.retry.count) return false;
    if (outcome.status !== "failure" && outcome.status !== "timed-out") return false;
    return job.retry.exitCodes === undefined || (outcome.exitCode !== null && job.retry.exitCodes.includes(outcome.exitCode));
  }

  private cancelSiblings(job: PlannedJob): void {
    for (const state of this.states.values()) {
      if (state.job.jobId !== job.jobId || state.job.key === job.key) continue;
      if (state.phase === "running") void state.handle?.cancel(`fail-fast: ${job.name} failed`);
      if (state.phase === "waiting") this.complete(state, { status: "cancelled", detail: `fail-fast: ${job.name} failed` }, 0);
    }
  }

  private complete(state: JobState, result: { status: JobFinalStatus; detail?: string | undefined }, attempts: number): void {
    state.phase = "done";
    state.summary = {
      key: state.job.key,
      name: state.job.name,
      status: result.status,
      attempts,
      durationMs: state.startedAt === undefined ? 0 : Date.now() - state.startedAt,
      ...(result.detail ? { detail: result.detail } : {}),
    };
    this.options.onEvent({ type: "job-finished", job: state.job, summary: state.summary, at: Date.now() });
    // Finishing may make other jobs ready; defer so a long chain does not grow the stack.
    queueMicrotask(() => this.schedule());
  }
}

function toJobResult(status: JobFinalStatus): JobResult {
  switch (status) {
    case "success":
    case "skipped":
    case "cancelled":
      return status;
    default:
      return "failure";
  }
}

function describeOutcome(job: PlannedJob, outcome: JobOutcome): string | undefined {
  if (outcome.status === "error") return `executor error: ${outcome.error?.message ?? "unknown"}`;
  if (outcome.failedStep === null) return outcome.status === "cancelled" ? "cancelled" : undefined;
  const step = job.steps[outcome.failedStep];
  const where = step ? `step '${step.name}'` : `step ${outcome.failedStep + 1}`;
  if (outcome.status === "timed-out") return `${where} timed out`;
  return outcome.exitCode !== null ? `${where} exited with ${outcome.exitCode}` : `${where} failed`;
}
