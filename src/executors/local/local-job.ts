// One job run by the local executor: files in (job-files.ts), the steps in order, then everything
// the steps started is killed and files go out. Events follow the contract in ../executor.ts;
// wait() never rejects (faults become an `error` outcome).
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
import { formatDuration } from "./format";
import {
  containersNotice,
  prepareJobFiles,
  saveJobFiles,
  workspacePath,
  type JobFileOptions,
  type PreparedFiles,
} from "./job-files";
import { ProcessGroups } from "./process-groups";
import { jobEnvironment, stepEnvironment, type HostEnvironment } from "./step-env";
import { LaunchedStep } from "./step-launcher";
import { StepProcess } from "./step-process";
import { StepStarter } from "./step-starter";
import { resolveWorkingDirectory } from "./working-directory";
import { removeWorkspace } from "./workspace";

export interface LocalJobOptions extends JobFileOptions {
  keepWorkspaces: boolean;
  killGraceMs: number;
  announceUnusedContainers: boolean;
  hostEnvironment: HostEnvironment;
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
  private prepared: PreparedFiles | undefined;
  private current: { process: StepProcess | LaunchedStep; killedFor?: KillCause } | undefined;
  private readonly starter: StepStarter;
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
    this.starter = new StepStarter({
      job,
      workRoot: options.workRoot,
      baseEnv: () => this.baseEnv,
      launcherCwd: () => this.workspace ?? options.workRoot,
      late: (stream, text) => this.emit({ type: "log", step: null, stream, text, at: Date.now() }),
    });
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
        let result: StepOutcome;
        if (skip) {
          result = this.skipStep(step, skip);
        } else {
          try {
            result = await this.runStep(step);
          } catch (error) {
            // A bug here must still close the step it opened (contract point 2).
            fault = toFault(error, "internal");
            const reason = `executor error: ${fault.message}`;
            result = this.finishStep(step, { status: "failure", exitCode: null, durationMs: 0, reason });
          }
        }
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
    }
    try {
      await this.endProcesses();
    } catch (error) {
      fault ??= toFault(error, "internal");
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
    const notice = this.options.announceUnusedContainers ? containersNotice(this.job) : undefined;
    if (notice) this.system(notice);
    this.workspace = workspacePath(this.options, this.job.runId);
    this.prepared = await prepareJobFiles(
      this.job,
      this.workspace,
      this.options,
      (text) => this.system(text),
      this.abort.signal,
    );
    this.baseEnv = jobEnvironment(this.job, this.workspace, this.options.hostEnvironment);
  }

  /** After a successful job: artifacts and cache out. A failure to publish artifacts is a fault. */
  private async saveOutputs(): Promise<Fault | undefined> {
    if (!this.workspace || !this.prepared) return undefined;
    try {
      await saveJobFiles(this.job, this.workspace, this.options, this.prepared, (text) => this.system(text));
      return undefined;
    } catch (error) {
      return toFault(error, "artifacts_failed");
    }
  }

  private skipReason(step: StepRun, failing: boolean, fault: Fault | undefined): string | undefined {
    if (fault) return `skipped: executor error (${fault.code})`;
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
    if (this.stopCause) return this.notStarted(step, this.stopCause, elapsed());

    const env = stepEnvironment(this.baseEnv, this.job, step);
    const onLine = (stream: "stdout" | "stderr", text: string): void =>
      this.emit({ type: "log", step: step.index, stream, text, at: Date.now() });
    const prepared = await this.starter.prepare(step, cwd, env);
    const stopped = this.stopCause as StopCause | undefined; // may have changed while awaiting
    if (stopped) {
      this.starter.release(prepared);
      return this.notStarted(step, stopped, elapsed());
    }

    let child: StepProcess | LaunchedStep;
    try {
      child = this.starter.start(prepared, onLine);
    } catch (error) {
      // spawn() throws synchronously on invalid input, e.g. a NUL byte in an env value.
      this.starter.release(prepared);
      const reason = `could not start the step: ${describe(error)}`;
      this.emit({ type: "log", step: step.index, stream: "system", text: reason, at: Date.now() });
      return this.finishStep(step, { status: "failure", exitCode: null, durationMs: elapsed(), reason });
    }
    if (child instanceof LaunchedStep) child.onPid((pid) => this.groups.add(pid));
    else if (child.pid !== undefined) this.groups.add(child.pid);
    const current: { process: StepProcess | LaunchedStep; killedFor?: KillCause } = { process: child };
    this.current = current;
    const stepTimer =
      step.timeoutMs === undefined ? undefined : setTimeout(() => this.killCurrent("step-timeout"), step.timeoutMs);
    const exit = await child.exited;
    clearTimeout(stepTimer);
    this.current = undefined;
    this.starter.release(prepared);
    if (child instanceof StepProcess && !exit.error && child.hasOpenPipes) {
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

  /** The job was stopped while the step was being set up: nothing of it ran. */
  private notStarted(step: StepRun, cause: StopCause, durationMs: number): StepOutcome {
    const status: StepStatus = cause.kind === "cancelled" ? "cancelled" : "timed-out";
    return this.finishStep(step, { status, exitCode: null, durationMs, reason: this.stopReason() });
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
    const child = current.process;
    if (child instanceof LaunchedStep) {
      // The group id may not be reported yet.
      child.onPid((pid) => {
        if (!child.hasExited) this.groups.terminate(pid);
      });
    } else if (child.pid !== undefined) this.groups.terminate(child.pid);
  }

  private stopReason(): string {
    const cause = this.stopCause;
    if (!cause) return "";
    if (cause.kind === "timed-out") return cause.reason;
    return cause.reason ? `cancelled: ${cause.reason}` : "cancelled";
  }

  /** Kills whatever the steps left running, then stops reading its output. */
  private async endProcesses(): Promise<void> {
    try {
      await this.groups.terminateAll();
      const launchersClosed = this.starter.killLaunchers();
      if (this.background.length === 0 && launchersClosed.length === 0) return;
      const drained = new AbortController(); // so the timer does not outlive the race
      await Promise.race([
        Promise.all([...this.background.map((child) => child.closed), ...launchersClosed]),
        sleep(BACKGROUND_DRAIN_MS, undefined, { signal: drained.signal }).catch(() => undefined),
      ]);
      drained.abort();
      for (const child of this.background) child.destroy();
    } finally {
      await this.starter.dispose();
    }
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
