// Reconciles running jobs whose replica died: their leases ran out (or, for the only replica of an
// embedded database, they belong to a previous process). A run that outlives its owner (a pod) and
// is still there is adopted: this replica follows it on. Any other is first settled with the executor —
// whatever is left of the run is stopped, so it never goes on beside its retry — and only then
// queued again as a new attempt (or finished as cancelled when its stop had been requested).
// This is a recovery path, so it runs on a timer; the path from webhook to job start never waits
// for it.

export interface StaleLease {
  jobId: number;
  runId: string | null;
  leaseOwner: string | null;
}

export interface LeaseRecords {
  /** Running jobs of other owners whose lease ran out; with `allForeign`, all of other owners'. */
  stale(options: { exceptOwner: string; allForeign: boolean }): Promise<StaleLease[]>;
  /** Back to the queue if `owner` still holds the job (a new attempt), else nothing. */
  requeue(jobId: number, owner: string | null): Promise<"requeued" | "cancelled" | "not_running">;
}

export interface RunReaper {
  reap(runId: string): Promise<"stopped" | "gone">;
}

export interface LeaseReconcilerOptions {
  owner: string;
  records: LeaseRecords;
  executor: RunReaper;
  /** How often to look for expired leases. */
  intervalMs: number;
  /**
   * This replica is the only one (the embedded database is locked to one process): at start every
   * running job another owner holds is stale at once, without waiting for its lease to run out.
   */
  soleReplica: boolean;
  /**
   * For executors whose runs outlive their owner: takes the run over (same run id, followed on by
   * this replica) when it is still there; resolves false when there is nothing to adopt.
   */
  adopt?: (lease: StaleLease & { runId: string; leaseOwner: string }) => Promise<boolean>;
  onReconciled?: (lease: StaleLease, result: { reaped: "stopped" | "gone"; queue: "requeued" | "cancelled" | "not_running" }) => void;
  onAdopted?: (lease: StaleLease) => void;
  onError: (error: unknown, context: string) => void;
}

export class LeaseReconciler {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: LeaseReconcilerOptions) {}

  /** Reconciles once now (all foreign leases when sole replica), then on every interval. */
  async start(): Promise<void> {
    await this.runPass(this.options.soleReplica);
    if (this.stopped) return;
    this.timer = setInterval(() => void this.runPass(false), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pass;
  }

  /** One pass; concurrent calls share it. */
  reconcileNow(allForeign = false): Promise<void> {
    return this.runPass(allForeign);
  }

  private runPass(allForeign: boolean): Promise<void> {
    this.pass ??= this.reconcile(allForeign)
      .catch((error: unknown) => this.options.onError(error, "reconciling expired leases"))
      .finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async reconcile(allForeign: boolean): Promise<void> {
    const { records, executor, owner } = this.options;
    const leases = await records.stale({ exceptOwner: owner, allForeign });
    for (const lease of leases) {
      if (this.stopped) return;
      try {
        const { runId, leaseOwner } = lease;
        if (this.options.adopt && runId !== null && leaseOwner !== null && (await this.options.adopt({ ...lease, runId, leaseOwner }))) {
          this.options.onAdopted?.(lease);
          continue;
        }
        const reaped = lease.runId === null ? "gone" : await executor.reap(lease.runId);
        const queue = await records.requeue(lease.jobId, lease.leaseOwner);
        this.options.onReconciled?.(lease, { reaped, queue });
      } catch (error) {
        // The next pass tries again: the lease is still expired.
        this.options.onError(error, `reconciling job ${lease.jobId}`);
      }
    }
  }
}
