// The dispatcher of one replica: leases runnable jobs as soon as it is woken (LISTEN/NOTIFY, or a
// job of its own finishing — never a polling interval on the path to a job start), runs them on the
// executor, keeps their leases alive, streams steps and logs, and records outcomes.
import { jobRunFor } from "../app/job-run";
import { errorOutcome } from "../executors/error-outcome";
import type { Executor, ExecutorEvent, JobHandle, JobOutcome } from "../executors/executor";
import type { JobLog, JobLogs, LeasedJob, SchedulerQueue, Wakeups } from "./ports";

export interface DispatcherOptions {
  /** Unique per replica (and per process start): the lease owner. */
  owner: string;
  queue: SchedulerQueue;
  executor: Executor;
  logs: JobLogs;
  wakeups: Wakeups;
  /** Jobs this replica runs at once. */
  capacity: number;
  leaseMs: number;
  /** How often leases are renewed; well under leaseMs. */
  heartbeatMs: number;
  onError: (error: unknown, context: string) => void;
}

interface Running {
  job: LeasedJob;
  handle?: JobHandle;
  log?: JobLog;
  cancelRequested: boolean;
  /** Left running for another process to adopt (shutdown with an executor whose runs outlive it). */
  handedOff?: boolean;
  /** This replica took the run over from a dead one: the executor adopts it. */
  adopted?: boolean;
  done: Promise<void>;
}

export class Dispatcher {
  private readonly running = new Map<number, Running>();
  private leasing: Promise<void> | undefined;
  private again = false;
  private draining = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: DispatcherOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.options.wakeups.onJobsChanged((hint) => {
      for (const jobId of hint.cancelJobIds ?? []) void this.cancel(jobId);
      this.wake();
    });
    this.heartbeat = setInterval(() => void this.renewLeases(), this.options.heartbeatMs);
    this.heartbeat.unref();
    this.wake();
  }

  /** Jobs running here now. */
  get runningJobIds(): number[] {
    return [...this.running.keys()];
  }

  /** Leases and starts jobs while there is capacity. Coalesces concurrent wake-ups. */
  wake(): void {
    if (this.draining) return;
    if (this.leasing) {
      this.again = true;
      return;
    }
    this.leasing = this.fill()
      .catch((error: unknown) => this.options.onError(error, "leasing jobs"))
      .finally(() => {
        this.leasing = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops the job through the executor if it runs here. */
  async cancel(jobId: number): Promise<void> {
    const running = this.running.get(jobId);
    if (!running) return;
    running.cancelRequested = true;
    await running.handle?.cancel("cancelled by request");
  }

  /**
   * Graceful shutdown: lease nothing more, let running jobs finish within `graceMs`, then stop the
   * rest and hand them back to the queue for another replica.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    clearInterval(this.heartbeat);
    await this.unsubscribe?.();
    await this.leasing;
    if (this.options.executor.adoptsRuns) {
      await this.handOff();
      return;
    }
    const all = Promise.all([...this.running.values()].map((running) => running.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    const leftovers = [...this.running.values()];
    for (const running of leftovers) running.cancelRequested = true;
    await Promise.all(
      leftovers.map(async (running) => {
        await running.handle?.cancel("gust is shutting down").catch(() => undefined);
        await this.options.queue.requeue(running.job.jobId, this.options.owner).catch((error: unknown) => this.options.onError(error, "handing a job back"));
      }),
    );
    await all;
  }

  /**
   * Shutdown with an executor whose runs outlive this process: nothing is stopped. Each job's lease
   * is let go at once, so the next replica (or this one restarted) adopts its run.
   */
  private async handOff(): Promise<void> {
    const all = [...this.running.values()];
    for (const running of all) {
      running.handedOff = true;
      running.handle?.detach?.();
      await this.options.queue.release(running.job.jobId, this.options.owner).catch((error: unknown) => this.options.onError(error, "letting go of a job's lease"));
    }
    await Promise.all(all.map((running) => running.done));
  }

  /** Follows a job whose run a dead replica started (the reconciler took its lease over). */
  adopt(job: LeasedJob): void {
    if (this.running.has(job.jobId) || this.draining) return;
    this.launch(job, true);
  }

  private async fill(): Promise<void> {
    for (;;) {
      const free = this.options.capacity - this.running.size;
      if (free <= 0 || this.draining) return;
      const leased = await this.options.queue.lease(this.options.owner, free, this.options.leaseMs);
      for (const job of leased) this.launch(job);
      if (leased.length < free) return;
    }
  }

  private launch(job: LeasedJob, adopted = false): void {
    const running: Running = { job, cancelRequested: false, adopted, done: Promise.resolve() };
    this.running.set(job.jobId, running);
    running.done = this.run(running)
      .catch((error: unknown) => this.options.onError(error, `running job ${job.jobId}`))
      .finally(() => {
        this.running.delete(job.jobId);
        this.wake();
      });
  }

  private async run(running: Running): Promise<void> {
    const { job } = running;
    const { queue, executor, logs } = this.options;
    let outcome: JobOutcome;
    try {
      const context = await queue.context(job);
      const jobRun = {
        ...jobRunFor(job.spec, { plan: context.plan, pipelineRunId: `pipeline-${job.pipelineId}`, workspace: context.workspace, secrets: context.secrets, attempt: job.attempt }),
        runId: job.runId,
        ...(running.adopted ? { resume: await queue.resumePoint(job) } : {}),
      };
      running.log = logs.open(job, Object.values(jobRun.secrets));
      const steps: Promise<void>[] = [];
      const onEvent = (event: ExecutorEvent): void => {
        if (event.type === "log") running.log?.write(event);
        else if (event.type === "step-started" || event.type === "step-finished") {
          steps.push(queue.recordStep(job, event).catch((error: unknown) => this.options.onError(error, `recording a step of job ${job.jobId}`)));
        }
      };
      running.handle = await executor.start(jobRun, onEvent);
      if (running.cancelRequested) await running.handle.cancel("cancelled by request");
      outcome = await running.handle.wait();
      await Promise.all(steps);
    } catch (error) {
      outcome = errorOutcome(error);
    }
    await running.log?.close().catch((error: unknown) => this.options.onError(error, `closing the log of job ${job.jobId}`));
    if (running.handedOff) return;
    if (running.cancelRequested && this.draining) {
      // Handed back to the queue by drain(); its outcome here is not the job's.
      await running.handle?.cleanup().catch(() => undefined);
      return;
    }
    const recorded = await queue.finish(job.jobId, this.options.owner, outcome);
    if (!recorded) this.options.onError(new Error(`lost the lease of job ${job.jobId} before it finished; its result was not recorded`), "finishing a job");
    await running.handle?.cleanup().catch((error: unknown) => this.options.onError(error, `cleaning up job ${job.jobId}`));
  }

  private async renewLeases(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    try {
      const lost = await this.options.queue.heartbeat(this.options.owner, ids, this.options.leaseMs);
      // Another replica reclaimed it (we were presumed dead): stop our copy at once.
      for (const jobId of lost) await this.cancel(jobId);
    } catch (error) {
      this.options.onError(error, "renewing leases");
    }
  }
}
