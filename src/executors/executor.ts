// The Executor seam: runs one planned job somewhere (local processes, a Kubernetes pod) and reports
// what happens, step by step. The scheduler and `gust run` depend on this interface only.
//
// Contract (checked for every implementation by test/contract/executor-contract.ts):
//  1. start(job, onEvent) accepts the job and resolves with a handle once it is running (or has been
//     adopted: starting the same `runId` twice must not run it twice). It rejects only with an
//     ExecutorError (infrastructure fault), never because a step failed.
//  2. Events arrive through onEvent in order: `job-started`; then per step `step-started`, its `log`
//     lines (each one whole line without the newline, with the time it was read), `step-finished`;
//     steps that do not run get `step-finished` with status `skipped` and no `step-started`; the
//     last event is `job-finished`, exactly once. Log events with `step: null` come from the executor
//     itself (workspace, cache, artifacts).
//  3. A step runs with `sh -e` in the job workspace. A step fails on a non-zero exit or its timeout;
//     after a failure the following steps are skipped unless their `when.onFailure` is true; a step
//     with `continueOnError` does not fail the job.
//  4. wait() resolves with the outcome (also for failures, timeouts and cancellation); it rejects
//     only when the executor lost the job (ExecutorError). Calling it again returns the same outcome.
//  5. cancel() stops the running step and everything it started (no orphan processes or pods), skips
//     the rest, and makes the outcome `cancelled`. Safe to call at any time, any number of times.
//  6. cleanup() releases everything the job held (workspace, pod, secrets). Safe to call repeatedly,
//     before or after the job finished; after cleanup of a running job it is cancelled first.
//  7. reap(runId) reconciles a run whose owner is gone (its replica died, so its lease expired):
//     whatever is left of it on this executor is stopped and released, also when another process
//     (or another executor instance) started it. Resolves `stopped` when something of it was still
//     running, `gone` when nothing was (also for an unknown runId). Safe to repeat. The scheduler
//     queues the job again only after reap resolved, so a run is never left going beside its retry.

/** One step as the executor runs it: expressions already resolved by the planner. */
export interface StepRun {
  index: number;
  name: string;
  /** Shell text for `sh -e -c`. Event data never appears here, only as environment variables. */
  script: string;
  env: Record<string, string>;
  /** Image for this step's container; executors without images ignore it. */
  image?: string;
  timeoutMs?: number;
  continueOnError: boolean;
  /** Relative to the workspace root. */
  workingDirectory?: string;
  /** Whether the step runs while the job is still succeeding, and after an earlier step failed. */
  when: { onSuccess: boolean; onFailure: boolean };
}

export interface ServiceRun {
  name: string;
  image: string;
  env: Record<string, string>;
  ports: number[];
}

/** Where the job's workspace comes from. */
export type WorkspaceSource =
  | { kind: "directory"; path: string }
  | {
      kind: "git";
      repository: string;
      commit: string;
      /** HTTP credentials for cloning a private repository; never logged, never put in a command line. */
      auth?: { username: string; password: string };
    };

/** A cache key is literal text and hashFiles() calls the executor resolves inside the workspace. */
export type CacheKeyPart = string | { hashFiles: string[] };

export interface CacheRun {
  key: CacheKeyPart[];
  restoreKeys: string[];
  paths: string[];
}

export interface ArtifactsRun {
  /** Globs (relative to the workspace) whose files this job publishes when it succeeds. */
  paths: string[];
  expireInMs?: number;
}

export interface JobRun {
  /** Unique per attempt; the idempotency key of start(). */
  runId: string;
  /** Groups the jobs of one pipeline run (artifact hand-over happens inside it). */
  pipelineRunId: string;
  pipelineName: string;
  /** Stable identifier of the planned job, e.g. `test-node-20`. */
  jobKey: string;
  /** Display name, e.g. `test (node: 20)`. */
  jobName: string;
  attempt: number;
  image?: string;
  steps: StepRun[];
  /** Pipeline and job env, resolved. Step env is layered on top; secrets on top of all. */
  env: Record<string, string>;
  secrets: Record<string, string>;
  timeoutMs?: number;
  commit: { sha: string; ref: string; branch?: string; tag?: string };
  workspace: WorkspaceSource;
  services: ServiceRun[];
  resources?: { cpu?: string; memory?: string };
  artifacts?: ArtifactsRun;
  /** Job keys (same pipeline run) whose artifacts are placed into the workspace before step 1. */
  artifactsFrom: string[];
  cache?: CacheRun;
  /** Set when the run was started by a process that is gone and this one adopts it (adoptsRuns executors). */
  resume?: JobResume;
}

/** What is already recorded of an adopted run, so nothing is reported twice. */
export interface JobResume {
  /** Steps whose end was recorded: not reported again, their logs not read again. */
  finishedSteps: number[];
  /** Per step (null: the executor's own lines): the time of the last stored line and how many stored lines share that millisecond. */
  logCursors: Array<{ step: number | null; lastAt: number; countAtLast: number }>;
}

export type StepStatus = "success" | "failure" | "skipped" | "cancelled" | "timed-out";
export type JobStatus = "success" | "failure" | "cancelled" | "timed-out" | "error";

export type ExecutorEvent =
  | { type: "job-started"; at: number }
  | { type: "step-started"; step: number; at: number }
  | { type: "log"; step: number | null; stream: "stdout" | "stderr" | "system"; text: string; at: number }
  | {
      type: "step-finished";
      step: number;
      status: StepStatus;
      exitCode: number | null;
      durationMs: number;
      /** Human explanation when not a plain exit, e.g. "timed out after 5s", "skipped: earlier step failed". */
      reason?: string;
      at: number;
    }
  | { type: "job-finished"; outcome: JobOutcome; at: number };

export interface StepResult {
  status: StepStatus;
  exitCode: number | null;
  durationMs: number;
}

export interface JobOutcome {
  status: JobStatus;
  /** Exit code of the step that failed the job, when it failed by exiting. */
  exitCode: number | null;
  /** Index of the step that failed the job. */
  failedStep: number | null;
  steps: StepResult[];
  durationMs: number;
  /** Set when status is `error`: the infrastructure fault, for the operator. */
  error?: { message: string; code: string; retryable: boolean };
}

export type ExecutorEventListener = (event: ExecutorEvent) => void;

export interface JobHandle {
  readonly runId: string;
  wait(): Promise<JobOutcome>;
  cancel(reason?: string): Promise<void>;
  cleanup(): Promise<void>;
  /** Stops following the run but leaves it going, for another process to adopt (adoptsRuns executors only). */
  detach?(): void;
}

export interface Executor {
  /** Short name shown to users: `local`, `kubernetes`. */
  readonly name: string;
  start(job: JobRun, onEvent: ExecutorEventListener): Promise<JobHandle>;
  reap(runId: string): Promise<"stopped" | "gone">;
  /**
   * Runs outlive this process (pods do): when their owner is gone the scheduler adopts a run that is
   * still there (start() again with `resume`) instead of reaping it and starting a new attempt.
   */
  readonly adoptsRuns?: boolean;
  /** With adoptsRuns: whether the run is still there to adopt. */
  hasLiveRun?(runId: string): Promise<boolean>;
  /** Releases executor-wide resources (watches, timers). Safe to call repeatedly. */
  close(): Promise<void>;
}
