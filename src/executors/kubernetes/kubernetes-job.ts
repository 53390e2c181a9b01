// One job's pod, followed from creation (or adoption) to its outcome. Everything it learns comes
// from the shared pod watch and the containers' logs: step N has started when container N-1 has
// ended (the entrypoint hands over through the shared volume), and has finished when its container
// has ended and its log was read to the end. Problems that mean the pod will never run (image,
// scheduling, ECI) end the job as an executor error after a bounded time, not as a step failure.
import type { V1Pod } from "@kubernetes/client-node";
import type { ExecutorEvent, ExecutorEventListener, JobHandle, JobOutcome, JobResume, JobRun, StepResult, StepStatus } from "../executor";
import type { KubeClient } from "./kube-client";
import { withKubeRetry } from "./kube-errors";
import { START_CURSOR, type LogCursor } from "./log-cursor";
import { followContainerLog, type LogFollow } from "./log-follower";
import { containerPhase, deadlineExceeded, stepReportOf, type ContainerPhase, type PodProblem, type StepReport } from "./pod-observation";
import { FINISH_CONTAINER, PREPARE_CONTAINER, stepContainerName } from "./pod-names";
import type { PodWatcher } from "./pod-watcher";
import { ProblemDeadlines } from "./problem-deadlines";
import { DELETE_AFTER_ANNOTATION } from "./janitor-plan";


/** What the step entrypoint puts before each stderr line (GUST_STEP_TAG_STDERR). */
export const STDERR_MARK = "\u001e";

export interface KubernetesJobSettings {
  namespace: string;
  imagePullTimeoutMs: number;
  unschedulableTimeoutMs: number;
  cancelGraceSeconds: number;
  /** Failed pods stay this long for inspection (0: deleted at once). */
  keepFailedPodsMs: number;
  hasFinishContainer: boolean;
}

type Interrupt = { kind: "cancel"; reason: string } | { kind: "timeout" } | { kind: "error"; problem: PodProblem };

export class KubernetesJob implements JobHandle {
  readonly runId: string;
  private pod: V1Pod | undefined;
  private gone = false;
  private interrupt: Interrupt | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly follows = new Set<LogFollow>();
  private readonly problems: ProblemDeadlines;
  private jobTimer: NodeJS.Timeout | undefined;
  private jobTimerStarted = false;
  private unsubscribe: (() => void) | undefined;
  private outcome: Promise<JobOutcome> | undefined;
  private deleting: Promise<void> | undefined;
  private cleaned: Promise<void> | undefined;
  private abandoned = false;
  private finished = false;

  constructor(
    private readonly job: JobRun,
    private readonly podName: string,
    private readonly client: KubeClient,
    private readonly watcher: PodWatcher,
    private readonly settings: KubernetesJobSettings,
    private readonly emit: ExecutorEventListener,
    private readonly resume: JobResume | undefined,
    private readonly hooks: { onError(error: unknown, context: string): void; onLogRequest?(): void },
  ) {
    this.runId = job.runId;
    this.problems = new ProblemDeadlines(settings, () => this.pod, (problem) => this.failWith(problem));
  }

  /** Starts following the pod (created or adopted); the outcome is available through wait(). */
  begin(pod: V1Pod): void {
    this.pod = this.watcher.get(this.podName) ?? pod;
    this.unsubscribe = this.watcher.subscribe(this.podName, (next, type) => this.onPod(next, type));
    this.outcome = this.follow().catch((error: unknown) => {
      const outcome = this.errorOutcome({ code: "executor_failed", message: error instanceof Error ? error.message : String(error), retryable: true }, []);
      // An abandoned job is left to the process that adopts it: it reports no end here.
      return this.abandoned ? outcome : this.settle(outcome);
    });
  }

  wait(): Promise<JobOutcome> {
    if (!this.outcome) throw new Error("the job was not begun");
    return this.outcome;
  }

  async cancel(reason = "cancelled"): Promise<void> {
    if (this.interrupt || this.finished) return;
    this.setInterrupt({ kind: "cancel", reason });
    await this.deletePod(this.settings.cancelGraceSeconds);
  }

  cleanup(): Promise<void> {
    this.cleaned ??= (async () => {
      // A detached run belongs to whoever adopts it.
      if (this.abandoned) return;
      if (!this.finished) await this.cancel("cleaned up while running");
      const outcome = await this.wait();
      this.stopWatching();
      const failed = outcome.status !== "success" && outcome.status !== "cancelled";
      if (failed && this.settings.keepFailedPodsMs > 0 && !this.gone) {
        // Kept for a person to look at; the janitor deletes it once this time has passed.
        const until = new Date(Date.now() + this.settings.keepFailedPodsMs).toISOString();
        await withKubeRetry(() => this.client.patchPod(this.settings.namespace, this.podName, { metadata: { annotations: { [DELETE_AFTER_ANNOTATION]: until } } }));
        return;
      }
      await this.deletePod(0);
      await withKubeRetry(() => this.client.deleteSecret(this.settings.namespace, this.podName));
    })();
    return this.cleaned;
  }

  /** Stops following without touching the pod (this process is shutting down; another adopts it). */
  detach(): void {
    this.abandoned = true;
    for (const follow of this.follows) follow.stop();
    this.stopWatching();
    this.wake();
  }

  private stopWatching(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.jobTimer);
    this.problems.clear();
  }

  private onPod(pod: V1Pod, type: "ADDED" | "MODIFIED" | "DELETED"): void {
    if (type === "DELETED") this.gone = true;
    else this.pod = pod;
    if (!this.interrupt && !this.finished) this.checkProblems(pod, type);
    this.wake();
  }

  private checkProblems(pod: V1Pod, type: string): void {
    if (type === "DELETED" && !this.deleting) {
      this.setInterrupt({ kind: "error", problem: { code: "pod_deleted", message: `pod ${this.podName} was deleted by someone else`, fatal: true, retryable: true } });
      return;
    }
    if (deadlineExceeded(pod)) {
      this.setInterrupt({ kind: "timeout" });
      return;
    }
    this.problems.observe(pod);
  }

  private failWith(problem: PodProblem): void {
    if (this.interrupt) return;
    this.setInterrupt({ kind: "error", problem });
    void this.deletePod(0).catch((error: unknown) => this.hooks.onError(error, `deleting pod ${this.podName}`));
  }

  private setInterrupt(interrupt: Interrupt): void {
    this.interrupt ??= interrupt;
    this.wake();
  }

  private deletePod(graceSeconds: number): Promise<void> {
    this.deleting ??= withKubeRetry(() => this.client.deletePod(this.settings.namespace, this.podName, graceSeconds));
    return this.deleting;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves at the next pod change (or interrupt), or after `ms`. */
  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Waits until `test` gives a value, or the job is interrupted, or the pod is gone (undefined then). */
  private async until<T>(test: (pod: V1Pod) => T | undefined): Promise<T | undefined> {
    for (;;) {
      if (this.abandoned) throw new Error("abandoned");
      const value = this.pod ? test(this.pod) : undefined;
      if (value !== undefined) return value;
      if (this.interrupt || this.gone) return undefined;
      await this.nextChange(60_000);
    }
  }

  private phase(name: string, init = false): ContainerPhase | undefined {
    return this.pod ? containerPhase(this.pod, name, init) : undefined;
  }

  private cursorFor(step: number | null): LogCursor {
    const found = this.resume?.logCursors.find((cursor) => cursor.step === step);
    return found ? { lastAt: found.lastAt, countAtLast: found.countAtLast } : START_CURSOR;
  }

  private followLog(container: string, step: number | null, init = false): LogFollow {
    const plain: Extract<ExecutorEvent, { type: "log" }>["stream"] = step === null ? "system" : "stdout";
    const follow = followContainerLog(
      { client: this.client, namespace: this.settings.namespace, pod: this.podName, container },
      {
        cursor: this.cursorFor(step),
        onLine: (text, at) =>
          // The log API merges stdout and stderr; the step entrypoint marks stderr lines with STDERR_MARK.
          text.startsWith(STDERR_MARK) && step !== null
            ? this.emit({ type: "log", step, stream: "stderr", text: text.slice(STDERR_MARK.length), at })
            : this.emit({ type: "log", step, stream: plain, text, at }),
        isTerminated: () => this.phase(container, init)?.state === "terminated",
        isGone: () => this.gone,
        nextChange: (ms) => this.nextChange(ms),
        onError: this.hooks.onError,
        ...(this.hooks.onLogRequest ? { onRequest: this.hooks.onLogRequest } : {}),
      },
    );
    this.follows.add(follow);
    void follow.done.finally(() => this.follows.delete(follow));
    return follow;
  }

  /** Follows a helper container (prepare, finish): its log as system lines, then its end. */
  private async runHelper(container: string, init: boolean): Promise<Extract<ContainerPhase, { state: "terminated" }> | undefined> {
    const begun = await this.until((pod) => {
      const phase = containerPhase(pod, container, init);
      return phase && phase.state !== "waiting" ? phase : undefined;
    });
    if (!begun) return undefined;
    const follow = this.followLog(container, null, init);
    const ended = await this.until((pod) => {
      const phase = containerPhase(pod, container, init);
      return phase?.state === "terminated" ? phase : undefined;
    });
    await follow.done;
    return ended;
  }

  private async follow(): Promise<JobOutcome> {
    const started = Date.now();
    this.emit({ type: "job-started", at: started });
    if (this.pod && this.pod.status?.phase !== "Succeeded") this.checkProblems(this.pod, "MODIFIED");

    const results: StepResult[] = [];
    const prepared = await this.runHelper(PREPARE_CONTAINER, true);
    if (!prepared || prepared.exitCode !== 0) {
      const problem: PodProblem | undefined = prepared
        ? { code: "workspace_failed", message: `preparing the workspace failed: ${prepared.message.trim() || `exit ${prepared.exitCode}`}`, fatal: true, retryable: false }
        : undefined;
      return this.finishEarly(problem, results, started);
    }

    let failing = false;
    let failedStep: number | null = null;
    let failedExit: number | null = null;
    let failedTimedOut = false;
    const finished = new Set(this.resume?.finishedSteps ?? []);
    for (const step of this.job.steps) {
      const index = step.index;
      if (this.interrupt || this.gone) {
        results.push(this.skip(index, this.interruptReason()));
        continue;
      }
      if (!(failing ? step.when.onFailure : step.when.onSuccess)) {
        results.push(this.skip(index, failing ? "skipped: an earlier step failed" : "skipped: runs only after a failure", finished.has(index)));
        continue;
      }
      const report = await this.runStep(index, finished.has(index));
      results.push({ status: report.status, exitCode: report.exitCode, durationMs: report.finishedAt && report.startedAt ? report.finishedAt - report.startedAt : 0 });
      if ((report.status === "failure" || report.status === "timed-out") && !step.continueOnError && !failing) {
        failing = true;
        failedStep = index;
        failedExit = report.exitCode;
        failedTimedOut = report.status === "timed-out";
      }
    }

    if (this.settings.hasFinishContainer && !this.interrupt && !this.gone) {
      const ended = await this.runHelper(FINISH_CONTAINER, false);
      if (ended && ended.exitCode !== 0) {
        return this.settle(this.errorOutcome({ code: "artifacts_failed", message: `saving artifacts or cache failed: ${ended.message.trim() || `exit ${ended.exitCode}`}`, retryable: true }, results, started));
      }
    }
    if (this.interrupt?.kind === "error") return this.settle(this.errorOutcome(this.interrupt.problem, results, started));
    if (this.interrupt?.kind === "cancel") return this.settle({ status: "cancelled", exitCode: null, failedStep: null, steps: results, durationMs: Date.now() - started });
    if (this.interrupt?.kind === "timeout") {
      const running = results.findIndex((result) => result.status === "timed-out");
      return this.settle({ status: "timed-out", exitCode: null, failedStep: running >= 0 ? running : null, steps: results, durationMs: Date.now() - started });
    }
    if (!failing) return this.settle({ status: "success", exitCode: null, failedStep: null, steps: results, durationMs: Date.now() - started });
    return this.settle({ status: failedTimedOut ? "timed-out" : "failure", exitCode: failedTimedOut ? null : failedExit, failedStep, steps: results, durationMs: Date.now() - started });
  }

  private startJobTimer(from: number): void {
    this.jobTimerStarted = true;
    if (this.job.timeoutMs === undefined) return;
    this.jobTimer = setTimeout(() => {
      if (this.finished || this.interrupt) return;
      this.setInterrupt({ kind: "timeout" });
      void this.deletePod(this.settings.cancelGraceSeconds).catch((error: unknown) => this.hooks.onError(error, `deleting pod ${this.podName}`));
    }, Math.max(0, from + this.job.timeoutMs - Date.now()));
    this.jobTimer.unref();
  }

  private async runStep(index: number, alreadyRecorded: boolean): Promise<StepReport> {
    const container = stepContainerName(index);
    // Started: the entrypoint of step N runs once step N-1's container has ended.
    const startedAt = await this.until((pod) => {
      if (index === 0) {
        const phase = containerPhase(pod, container);
        return phase && phase.state !== "waiting" ? phase.startedAt : undefined;
      }
      const previous = containerPhase(pod, stepContainerName(index - 1));
      if (previous?.state !== "terminated") return undefined;
      return stepReportOf(previous).finishedAt ?? previous.finishedAt;
    });
    if (startedAt === undefined) return this.reportInterrupted(index, alreadyRecorded, null);
    // The job's timeout counts from its first step, as it does locally: starting the pod (image
    // pulls, scheduling, the clone, the kubelet starting each container) has bounds of its own. An
    // adopted job keeps its deadline (the container's start, to the second).
    if (!this.jobTimerStarted) this.startJobTimer(this.resume ? startedAt : Date.now());
    if (!alreadyRecorded) this.emit({ type: "step-started", step: index, at: Math.max(startedAt, 1) });
    const follow = alreadyRecorded ? undefined : this.followLog(container, index);
    const ended = await this.until((pod) => {
      const phase = containerPhase(pod, container);
      return phase?.state === "terminated" ? phase : undefined;
    });
    await follow?.done;
    if (!ended) return this.reportInterrupted(index, alreadyRecorded, startedAt);
    let report = stepReportOf(ended);
    if (this.interrupt?.kind === "timeout" && (report.status === "cancelled" || report.status === "failure")) report = { ...report, status: "timed-out", reason: "the job timed out" };
    if (!alreadyRecorded) this.emitFinished(index, report);
    return report;
  }

  private reportInterrupted(index: number, alreadyRecorded: boolean, startedAt: number | null): StepReport {
    const status: StepStatus = startedAt === null ? "skipped" : this.interrupt?.kind === "timeout" ? "timed-out" : this.interrupt?.kind === "cancel" ? "cancelled" : "failure";
    const report: StepReport = { status, exitCode: null, startedAt, finishedAt: Date.now(), reason: this.interruptReason() };
    if (!alreadyRecorded) this.emitFinished(index, report);
    return report;
  }

  private emitFinished(index: number, report: StepReport): void {
    const durationMs = report.finishedAt && report.startedAt ? Math.max(0, report.finishedAt - report.startedAt) : 0;
    this.emit({
      type: "step-finished",
      step: index,
      status: report.status,
      exitCode: report.exitCode,
      durationMs,
      ...(report.reason ? { reason: report.reason } : {}),
      at: report.finishedAt ?? Date.now(),
    });
  }

  private skip(index: number, reason: string, alreadyRecorded = false): StepResult {
    if (!alreadyRecorded) this.emit({ type: "step-finished", step: index, status: "skipped", exitCode: null, durationMs: 0, reason, at: Date.now() });
    return { status: "skipped", exitCode: null, durationMs: 0 };
  }

  private interruptReason(): string {
    const interrupt = this.interrupt;
    if (!interrupt) return this.gone ? "the pod is gone" : "skipped";
    if (interrupt.kind === "cancel") return interrupt.reason;
    if (interrupt.kind === "timeout") return `the job timed out after ${Math.round((this.job.timeoutMs ?? 0) / 1000)}s`;
    return interrupt.problem.message;
  }

  private finishEarly(problem: PodProblem | undefined, results: StepResult[], started: number): Promise<JobOutcome> {
    const reason = problem?.message ?? this.interruptReason();
    for (const step of this.job.steps) results.push(this.skip(step.index, `skipped: ${reason}`));
    const interrupt = this.interrupt;
    if (problem) return Promise.resolve(this.settle(this.errorOutcome(problem, results, started)));
    if (interrupt?.kind === "cancel") return Promise.resolve(this.settle({ status: "cancelled", exitCode: null, failedStep: null, steps: results, durationMs: Date.now() - started }));
    if (interrupt?.kind === "timeout") return Promise.resolve(this.settle({ status: "timed-out", exitCode: null, failedStep: null, steps: results, durationMs: Date.now() - started }));
    const lost: PodProblem = interrupt?.kind === "error" ? interrupt.problem : { code: "pod_deleted", message: `pod ${this.podName} disappeared before it ran`, fatal: true, retryable: true };
    return Promise.resolve(this.settle(this.errorOutcome(lost, results, started)));
  }

  private errorOutcome(problem: Pick<PodProblem, "code" | "message" | "retryable">, results: StepResult[], started = Date.now()): JobOutcome {
    return { status: "error", exitCode: null, failedStep: null, steps: results, durationMs: Date.now() - started, error: { message: problem.message, code: problem.code, retryable: problem.retryable } };
  }

  private settle(outcome: JobOutcome): JobOutcome {
    this.finished = true;
    clearTimeout(this.jobTimer);
    this.emit({ type: "job-finished", outcome, at: Date.now() });
    return outcome;
  }
}
