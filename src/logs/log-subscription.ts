// One subscriber of a job's log (see log-hub.ts): hands it every line after `afterLine`, in order,
// exactly once. Its position is the number of the last line handed out; lines come from two
// sources that it reconciles by number alone:
//  - the store, read page by page from its position (the replay, and whenever a gap appears), and
//  - live batches offered by the hub after each durable append, queued when they continue exactly
//    where the queue (or the position) ends, ignored when already covered, and turned into a store
//    read when they leave a gap.
// A line is therefore never skipped (a gap always leads to a read) and never repeated (everything at
// or below the position is dropped). The queue is bounded: a consumer that cannot keep up is closed
// with reason "dropped" rather than buffered for without limit; it can resume from its last line.
import type { LogStore, NumberedLine } from "./log-store";

export type SubscriptionEnd =
  /** The job finished and every line up to lastLine was delivered. */
  | { reason: "end"; lastLine: number }
  /** close() was called (the client went away), or the hub closed. */
  | { reason: "closed" }
  /** The consumer fell too far behind, or its callback failed, or reading the store failed. */
  | { reason: "dropped"; message: string; error?: unknown };

export type LinesListener = (lines: NumberedLine[]) => void | Promise<void>;

export interface SubscriptionLimits {
  /** Lines per store read, and their text at most (roughly bytes). */
  pageSize: number;
  pageBytes: number;
  /** Queued live text (characters, roughly bytes) before the consumer is dropped. */
  maxQueuedBytes: number;
}

/** Per-line overhead counted in the queue bound besides its text. */
const LINE_OVERHEAD = 64;

export class LogSubscription {
  /** Resolves once, when the subscription is over, with why. */
  readonly done: Promise<SubscriptionEnd>;
  private resolveDone!: (end: SubscriptionEnd) => void;
  private ended: SubscriptionEnd | null = null;
  /** Number of the last line handed to the listener. */
  private position: number;
  private queue: NumberedLine[] = [];
  private queuedBytes = 0;
  private readWanted = true; // the replay
  private pumping = false;
  private endLine: number | null = null;

  constructor(
    readonly jobId: number,
    afterLine: number,
    private readonly store: LogStore,
    private readonly listener: LinesListener,
    private readonly limits: SubscriptionLimits,
    private readonly onEnded: (subscription: LogSubscription, end: SubscriptionEnd) => void,
  ) {
    this.position = Math.max(0, Math.floor(afterLine));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Number of the last line delivered so far. */
  get lastDelivered(): number {
    return this.position;
  }

  get closed(): boolean {
    return this.ended !== null;
  }

  close(): void {
    this.finish({ reason: "closed" });
  }

  /** Lines just made durable (numbered, consecutive). */
  offer(lines: readonly NumberedLine[]): void {
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (this.ended || !first || !last) return;
    const queueEnd = this.queue[this.queue.length - 1]?.number ?? this.position;
    if (last.number <= queueEnd) return;
    if (first.number > queueEnd + 1) {
      this.readWanted = true; // a gap: those lines are in the store
    } else {
      for (let i = queueEnd + 1 - first.number; i < lines.length; i++) {
        const line = lines[i]!;
        this.queue.push(line);
        this.queuedBytes += line.text.length + LINE_OVERHEAD;
      }
      if (this.queuedBytes > this.limits.maxQueuedBytes) {
        this.finish({ reason: "dropped", message: `subscriber fell behind by more than ${this.limits.maxQueuedBytes} bytes; resume from line ${this.position}` });
        return;
      }
    }
    void this.pump();
  }

  /** Lines up to `lastLine` exist in the store (another replica appended them, or a resync). */
  poke(lastLine = Number.POSITIVE_INFINITY): void {
    if (this.ended) return;
    const queueEnd = this.queue[this.queue.length - 1]?.number ?? this.position;
    if (lastLine <= queueEnd) return;
    this.readWanted = true;
    void this.pump();
  }

  /** The job is finished and its log ends at `lastLine`: end once everything up to it is delivered. */
  endAfter(lastLine: number): void {
    if (this.ended) return;
    this.endLine = this.endLine === null ? lastLine : Math.max(this.endLine, lastLine);
    this.poke(lastLine);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.ended) {
        if (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          this.queuedBytes = 0;
          await this.deliver(batch);
        } else if (this.readWanted) {
          this.readWanted = false;
          const lines = await this.store.read(this.jobId, { afterLine: this.position, limit: this.limits.pageSize, maxBytes: this.limits.pageBytes });
          if (lines.length > 0) this.readWanted = true; // until a read finds nothing (a page may end early at pageBytes)
          await this.deliver(lines);
        } else {
          if (this.endLine !== null && this.position >= this.endLine) this.finish({ reason: "end", lastLine: this.position });
          break;
        }
      }
    } catch (error) {
      this.finish({ reason: "dropped", message: error instanceof Error ? error.message : String(error), error });
    } finally {
      this.pumping = false;
    }
  }

  private async deliver(lines: NumberedLine[]): Promise<void> {
    if (this.ended) return;
    let start = 0;
    while (start < lines.length && lines[start]!.number <= this.position) start++;
    const fresh = start === 0 ? lines : lines.slice(start);
    const first = fresh[0];
    const last = fresh[fresh.length - 1];
    if (!first || !last) return;
    // Both sources start right after the position by construction; anything else is a bug.
    if (first.number !== this.position + 1) throw new Error(`log of job ${this.jobId}: got line ${first.number} after line ${this.position}`);
    this.position = last.number;
    // Queued lines the store read just delivered, or that no longer join on: drop them.
    if (this.queue.length > 0) {
      let keep = 0;
      while (keep < this.queue.length && this.queue[keep]!.number <= this.position) keep++;
      if (keep > 0) this.queue = this.queue.slice(keep);
      const next = this.queue[0];
      if (next && next.number !== this.position + 1) {
        this.queue = [];
        this.readWanted = true;
      }
      this.queuedBytes = 0;
      for (const line of this.queue) this.queuedBytes += line.text.length + LINE_OVERHEAD;
    }
    await this.listener(fresh);
  }

  private finish(end: SubscriptionEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.queue = [];
    this.queuedBytes = 0;
    this.onEnded(this, end);
    this.resolveDone(end);
  }
}
