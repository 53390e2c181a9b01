// Live fan-out of job logs. Writers append through the hub (it is a LogAppender): the hub stores the
// batch, hands the numbered lines to this replica's subscribers of the job, and announces the new
// last line on the `gust_logs` channel so that other replicas read the lines from the shared store
// and hand them to theirs. A subscriber replays from the store first and then continues live; how
// the two are joined without gap or duplicate is in log-subscription.ts.
//
// Order of a job's end: close its JobLogWriter (every line durable), record the job as finished,
// then call finish(jobId): subscribers here and on other replicas end after the last line. A reader
// that subscribes around that moment checks the job's state after subscribing (see sse.ts), so it
// either sees the job finished or receives the finish.
//
// A notification lost across replicas (the LISTEN connection dropped) delays lines until the next
// one, a resync from the bus, or the subscriber's own refresh (sse.ts refreshes at each heartbeat).
import type { AppendResult, LogAppender, LogLine, LogStore, NumberedLine } from "./log-store";
import { type LinesListener, LogSubscription } from "./log-subscription";

export const LOG_CHANNEL = "gust_logs";

/** NOTIFY/LISTEN, as src/store/database.ts provides them. */
export interface LogBus {
  notify(channel: string, payload: string): Promise<void>;
  listen(channel: string, handler: (payload: string) => void, options?: { onResync?: () => void }): Promise<() => Promise<void>>;
}

export interface LogHubOptions {
  store: LogStore;
  /** Absent on a single process (`gust run`, tests): only local fan-out. */
  bus?: LogBus;
  /** Lines per store read (a replay reads whole chunks at a page's ends: larger pages waste less). Default 5000. */
  pageSize?: number;
  /** Text per store read at most, whatever the line count. Default 1 MiB. */
  pageBytes?: number;
  /** Live text queued per subscriber before it is dropped. Default 4 MiB. */
  maxQueuedBytes?: number;
  /** Failures that reach no caller: a notify that failed, a notification that made no sense. */
  onError?: (error: unknown) => void;
}

/** What the hub sends on LOG_CHANNEL. */
export interface LogNotification {
  jobId: number;
  lastLine: number;
  /** The job finished and its log ends at lastLine. */
  end?: boolean;
}

interface JobChannel {
  subscribers: Set<LogSubscription>;
  /** Highest line number this hub has handed to the job's subscribers. */
  seen: number;
  /** Highest line number another replica announced. */
  announced: number;
  fetching: boolean;
}

export class LogHub implements LogAppender {
  readonly store: LogStore;
  private readonly bus: LogBus | undefined;
  private readonly pageSize: number;
  private readonly pageBytes: number;
  private readonly maxQueuedBytes: number;
  private readonly onError: (error: unknown) => void;
  private readonly jobs = new Map<number, JobChannel>();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(options: LogHubOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.pageSize = options.pageSize ?? 5000;
    this.pageBytes = options.pageBytes ?? 1024 * 1024;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.onError = options.onError ?? (() => {});
  }

  /** Starts listening to other replicas (no-op without a bus). Resolves once LISTEN is in effect. */
  async start(): Promise<void> {
    if (!this.bus || this.unlisten) return;
    this.unlisten = await this.bus.listen(LOG_CHANNEL, (payload) => this.received(payload), {
      onResync: () => this.resync(),
    });
  }

  async append(jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    const result = await this.store.append(jobId, lines);
    if (lines.length === 0) return result;
    const job = this.jobs.get(jobId);
    if (job) {
      const numbered = lines.map((line, i): NumberedLine => ({ ...line, number: result.firstLine + i }));
      job.seen = Math.max(job.seen, result.lastLine);
      for (const subscriber of job.subscribers) subscriber.offer(numbered);
    }
    this.announce({ jobId, lastLine: result.lastLine });
    return result;
  }

  /** The job's log is complete (its writer closed): subscribers end after its last line. */
  async finish(jobId: number): Promise<void> {
    const lastLine = await this.store.lineCount(jobId);
    for (const subscriber of this.jobs.get(jobId)?.subscribers ?? []) subscriber.endAfter(lastLine);
    this.announce({ jobId, lastLine, end: true });
  }

  /**
   * Every line after `afterLine`, in order, each once: first from the store, then live. The
   * listener's lines are shared with other subscribers (do not change them); when it returns a
   * promise, later lines wait for it (and queue, up to maxQueuedBytes).
   */
  subscribe(jobId: number, afterLine: number, onLines: LinesListener): LogSubscription {
    let job = this.jobs.get(jobId);
    if (!job) {
      job = { subscribers: new Set(), seen: Math.max(0, afterLine), announced: 0, fetching: false };
      this.jobs.set(jobId, job);
    }
    const limits = { pageSize: this.pageSize, pageBytes: this.pageBytes, maxQueuedBytes: this.maxQueuedBytes };
    const subscription = new LogSubscription(jobId, afterLine, this.store, onLines, limits, (ended) => this.removed(ended));
    job.subscribers.add(subscription);
    subscription.poke(); // the replay
    return subscription;
  }

  /** Number of live subscriptions (all jobs). */
  get subscriberCount(): number {
    let count = 0;
    for (const job of this.jobs.values()) count += job.subscribers.size;
    return count;
  }

  async close(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = null;
    for (const job of [...this.jobs.values()]) for (const subscriber of [...job.subscribers]) subscriber.close();
    if (unlisten) await unlisten();
  }

  private removed(subscription: LogSubscription): void {
    const job = this.jobs.get(subscription.jobId);
    if (!job) return;
    job.subscribers.delete(subscription);
    if (job.subscribers.size === 0) this.jobs.delete(subscription.jobId);
  }

  private announce(notification: LogNotification): void {
    if (!this.bus) return;
    this.bus.notify(LOG_CHANNEL, JSON.stringify(notification)).catch(this.onError);
  }

  private received(payload: string): void {
    const notification = parseNotification(payload);
    if (!notification) {
      this.onError(new Error(`${LOG_CHANNEL}: ignored a malformed notification: ${payload.slice(0, 200)}`));
      return;
    }
    const job = this.jobs.get(notification.jobId);
    if (!job) return;
    if (notification.end) {
      for (const subscriber of job.subscribers) subscriber.endAfter(notification.lastLine);
      return;
    }
    if (notification.lastLine <= job.seen) return; // our own append, or already read
    job.announced = Math.max(job.announced, notification.lastLine);
    void this.fetch(notification.jobId, job);
  }

  /** Reads announced lines once for all of the job's subscribers. */
  private async fetch(jobId: number, job: JobChannel): Promise<void> {
    if (job.fetching) return;
    job.fetching = true;
    try {
      while (job.subscribers.size > 0) {
        // Start where the furthest subscriber is: those behind it notice the gap and read for themselves.
        let from = job.seen;
        for (const subscriber of job.subscribers) from = Math.max(from, subscriber.lastDelivered);
        if (from >= job.announced) break;
        const lines = await this.store.read(jobId, { afterLine: from, limit: this.pageSize, maxBytes: this.pageBytes });
        const last = lines[lines.length - 1];
        if (!last) break;
        job.seen = Math.max(job.seen, last.number);
        for (const subscriber of job.subscribers) subscriber.offer(lines);
      }
    } catch (error) {
      this.onError(error);
      for (const subscriber of job.subscribers) subscriber.poke(); // each retries on its own
    } finally {
      job.fetching = false;
    }
  }

  /** Notifications may have been missed: every subscriber looks at the store again. */
  private resync(): void {
    for (const job of this.jobs.values()) for (const subscriber of job.subscribers) subscriber.poke();
  }
}

export function parseNotification(payload: string): LogNotification | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { jobId, lastLine, end } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(jobId) || !Number.isSafeInteger(lastLine)) return null;
  return { jobId: jobId as number, lastLine: lastLine as number, ...(end === true ? { end: true } : {}) };
}
