// The sender of the forge-updates outbox on one replica: claims updates as soon as it is woken (the
// outbox triggers NOTIFY; no polling on the happy path), builds each from the current rows and
// reports it through the repository's forge, then marks it sent, retries it later with backoff or
// gives up. Its own loop and concurrency: it never holds up the job queue, and a forge that is down
// only delays its own repository's updates (they pause; the rest flow). A slow timer covers
// retries, claims of dead replicas and notifications lost with a connection.
import { ForgeError, isGustError } from "../errors";
import type { Forge, ReportReceipt } from "../forges";
import type { LogStore } from "../logs/log-store";
import { buildStatusUpdate, failingStep, type StatusEntry, type StatusSubject } from "./status-update";

/** A claimed outbox update. */
export interface OutboxUpdate extends StatusEntry {
  id: number;
  pipelineId: number;
  repositoryId: number;
  /** Failed sends so far. */
  attempts: number;
  failingSince: Date | null;
}

export interface SubjectRepository {
  id: number;
  forge: string;
  /** The forge's name for it: OWNER/NAME, GROUP/PROJECT, a path on disk. */
  fullName: string;
  apiUrl: string | null;
  settings?: unknown;
}

export type ReporterSubject = StatusSubject & { repository: SubjectRepository };

/**
 * The outbox (store/forge-updates-store.ts). Contract: claim hands out only the oldest pending
 * update of each job or pipeline run, to one owner at a time until the claim expires; markSent,
 * retryLater and giveUp act only while `owner` holds the claim and resolve false otherwise;
 * nextDueInMs says when a claim may next succeed (undefined: nothing pending).
 */
export interface ForgeOutbox {
  claim(options: { owner: string; limit: number; claimMs: number; skipRepositoryIds: number[]; maxPerRepository: number; inFlight: ReadonlyMap<number, number> }): Promise<OutboxUpdate[]>;
  subject(update: OutboxUpdate): Promise<ReporterSubject | undefined>;
  markSent(update: OutboxUpdate, owner: string, reportId?: string): Promise<boolean>;
  retryLater(update: OutboxUpdate, owner: string, retry: { delayMs: number; error: string }): Promise<boolean>;
  giveUp(update: OutboxUpdate, owner: string, error: string): Promise<boolean>;
  nextDueInMs(options: { skipRepositoryIds: number[] }): Promise<number | undefined>;
  prune(olderThanMs: number): Promise<number>;
}

export interface RetryPolicy {
  /** Delay after the first failure; doubles per failure up to maxDelayMs (with jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retryable failures (forge down, rate limited) are retried this long, then given up. */
  retryableForMs: number;
  /**
   * Other failures (refused credentials, a body the forge rejects) get only this long: enough for
   * a token being fixed or a fresh GitHub App token to become valid, not enough to hold a job's
   * later updates back for long.
   */
  nonRetryableForMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  retryableForMs: 24 * 60 * 60_000,
  nonRetryableForMs: 2 * 60_000,
};

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * After a failed send: when to try again (exponential backoff with jitter, never sooner than the
 * forge's Retry-After), or to give up once the update has been failing longer than the policy allows.
 */
export function retryDecision(
  error: unknown,
  failure: { attempts: number; failingSince: Date | null },
  now: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): RetryDecision {
  const retryable = isGustError(error) && error.retryable;
  const failingFor = failure.failingSince ? now - failure.failingSince.getTime() : 0;
  if (failingFor >= (retryable ? policy.retryableForMs : policy.nonRetryableForMs)) return { retry: false };
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(failure.attempts, 30));
  // Equal jitter: at least half the backoff, and replicas that failed together do not retry together.
  let delayMs = ceiling / 2 + (random() * ceiling) / 2;
  if (error instanceof ForgeError && error.retryAfterMs !== undefined) delayMs = Math.max(delayMs, error.retryAfterMs);
  return { retry: true, delayMs: Math.round(delayMs) };
}

export interface ForgeReporterOptions {
  /** Unique per replica and process start: the claim owner. */
  owner: string;
  outbox: ForgeOutbox;
  forgeFor(repository: SubjectRepository): Promise<Pick<Forge, "reportJob" | "reportPipeline">>;
  /** Where the failing step's last lines are read from (already masked). */
  logs: Pick<LogStore, "read" | "lineCount">;
  /** Calls the handler whenever updates were added (NOTIFY), or may have been while it was deaf. */
  wakeups: { onChange(handler: () => void): Promise<() => Promise<void>> };
  /** Gust's address for links, without a trailing slash. */
  publicUrl: string;
  /** Updates sent at once. Default 8. */
  concurrency?: number;
  /** Of those, at most this many to one repository. Default 2. */
  perRepository?: number;
  /** How long a claim holds: longer than a forge call can take. Default 2 minutes. */
  claimMs?: number;
  /** Longest sleep when nothing is due. Default 30 s. */
  idleMs?: number;
  /** Log lines of the failing step shown. Default 20. */
  logTailLines?: number;
  retry?: Partial<RetryPolicy>;
  /** Updates done (sent, superseded, failed) are deleted after this long. Default 7 days. */
  keepDoneMs?: number;
  onSent?: (update: OutboxUpdate, receipt: ReportReceipt) => void;
  onGiveUp?: (update: OutboxUpdate, error: unknown) => void;
  onError: (error: unknown, context: string) => void;
  random?: () => number;
}

/** Lines read per step backwards through a job's log when looking for its failing step's tail. */
const LOG_PAGE = 200;
const LOG_SCAN_LIMIT = 2_000;
/** Even when an update is due now, a claim that found nothing is not repeated sooner than this. */
const MIN_TIMER_MS = 20;
const PRUNE_EVERY_MS = 60 * 60_000;

export class ForgeReporter {
  private readonly active = new Map<number, Promise<void>>();
  /** Updates in flight per repository. */
  private readonly inFlight = new Map<number, number>();
  /** Repositories whose forge failed, and until when their updates wait. */
  private readonly paused = new Map<number, number>();
  private readonly policy: RetryPolicy;
  private filling: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private lastPrune = 0;

  constructor(private readonly options: ForgeReporterOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.options.wakeups.onChange(() => this.wake());
    this.lastPrune = Date.now();
    this.wake();
  }

  /** Claims and sends what is due while there is room. Coalesces concurrent wake-ups. */
  wake(): void {
    if (this.stopped) return;
    if (this.filling) {
      this.again = true;
      return;
    }
    this.filling = this.fill()
      .catch((error: unknown) => {
        this.options.onError(error, "claiming forge updates");
        this.arm(Math.min(this.idleMs, 5_000));
      })
      .finally(() => {
        this.filling = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * Stops after sending what is due now, within `flushMs`: the final statuses of jobs the
   * dispatcher just drained reach the forge before the process ends. Updates still being sent
   * then keep their claims, which expire for another replica (or the next start) to take.
   */
  async stop(flushMs = 5_000): Promise<void> {
    const deadline = Date.now() + flushMs;
    await this.unsubscribe?.().catch((error: unknown) => this.options.onError(error, "unsubscribing from forge updates"));
    for (;;) {
      this.wake();
      while (this.filling) await this.filling;
      const remaining = deadline - Date.now();
      if (this.active.size === 0 || remaining <= 0) break;
      await Promise.race([Promise.race(this.active.values()), sleep(remaining)]);
    }
    this.stopped = true;
    clearTimeout(this.timer);
    const remaining = deadline - Date.now();
    if (this.active.size > 0 && remaining > 0) await Promise.race([Promise.all(this.active.values()), sleep(remaining)]);
  }

  private get idleMs(): number {
    return this.options.idleMs ?? 30_000;
  }

  private async fill(): Promise<void> {
    const concurrency = this.options.concurrency ?? 8;
    for (;;) {
      const free = concurrency - this.active.size;
      // A send finishing wakes the loop again.
      if (free <= 0 || this.stopped) return;
      const claimed = await this.options.outbox.claim({
        owner: this.options.owner,
        limit: free,
        claimMs: this.options.claimMs ?? 120_000,
        skipRepositoryIds: this.pausedRepositories(),
        maxPerRepository: this.options.perRepository ?? 2,
        inFlight: this.inFlight,
      });
      for (const update of claimed) this.launch(update);
      if (claimed.length < free) break;
    }
    // Nothing more to claim now: sleep until the next update is due (a retry, an expiring claim).
    const perRepository = this.options.perRepository ?? 2;
    const full = [...this.inFlight].filter(([, count]) => count >= perRepository).map(([id]) => id);
    const due = await this.options.outbox.nextDueInMs({ skipRepositoryIds: [...this.pausedRepositories(), ...full] });
    const pauseEnds = [...this.paused.values()].map((until) => until - Date.now());
    this.arm(Math.min(this.idleMs, due ?? this.idleMs, ...pauseEnds));
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pruneNow();
      this.wake();
    }, Math.max(MIN_TIMER_MS, delayMs));
    this.timer.unref();
  }

  private pausedRepositories(): number[] {
    const now = Date.now();
    for (const [id, until] of this.paused) if (until <= now) this.paused.delete(id);
    return [...this.paused.keys()];
  }

  private pruneNow(): void {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    this.options.outbox.prune(this.options.keepDoneMs ?? 7 * 24 * 60 * 60_000).catch((error: unknown) => this.options.onError(error, "pruning sent forge updates"));
  }

  private launch(update: OutboxUpdate): void {
    const { repositoryId } = update;
    this.inFlight.set(repositoryId, (this.inFlight.get(repositoryId) ?? 0) + 1);
    const done = this.send(update)
      .catch((error: unknown) => this.options.onError(error, `sending forge update ${update.id}`))
      .finally(() => {
        this.active.delete(update.id);
        const left = (this.inFlight.get(repositoryId) ?? 1) - 1;
        if (left > 0) this.inFlight.set(repositoryId, left);
        else this.inFlight.delete(repositoryId);
        this.wake();
      });
    this.active.set(update.id, done);
  }

  private async send(update: OutboxUpdate): Promise<void> {
    const { outbox, owner } = this.options;
    try {
      const subject = await outbox.subject(update);
      if (!subject) {
        await outbox.giveUp(update, owner, "its pipeline or job no longer exists");
        return;
      }
      const forge = await this.options.forgeFor(subject.repository);
      const failure = failingStep(update, subject);
      const logTail = failure && update.jobId !== null ? await this.logTail(update.jobId, update.jobAttempt, failure.stepIndex) : undefined;
      const built = buildStatusUpdate(update, subject, { publicUrl: this.options.publicUrl, ...(logTail ? { logTail } : {}) });
      const repo = subject.repository.fullName;
      const receipt = built.kind === "job" ? await forge.reportJob(repo, built.update) : await forge.reportPipeline(repo, built.update);
      this.paused.delete(update.repositoryId);
      await outbox.markSent(update, owner, receipt.reportId);
      this.options.onSent?.(update, receipt);
    } catch (error) {
      await this.failed(update, error);
    }
  }

  private async failed(update: OutboxUpdate, error: unknown): Promise<void> {
    const { outbox, owner } = this.options;
    const decision = retryDecision(error, update, Date.now(), this.policy, this.options.random);
    const message = error instanceof Error ? error.message : String(error);
    if (!decision.retry) {
      await outbox.giveUp(update, owner, message);
      this.options.onGiveUp?.(update, error);
      return;
    }
    // The forge is down or asked to wait: its other updates wait too rather than fail in turn.
    if (error instanceof ForgeError && error.retryable) {
      const until = Date.now() + decision.delayMs;
      this.paused.set(update.repositoryId, Math.max(until, this.paused.get(update.repositoryId) ?? 0));
    }
    await outbox.retryLater(update, owner, { delayMs: decision.delayMs, error: message });
  }

  /** The last lines of one step of one attempt, reading the job's log backwards a page at a time. */
  private async logTail(jobId: number, attempt: number, step: number): Promise<string[] | undefined> {
    const want = this.options.logTailLines ?? 20;
    try {
      const count = await this.options.logs.lineCount(jobId);
      const found: string[] = [];
      for (let end = count; end > 0 && count - end < LOG_SCAN_LIMIT && found.length < want; end -= LOG_PAGE) {
        const start = Math.max(0, end - LOG_PAGE);
        const lines = await this.options.logs.read(jobId, { afterLine: start, limit: end - start });
        found.unshift(...lines.filter((line) => line.attempt === attempt && line.step === step).map((line) => line.text));
      }
      return found.slice(-want);
    } catch (error) {
      // The status matters more than its log excerpt.
      this.options.onError(error, `reading the log tail of job ${jobId}`);
      return undefined;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
