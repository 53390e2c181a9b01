// What the scheduler needs from the rest of the system, as small interfaces: the queue (store/),
// the logs pipeline (logs/) and a wake-up signal (LISTEN/NOTIFY). main/ wires the real ones.
import type { ExecutorEvent, JobOutcome, JobResume, WorkspaceSource } from "../executors/executor";
import type { Plan, PlannedJob } from "../pipeline";

/** A job this replica holds the lease of. */
export interface LeasedJob {
  jobId: number;
  pipelineId: number;
  repositoryId: number;
  attempt: number;
  /** The executor's idempotency key for this attempt. */
  runId: string;
  spec: PlannedJob;
}

/** What running a leased job needs beyond its spec. */
export interface JobContext {
  plan: Pick<Plan, "pipeline" | "event">;
  workspace: WorkspaceSource;
  /** The repository's secrets; empty for pipelines from forks. */
  secrets: Record<string, string>;
}

export interface SchedulerQueue {
  /** Leases up to `limit` runnable jobs for `owner` (queue order, concurrency limits applied). */
  lease(owner: string, limit: number, leaseMs: number): Promise<LeasedJob[]>;
  /** Extends the owner's leases; returns the job ids whose lease it no longer holds. */
  heartbeat(owner: string, jobIds: number[], leaseMs: number): Promise<number[]>;
  /** Records the outcome if `owner` still holds the lease; false when it lost it. */
  finish(jobId: number, owner: string, outcome: JobOutcome): Promise<boolean>;
  /** Gives a job back to the queue (shutdown before it finished). */
  requeue(jobId: number, owner: string): Promise<void>;
  /** Lets the lease run out now but keeps the run, for another replica to adopt (shutdown). */
  release(jobId: number, owner: string): Promise<void>;
  /** Takes over a running job a dead owner held, keeping its run id and attempt; undefined when it moved on. */
  takeOver(jobId: number, fromOwner: string, owner: string, leaseMs: number): Promise<LeasedJob | undefined>;
  /** What is already recorded of a run this replica adopts (finished steps, where each step's log ends). */
  resumePoint(job: LeasedJob): Promise<JobResume>;
  context(job: LeasedJob): Promise<JobContext>;
  /** Step started/finished, for the steps table and forge statuses. */
  recordStep(job: LeasedJob, event: Extract<ExecutorEvent, { type: "step-started" | "step-finished" }>): Promise<void>;
}

export interface JobLog {
  write(event: Extract<ExecutorEvent, { type: "log" }>): void;
  close(): Promise<void>;
}

export interface JobLogs {
  /** Masks with the job's secret values before anything is stored. */
  open(job: LeasedJob, secretValues: string[]): JobLog;
}

export interface Wakeups {
  /** Calls `handler` whenever jobs may have become runnable (or cancelled); returns unsubscribe. */
  onJobsChanged(handler: (hint: { cancelJobIds?: number[] }) => void): Promise<() => Promise<void>>;
}
