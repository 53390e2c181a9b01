// Runs jobs as processes on this machine, each in its own workspace directory. Used by `gust run`
// (no server) and by `gust serve` without a cluster.
import path from "node:path";
import { ExecutorError } from "../../errors";
import type { Executor, ExecutorEventListener, JobHandle, JobRun } from "../executor";
import { workspacePath } from "./job-files";
import { LocalJob, type LocalJobOptions } from "./local-job";
import { endRunProcesses } from "./run-processes";
import type { HostEnvironment } from "./step-env";
import { removeWorkspace } from "./workspace";

export interface LocalExecutorOptions {
  /** Workspaces are created as `workRoot/<runId>`. */
  workRoot: string;
  artifactsDir: string;
  cacheDir: string;
  /** Leave workspaces on disk after cleanup (debugging). */
  keepWorkspaces?: boolean;
  /** Between SIGTERM and SIGKILL when stopping a step's processes. Default 2000. */
  killGraceMs?: number;
  /**
   * Say in each job's log that its images and services are not used here. Default true;
   * `gust run` turns it off and says so once for the whole run instead.
   */
  announceUnusedContainers?: boolean;
  /**
   * The host variables steps see (step-env.ts): `minimal` by default, so a server's secrets never
   * reach a pipeline; `gust run` passes `all`.
   */
  hostEnvironment?: HostEnvironment;
}

export class LocalExecutor implements Executor {
  readonly name = "local";
  private readonly jobs = new Map<string, LocalJob>();
  private readonly options: LocalJobOptions;
  private closed = false;

  constructor(options: LocalExecutorOptions) {
    this.options = {
      workRoot: path.resolve(options.workRoot),
      artifactsDir: path.resolve(options.artifactsDir),
      cacheDir: path.resolve(options.cacheDir),
      keepWorkspaces: options.keepWorkspaces ?? false,
      killGraceMs: options.killGraceMs ?? 2000,
      announceUnusedContainers: options.announceUnusedContainers ?? true,
      hostEnvironment: options.hostEnvironment ?? "minimal",
    };
  }

  async start(job: JobRun, onEvent: ExecutorEventListener): Promise<JobHandle> {
    if (this.closed) throw new ExecutorError("the local executor is closed", { retryable: true, code: "executor_closed" });
    // Idempotent per runId until cleanup: a second start gets the running job, not a second run.
    const existing = this.jobs.get(job.runId);
    if (existing) return existing;
    const handle: LocalJob = new LocalJob(job, onEvent, this.options, () => {
      if (this.jobs.get(job.runId) === handle) this.jobs.delete(job.runId);
    });
    this.jobs.set(job.runId, handle);
    return handle;
  }

  /**
   * A run of this instance is cancelled and cleaned up like any job; a run another process started
   * (one that died) is found by the GUST_RUN_ID of its processes. Its output went to the dead
   * process, so it cannot be adopted: it is ended and its workspace removed.
   */
  async reap(runId: string): Promise<"stopped" | "gone"> {
    const own = this.jobs.get(runId);
    if (own) {
      await own.cleanup();
      return "stopped";
    }
    const stopped = await endRunProcesses(runId, this.options.killGraceMs);
    if (!this.options.keepWorkspaces) await removeWorkspace(workspacePath(this.options, runId)).catch(() => undefined);
    return stopped ? "stopped" : "gone";
  }

  /**
   * Cancels the jobs still running: their steps are detached process groups and would outlive Gust
   * otherwise. Workspaces stay until each handle's cleanup().
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.jobs.values()].map((job) => job.cancel("executor closed")));
  }
}
