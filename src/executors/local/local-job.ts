// One job run by the local executor: workspace, artifacts and cache in, the steps in order, then
// everything the steps started is killed and artifacts and cache go out. Events follow the contract
// in ../executor.ts; wait() never rejects (faults become an `error` outcome).
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ExecutorError, isGustError } from "../../errors";
import type {
  ExecutorEvent,
  ExecutorEventListener,
  JobHandle,
  JobOutcome,
  JobRun,
  StepResult,
  StepRun,
  StepStatus,
} from "../executor";
import { publishArtifacts, restoreArtifacts } from "./artifacts";
import { resolveCacheKey, restoreCache, saveCache } from "./cache";
import { formatDuration } from "./format";
import { safeSegment } from "./paths";
import { ProcessGroups } from "./process-groups";
import { jobEnvironment, stepEnvironment } from "./step-env";
import { StepProcess } from "./step-process";
import { resolveWorkingDirectory } from "./working-directory";
import { prepareWorkspace, removeWorkspace } from "./workspace";

export interface LocalJobOptions {
  workRoot: string;
  artifactsDir: string;
  cacheDir: string;
  keepWorkspaces: boolean;
  killGraceMs: number;
}

type StopCause = { kind: "cancelled"; reason?: string } | { kind: "timed-out"; reason: string };
type KillCause = "cancel" | "job-timeout" | "step-timeout";
type StepOutcome = StepResult & { reason?: string };
type Fault = NonNullable<JobOutcome["error"]>;

/** How long output of killed background processes may still drain before the job finishes. */
const BACKGROUND_DRAIN_MS = 200;

export class LocalJob implements JobHandle {
  readonly runId: string;
  private readonly outcome: Promise<JobOutcome>;
  private readonly abort = new AbortController();
  private readonly groups: ProcessGroups;
  private readonly startedAt = Date.now();
  private readonly background: StepProcess[] = [];
  private workspace: string | undefined;
  private baseEnv: Record<string, string> = {};
  private cacheKey: string | undefined;
  private cacheHit = false;
  private current: { process: StepProcess; killedFor?: KillCause } | undefined;
  private stopCause: StopCause | undefined;
  private finished = false;
  private cleaning: Promise<void> | undefined;

  constructor(
    private readonly job: JobRun,
    private readonly listener: ExecutorEventListener,
    private readonly options: LocalJobOptions,
    private readonly onCleanedUp: () => void,
  ) {
    this.runId = job.runId;
    this.groups = new ProcessGroups(options.killGraceMs);
    this.emit({ type: "job-started", at: this.startedAt });
    this.outcome = this.run();
  }

  wait(): Promise<JobOutcome> {
    return this.outcome;
  }

  async cancel(reason?: string): Promise<void> {
    this.stop(reason === undefined ? { kind: "cancelled" } : { kind: "cancelled", reason });
    await this.outcome;
  }

  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      await this.cancel("cleanup");
      if (this.workspace && !this.options.keepWorkspaces) {
        try {
          await removeWorkspace(this.workspace);
        } catch (error) {
          this.cleaning = undefined; // let a later call try again
          throw new ExecutorError(`cannot remove workspace ${this.workspace}`, {
            retryable: true,
            code: "workspace_cleanup_failed",
            cause: error,
          });
        }
      }
      this.onCleanedUp();
    })();
    return this.cleaning;
  }

  private async run(): Promise<JobOutcome> {
    const job = this.job;
    const results: StepResult[] = [];
    let fault: Fault | undefined;
    let failed: { status: "failure" | "timed-out"; step: number; exitCode: number | null } | undefined;
    const jobTimer =
      job.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => this.stop({ kind: "timed-out", reason: `job timed out after ${formatDuration(job.timeoutMs ?? 0)}` }),
            job.timeoutMs,
          );
    try {
      try {
        await this.prepare();
      } catch (error) {
        if (!this.stopCause) fault = toFault(error, "workspace_failed");
      }
      for (const step of job.steps) {
        const skip = this.skipReason(step, failed !== undefined, fault);
        const result = skip ? this.skipStep(step, skip) : await this.runStep(step);
        results.push({ status: result.status, exitCode: result.exitCode, durationMs: result.durationMs });
        const failing = result.status === "failure" || result.status === "timed-out";
        if (failing && !failed && (!step.continueOnError || this.stopCause?.kind === "timed-out")) {
          failed = { status: result.status as "failure" | "timed-out", step: step.index, exitCode: result.exitCode };
        }
      }
    } catch (error) {
      fault ??= toFault(error, "internal");
    } finally {
      clearTimeout(jobTimer);
      await this.endProcesses();
    }

    if (!fault && !this.stopCause && !failed) fault = await this.saveOutputs();

    const status = fault
      ? "error"
      : this.stopCause
        ? this.stopCause.kind
        : (failed?.status ?? "success");
    const outcome: JobOutcome = {
      status,
      exitCode: status === "error" || status === "cancelled" ? null : (failed?.exitCode ?? null),
      failedStep: status === "error" || status === "cancelled" ? null : (failed?.step ?? null),
      steps: results,
      durationMs: Date.now() - this.startedAt,
      ...(fault ? { error: fault } : {}),
    };
    this.emit({ type: "job-finished", outcome, at: Date.now() });
    this.finished = true;
    return outcome;
  }

  private async prepare(): Promise<void> {
    const { job, options } = this;
    const signal = this.abort.signal;
    const log = (text: string): void => this.system(text);
    this.announceContainers();
    const workspace = path.join(options.workRoot, safeSegment(job.runId, "run id"));
    this.workspace = workspace;
    await prepareWorkspace(job.workspace, workspace, {
      exclude: [options.workRoot, options.artifactsDir, options.cacheDir],
      signal,
      log,
    });
    await restoreArtifacts(job, workspace, options.artifactsDir, log, signal);
    if (job.cache) {
      try {
        this.cacheKey = await resolveCacheKey(job.cache.key, workspace);
        this.cacheHit = (await restoreCache(job.cache, this.cacheKey, workspace, options.cacheDir, log, signal)).exact;
      } catch (error) {
        signal.throwIfAborted();
        log(`cache: warning: restore failed: ${describe(error)}`); // a cache is an optimisation only
      }
    }
    signal.throwIfAborted();
    this.baseEnv = jobEnvironment(job, workspace);
  }

  /** After a successful job: publish artifacts (a failure is a fault), save the cache (best effort). */
  private async saveOutputs(): Promise<Fault | undefined> {
    const { job, options, workspace } = this;
    if (!workspace) return undefined;
    const log = (text: string): void => this.system(text);
    try {
      await publishArtifacts(job, workspace, options.artifactsDir, log);
    } catch (error) {
      return toFault(error, "artifacts_failed");
    }
    if (job.cache && this.cacheKey !== undefined && !this.cacheHit) {
      try {
        await saveCache(job.cache, this.cacheKey, workspace, options.cacheDir, log);
      } catch (error) {
        log(`cache: warning: save failed: ${describe(error)}`);
      }
    }
    return undefined;
  }

  private skipReason(step: StepRun, failing: boolean, fault: Fault | undefined): string | undefined {
    if (fault) return "skipped: the workspace could not be prepared";
    if (this.stopCause?.kind === "cancelled") return "skipped: job cancelled";
    if (this.stopCause?.kind === "timed-out") return "skipped: job timed out";
    if (failing && !step.when.onFailure) return "skipped: an earlier step failed";
    if (!failing && !step.when.onSuccess) return "skipped: runs only after a failure";
    return undefined;
  }

  private skipStep(step: StepRun, reason: string): StepOutcome {
    return this.finishStep(step, { status: "skipped", exitCode: null, durationMs: 0, reason });
  }

  private async runStep(step: StepRun): Promise<StepOutcome> {
    const started = Date.now();
    this.emit({ type: "step-started", step: step.index, at: started });
    const workspace = this.workspace ?? this.options.workRoot;
    const elapsed = (): number => Date.now() - started;

    let cwd = workspace;
    if (step.workingDirectory) {
      const resolved = await resolveWorkingDirectory(workspace, step.workingDirectory);
      if (!resolved.ok) {
        this.emit({ type: "log", step: step.index, stream: "system", text: resolved.problem, at: Date.now() });
        return this.finishStep(step, { status: "failure", exitCode: null, durationMs: elapsed(), reason: resolved.problem });
      }
      cwd = resolved.path;
    }
    if (this.stopCause) {
      // Stopped while resolving the directory: nothing was started.
      const status: StepStatus = this.stopCause.kind === "cancelled" ? "cancelled" : "timed-out";
      return this.finishStep(step, { status, exitCode: null, durationMs: elapsed(), reason: this.stopReason() });
    }

    const child = new StepProcess({
      script: step.script,
      cwd,
      env: stepEnvironment(this.baseEnv, this.job, step),
      onLine: (stream, text) => this.emit({ type: "log", step: step.index, stream, text, at: Date.now() }),
    });
    if (child.pid !== undefined) this.groups.add(child.pid);
    const current: { process: StepProcess; killedFor?: KillCause } = { process: child };
    this.current = current;
    const stepTimer =
      step.timeoutMs === undefined ? undefined : setTimeout(() => this.killCurrent("step-timeout"), step.timeoutMs);
    const exit = await child.exited;
    clearTimeout(stepTimer);
    this.current = undefined;
    if (child.hasOpenPipes) {
      // A background process kept the output open: its lines are no longer this step's.
      child.redirect((stream, text) => this.emit({ type: "log", step: null, stream, text, at: Date.now() }));
      this.background.push(child);
    }

    const durationMs = elapsed();
    switch (current.killedFor) {
      case "cancel":
        return this.finishStep(step, { status: "cancelled", exitCode: null, durationMs, reason: this.stopReason() });
      case "job-timeout":
        return this.finishStep(step, { status: "timed-out", exitCode: null, durationMs, reason: this.stopReason() });
      case "step-timeout":
        return this.finishStep(step, {
          status: "timed-out",
          exitCode: null,
          durationMs,
          reason: `timed out after ${formatDuration(step.timeoutMs ?? 0)}`,
        });
    }
    if (exit.error) {
      const reason = `could not start the step: ${exit.error.message}`;
      this.emit({ type: "log", step: step.index, stream: "system", text: reason, at: Date.now() });
      return this.finishStep(step, { status: "failure", exitCode: null, durationMs, reason });
    }
    if (exit.exitCode === 0) return this.finishStep(step, { status: "success", exitCode: 0, durationMs });
    if (exit.exitCode !== null) return this.finishStep(step, { status: "failure", exitCode: exit.exitCode, durationMs });
    return this.finishStep(step, { status: "failure", exitCode: null, durationMs, reason: `killed by ${exit.signal}` });
  }

  private finishStep(step: StepRun, result: StepOutcome): StepOutcome {
    this.emit({
      type: "step-finished",
      step: step.index,
      status: result.status,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
      at: Date.now(),
    });
    return result;
  }

  private stop(cause: StopCause): void {
    if (this.stopCause || this.finished) return;
    this.stopCause = cause;
    this.abort.abort(new Error(this.stopReason()));
    this.killCurrent(cause.kind === "cancelled" ? "cancel" : "job-timeout");
  }

  private killCurrent(cause: KillCause): void {
    const current = this.current;
    // A shell that already exited on its own keeps its own result.
    if (!current || current.killedFor || current.process.hasExited) return;
    current.killedFor = cause;
    if (current.process.pid !== undefined) this.groups.terminate(current.process.pid);
  }

  private stopReason(): string {
    const cause = this.stopCause;
    if (!cause) return "";
    if (cause.kind === "timed-out") return cause.reason;
    return cause.reason ? `cancelled: ${cause.reason}` : "cancelled";
  }

  /** Kills whatever the steps left running, then stops reading its output. */
  private async endProcesses(): Promise<void> {
    await this.groups.terminateAll();
    if (this.background.length === 0) return;
    await Promise.race([Promise.all(this.background.map((p) => p.closed)), sleep(BACKGROUND_DRAIN_MS)]);
    for (const child of this.background) child.destroy();
  }

  private announceContainers(): void {
    const images = [...new Set([this.job.image, ...this.job.steps.map((step) => step.image)])].filter(
      (image): image is string => Boolean(image),
    );
    const parts: string[] = [];
    if (images.length > 0) parts.push(`image ${images.join(", ")} not used`);
    if (this.job.services.length > 0) {
      parts.push(`services not started (${this.job.services.map((service) => service.name).join(", ")})`);
    }
    if (parts.length > 0) this.system(`local executor: ${parts.join("; ")}; steps run on this machine`);
  }

  private system(text: string): void {
    this.emit({ type: "log", step: null, stream: "system", text, at: Date.now() });
  }

  private emit(event: ExecutorEvent): void {
    if (this.finished) return;
    try {
      this.listener(event);
    } catch (error) {
      // A listener bug must not leave the job's processes running: report it and carry on.
      process.emitWarning(`executor event listener threw: ${describe(error)}`);
    }
  }
}

function toFault(error: unknown, code: string): Fault {
  if (isGustError(error)) return { message: error.message, code: error.code, retryable: error.retryable };
  return { message: describe(error), code, retryable: code !== "internal" };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
