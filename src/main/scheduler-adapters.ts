// Glue between the scheduler's ports and the concrete store and logs: the queue's rows become
// LeasedJobs, executor outcomes become the queue's outcomes, LISTEN becomes wake-ups.
import type { JobOutcome as ExecutorOutcome, JobResume, WorkspaceSource } from "../executors/executor";
import type { LogStore } from "../logs/log-store";
import { JobLogWriter } from "../logs/job-log-writer";
import type { LogHub } from "../logs/log-hub";
import type { JobContext, JobLog, JobLogs, LeasedJob, SchedulerQueue, Wakeups } from "../scheduler/ports";
import { CANCEL_CHANNEL, JOBS_CHANNEL, type Database, type JobQueue, type JobOutcome as QueueOutcome, type LeasedJob as QueueJob, type RepositoriesStore, type StepsStore } from "../store";

export interface QueueAdapterOptions {
  queue: JobQueue;
  steps: StepsStore;
  repositories: RepositoriesStore;
  /** Jobs running at once across all replicas; absent means no global limit. */
  globalLimit?: number;
  /** Where a repository's code is cloned from. */
  workspaceFor(job: QueueJob): Promise<WorkspaceSource>;
  /** Jobs whose stop was requested but whose notification this replica may have missed. */
  stop(jobIds: number[]): void;
  /**
   * The job reached its final status after its log writer closed (the dispatcher closes the log
   * first): live log readers may end (LogHub.finish). Not called when the job goes back to the queue.
   */
  logFinished?(jobId: number): void;
  /** Every outcome the executor reported, recorded or not (for metrics). */
  onOutcome?(outcome: ExecutorOutcome): void;
  /** Stored logs, read when a run is adopted to learn where each step's log ends. */
  logStore?: Pick<LogStore, "read" | "lineCount">;
}

/** How far back an adopting replica looks for the end of each step's stored log. */
const RESUME_TAIL_LINES = 5000;

export class StoreSchedulerQueue implements SchedulerQueue {
  /** The queue rows of leased jobs: the adapter needs their pipeline and repository later. */
  private readonly leased = new Map<number, QueueJob>();

  constructor(private readonly options: QueueAdapterOptions) {}

  async lease(owner: string, limit: number, leaseMs: number): Promise<LeasedJob[]> {
    const rows = await this.options.queue.leaseJobs({ owner, limit, leaseMs, ...(this.options.globalLimit !== undefined ? { globalLimit: this.options.globalLimit } : {}) });
    return rows.map((row) => this.remember(row));
  }

  private remember(row: QueueJob): LeasedJob {
    this.leased.set(row.id, row);
    return { jobId: row.id, pipelineId: row.pipelineId, repositoryId: row.repositoryId, attempt: row.attempt, runId: row.runId, spec: row.spec };
  }

  async takeOver(jobId: number, fromOwner: string, owner: string, leaseMs: number): Promise<LeasedJob | undefined> {
    const row = await this.options.queue.takeOver(jobId, fromOwner, owner, leaseMs);
    return row ? this.remember(row) : undefined;
  }

  async release(jobId: number, owner: string): Promise<void> {
    this.leased.delete(jobId);
    await this.options.queue.release(jobId, owner);
  }

  async resumePoint(job: LeasedJob): Promise<JobResume> {
    const finishedSteps = await this.options.steps.finishedSteps(job.jobId, job.attempt);
    const logCursors: JobResume["logCursors"] = [];
    const store = this.options.logStore;
    if (store) {
      const count = await store.lineCount(job.jobId);
      const lines = await store.read(job.jobId, { afterLine: Math.max(0, count - RESUME_TAIL_LINES), limit: RESUME_TAIL_LINES });
      const byStep = new Map<number | null, { lastAt: number; countAtLast: number }>();
      for (const line of lines) {
        if (line.attempt !== job.attempt) continue;
        const cursor = byStep.get(line.step);
        if (cursor && cursor.lastAt === line.at) cursor.countAtLast++;
        else byStep.set(line.step, { lastAt: line.at, countAtLast: 1 });
      }
      for (const [step, cursor] of byStep) logCursors.push({ step, ...cursor });
    }
    return { finishedSteps, logCursors };
  }

  async heartbeat(owner: string, jobIds: number[], leaseMs: number): Promise<number[]> {
    const result = await this.options.queue.heartbeat(owner, jobIds, leaseMs);
    // A stop whose notification this replica missed still reaches the job.
    if (result.cancelRequested.length > 0) this.options.stop(result.cancelRequested);
    return result.lost;
  }

  async finish(jobId: number, owner: string, outcome: ExecutorOutcome): Promise<boolean> {
    const row = this.leased.get(jobId);
    this.leased.delete(jobId);
    this.options.onOutcome?.(outcome);
    const result = await this.options.queue.finishJob(jobId, owner, toQueueOutcome(outcome, row));
    // Fail-fast siblings in result.stop were announced on CANCEL_CHANNEL by the store.
    if (result.accepted && !result.retried) this.options.logFinished?.(jobId);
    return result.accepted;
  }

  async requeue(jobId: number, owner: string): Promise<void> {
    this.leased.delete(jobId);
    if ((await this.options.queue.requeue(jobId, { owner })) === "cancelled") this.options.logFinished?.(jobId);
  }

  async context(job: LeasedJob): Promise<JobContext> {
    const row = this.leased.get(job.jobId);
    if (!row) throw new Error(`job ${job.jobId} is not leased by this replica`);
    const { pipeline } = row;
    const secrets = await this.options.repositories.secretsForJob(row.repositoryId, row.spec.secrets, { fromFork: pipeline.fromFork });
    return {
      plan: {
        pipeline: { name: pipeline.name, file: pipeline.file },
        event: {
          event: pipeline.event as JobContext["plan"]["event"]["event"],
          ref: pipeline.ref,
          sha: pipeline.sha,
          ...(pipeline.branch !== null ? { branch: pipeline.branch } : {}),
          ...(pipeline.tag !== null ? { tag: pipeline.tag } : {}),
        },
      },
      workspace: await this.options.workspaceFor(row),
      secrets,
    };
  }

  async recordStep(job: LeasedJob, event: Parameters<SchedulerQueue["recordStep"]>[1]): Promise<void> {
    const name = job.spec.steps[event.step]?.name ?? `step ${event.step + 1}`;
    const at = new Date(event.at);
    if (event.type === "step-started") {
      await this.options.steps.recordStep({ jobId: job.jobId, attempt: job.attempt, index: event.step, name, status: "running", startedAt: at });
      return;
    }
    await this.options.steps.recordStep({
      jobId: job.jobId,
      attempt: job.attempt,
      index: event.step,
      name,
      status: event.status === "timed-out" ? "timed_out" : event.status,
      exitCode: event.exitCode,
      reason: event.reason ?? null,
      finishedAt: at,
    });
  }
}

function toQueueOutcome(outcome: ExecutorOutcome, row: QueueJob | undefined): QueueOutcome {
  const status = outcome.status === "timed-out" ? "timed_out" : outcome.status;
  const step = outcome.failedStep !== null ? row?.spec.steps[outcome.failedStep] : undefined;
  const detail =
    outcome.status === "error"
      ? `executor error: ${outcome.error?.message ?? "unknown"}`
      : step
        ? outcome.status === "timed-out"
          ? `step '${step.name}' timed out`
          : `step '${step.name}' exited with ${outcome.exitCode ?? "a signal"}`
        : null;
  return { status, exitCode: outcome.exitCode, failedStep: outcome.failedStep, detail };
}

/** Each job's log goes through its own writer (masking, batching, cap) into the hub. */
export class HubJobLogs implements JobLogs {
  constructor(
    private readonly hub: LogHub,
    private readonly onError: (error: unknown) => void,
  ) {}

  open(job: LeasedJob, secretValues: string[]): JobLog {
    const writer = new JobLogWriter(job.jobId, this.hub, { secrets: secretValues, onError: this.onError });
    return {
      write: (event) => {
        writer.write({ at: event.at, attempt: job.attempt, step: event.step, stream: event.stream, text: event.text });
      },
      close: async () => {
        await writer.close();
      },
    };
  }
}

/** Wake-ups from LISTEN: new jobs on JOBS_CHANNEL, jobs to stop on CANCEL_CHANNEL. */
export function databaseWakeups(database: Pick<Database, "listen">): Wakeups {
  return {
    async onJobsChanged(handler) {
      const stopJobs = await database.listen(JOBS_CHANNEL, () => handler({}));
      const stopCancels = await database.listen(CANCEL_CHANNEL, (payload) => handler({ cancelJobIds: parseIds(payload) }));
      return async () => {
        await stopJobs();
        await stopCancels();
      };
    },
  };
}

function parseIds(payload: string): number[] {
  try {
    const value: unknown = JSON.parse(payload);
    return Array.isArray(value) ? value.filter((id): id is number => typeof id === "number") : [];
  } catch {
    return [];
  }
}
