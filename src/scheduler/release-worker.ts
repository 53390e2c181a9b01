// The release worker of one replica: claims release jobs (new ones whose target alias is free, and
// running ones whose replica stopped renewing their lease), runs each until it ends or this
// replica stops, renews the leases, and routes commands and cancellations to the running ones.
// Woken by NOTIFY (queued jobs, commands, cancels); a slow timer finds leases of dead replicas.

export interface ClaimedReleaseRef {
  releaseId: number;
  jobId: number;
}

/** The store side. Contract: claim marks what it returns as leased by `owner` (see ReleasesStore). */
export interface ReleaseRecords<C extends ClaimedReleaseRef> {
  claim(options: { owner: string; leaseMs: number; limit: number; soleReplica: boolean }): Promise<C[]>;
  /** Renews; `lost` are leases no longer held, `cancelRequested` the releases whose pipeline was cancelled. */
  heartbeat(owner: string, jobIds: number[], leaseMs: number): Promise<{ lost: number[]; cancelRequested: number[] }>;
  /** Lets a lease lapse at once, so another replica resumes the release without waiting (shutdown). */
  release(jobId: number, owner: string): Promise<void>;
}

/** Given to a running release: what the worker heard, and when to stop. */
export interface ReleaseControl {
  /** Set once the release's pipeline was cancelled. */
  cancelled(): string | undefined;
  onPoke(handler: () => void): void;
  onStop(handler: () => void): void;
}

export interface ReleaseWakeups {
  /** Calls back on queued jobs (no hint), commands (`releaseId`) and cancels (`cancelJobIds`). */
  subscribe(handler: (hint: { releaseId?: number; cancelJobIds?: number[] }) => void): Promise<() => Promise<void>>;
}

export interface ReleaseWorkerOptions<C extends ClaimedReleaseRef> {
  owner: string;
  records: ReleaseRecords<C>;
  /** Runs a claimed release until it ends (resolve) or `control` says stop (resolve soon after). */
  run(claimed: C, control: ReleaseControl): Promise<void>;
  wakeups: ReleaseWakeups;
  leaseMs: number;
  heartbeatMs: number;
  /** The embedded database is locked to one process: every running release is ours to resume. */
  soleReplica: boolean;
  /** Releases run at once by this replica. */
  capacity?: number;
  onError(error: unknown, context: string): void;
}

interface Running {
  claimed: ClaimedReleaseRef;
  cancelled?: string;
  poke: Array<() => void>;
  stop: Array<() => void>;
  done: Promise<void>;
}

const CANCELLED = "the pipeline was cancelled";

export class ReleaseWorker<C extends ClaimedReleaseRef> {
  private readonly running = new Map<number, Running>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private stopping = false;

  constructor(private readonly options: ReleaseWorkerOptions<C>) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.options.wakeups.subscribe((hint) => {
      if (hint.releaseId !== undefined) {
        for (const entry of this.running.values()) if (entry.claimed.releaseId === hint.releaseId) entry.poke.forEach((poke) => poke());
        return;
      }
      if (hint.cancelJobIds) {
        for (const jobId of hint.cancelJobIds) this.markCancelled(jobId);
        return;
      }
      this.claimSoon();
    });
    this.heartbeat = setInterval(() => void this.renew(), this.options.heartbeatMs);
    this.heartbeat.unref();
    // Leases of a replica that died are found by time, not by a notification.
    this.sweep = setInterval(() => this.claimSoon(), Math.max(1_000, Math.floor(this.options.leaseMs / 2)));
    this.sweep.unref();
    await this.claimNow();
  }

  /** Release job ids this replica runs. */
  runningJobIds(): number[] {
    return [...this.running.keys()];
  }

  /** Stops every running release where it is and hands its lease on. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeat);
    clearInterval(this.sweep);
    await this.unsubscribe?.();
    await this.claiming;
    const entries = [...this.running.values()];
    for (const entry of entries) entry.stop.forEach((stop) => stop());
    await Promise.all(entries.map((entry) => entry.done));
  }

  private claimSoon(): void {
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    void this.claimNow();
  }

  private claimNow(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.claiming = (async () => {
      do {
        this.claimAgain = false;
        const room = (this.options.capacity ?? 100) - this.running.size;
        if (room <= 0) break;
        try {
          const claimed = await this.options.records.claim({ owner: this.options.owner, leaseMs: this.options.leaseMs, limit: room, soleReplica: this.options.soleReplica });
          for (const release of claimed) this.launch(release);
        } catch (error) {
          this.options.onError(error, "claiming releases failed");
        }
      } while (this.claimAgain && !this.stopping);
    })().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  private launch(claimed: C): void {
    if (this.running.has(claimed.jobId)) return;
    const entry: Running = { claimed, poke: [], stop: [], done: Promise.resolve() };
    const control: ReleaseControl = {
      cancelled: () => entry.cancelled,
      onPoke: (handler) => entry.poke.push(handler),
      onStop: (handler) => entry.stop.push(handler),
    };
    this.running.set(claimed.jobId, entry);
    let failed = false;
    entry.done = this.options
      .run(claimed, control)
      .catch((error: unknown) => {
        failed = true;
        this.options.onError(error, `release ${claimed.releaseId} stopped on an error; the next claim resumes it`);
      })
      .finally(async () => {
        this.running.delete(claimed.jobId);
        // Ended releases finished their job; for the others the lease goes now, not at expiry.
        if (this.stopping || failed) await this.options.records.release(claimed.jobId, this.options.owner).catch((error: unknown) => this.options.onError(error, "handing a release's lease on failed"));
        // The end of a release frees its target alias for a release waiting on it.
        if (!this.stopping) this.claimSoon();
      });
  }

  private markCancelled(jobId: number): void {
    const entry = this.running.get(jobId);
    if (!entry || entry.cancelled) return;
    entry.cancelled = CANCELLED;
    entry.poke.forEach((poke) => poke());
  }

  private async renew(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    try {
      const result = await this.options.records.heartbeat(this.options.owner, ids, this.options.leaseMs);
      for (const jobId of result.cancelRequested) this.markCancelled(jobId);
      for (const jobId of result.lost) this.running.get(jobId)?.stop.forEach((stop) => stop());
    } catch (error) {
      this.options.onError(error, "renewing release leases failed");
    }
  }
}
