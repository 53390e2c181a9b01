// Runs processDelivery for deliveries as they are accepted, and at start for those a crash left
// pending. A few at a time; a retryable failure (forge or database down) is tried again with
// backoff, the delivery staying pending in the database meanwhile, so nothing is lost. A delivery
// handed over with its row (just stored, or listed as pending) is not read again.
import { processDelivery, type DeliveryProcessorDeps, type DeliveryResult, type StoredDelivery } from "./process-delivery";

export interface DeliveryWorkerOptions {
  deps: DeliveryProcessorDeps;
  /** The stored delivery, for one enqueued by id alone; undefined when there is no such row. */
  load(id: number): Promise<StoredDelivery | undefined>;
  pending(limit: number): Promise<StoredDelivery[]>;
  concurrency?: number;
  /** First retry delay; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  onResult?: (delivery: StoredDelivery, result: DeliveryResult) => void;
  onError: (error: unknown, delivery: StoredDelivery | number) => void;
}

export class DeliveryWorker {
  private readonly waiting: number[] = [];
  private readonly queued = new Set<number>();
  /** Rows handed over with their id, kept until processed (a retry needs no read either). */
  private readonly rows = new Map<number, StoredDelivery>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Failed attempts per delivery, for the backoff. */
  private readonly failures = new Map<number, number>();
  private active = 0;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(private readonly options: DeliveryWorkerOptions) {}

  /** Picks up what was stored but not processed (after a crash or a restart). */
  async resume(): Promise<number> {
    const pending = await this.options.pending(1000);
    for (const delivery of pending) this.enqueue(delivery.id, delivery);
    return pending.length;
  }

  /** `delivery`: the stored row, when the caller has it (as stored: it is processed as given). */
  enqueue(id: number, delivery?: StoredDelivery): void {
    if (this.stopped || this.queued.has(id)) return;
    this.queued.add(id);
    if (delivery) this.rows.set(id, delivery);
    this.waiting.push(id);
    this.pump();
  }

  /** Stops taking work; resolves when what is running finished. Pending deliveries stay stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 4;
    while (!this.stopped && this.active < limit && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      this.active++;
      void this.work(id).finally(() => {
        this.active--;
        if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
        this.pump();
      });
    }
  }

  private async work(id: number): Promise<void> {
    let delivery: StoredDelivery | undefined;
    try {
      delivery = this.rows.get(id) ?? (await this.options.load(id));
      if (delivery) {
        const result = await processDelivery(delivery, this.options.deps);
        this.options.onResult?.(delivery, result);
      }
      this.queued.delete(id);
      this.rows.delete(id);
      this.failures.delete(id);
    } catch (error) {
      this.options.onError(error, delivery ?? id);
      if (this.stopped) return;
      const failures = this.failures.get(id) ?? 0;
      this.failures.set(id, failures + 1);
      const delay = Math.min(this.options.maxRetryDelayMs ?? 5 * 60_000, (this.options.retryDelayMs ?? 1000) * 2 ** failures);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiting.push(id);
        this.pump();
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }
}
