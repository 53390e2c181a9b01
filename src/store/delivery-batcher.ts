// Group commit for the webhook intake: deliveries recorded while a write is in flight, or in the
// same turn of the event loop, go together in one write, so under load one statement (one commit,
// one WAL flush) carries many rows. Nothing waits for a timer: a delivery recorded while nothing is
// in flight is written as soon as the requests already read in this turn have been handled.
// Each caller's promise settles only after the statement holding its row has committed.
import { isGustError } from "../errors";

export interface NewDelivery {
  forge: string;
  deliveryId: string;
  event: string;
  repositoryId?: number;
  payload: unknown;
}

export type RecordResult = { status: "created"; id: number } | { status: "duplicate"; id: number };

/**
 * Stores deliveries that are all distinct (forge, delivery id) in one committed statement and
 * answers, in the same order, each one's id and whether this write created it (false: a row with
 * that key was there already). Rejects (with a StoreError) when none of them may be taken as stored.
 */
export type WriteDeliveries = (rows: NewDelivery[]) => Promise<Array<{ id: number; created: boolean }>>;

export interface BatcherOptions {
  /** Most rows in one statement (default 64). */
  maxBatch?: number;
}

/** What a batch writes: each key once, in the order first seen; each caller points at its row. */
export interface BatchPlan {
  rows: NewDelivery[];
  /** Per caller, in order: its row, and whether it was that row's first caller (the only one that can create it). */
  callers: Array<{ row: number; first: boolean }>;
}

export function planBatch(deliveries: NewDelivery[]): BatchPlan {
  const rows: NewDelivery[] = [];
  const byKey = new Map<string, number>();
  const callers = deliveries.map((delivery) => {
    // PostgreSQL text never holds NUL, so it cannot be part of either half: the key is unambiguous.
    const key = `${delivery.forge}\0${delivery.deliveryId}`;
    const known = byKey.get(key);
    if (known !== undefined) return { row: known, first: false };
    byKey.set(key, rows.length);
    rows.push(delivery);
    return { row: rows.length - 1, first: true };
  });
  return { rows, callers };
}

/** Each caller's answer: a later caller of a key the batch created is a duplicate of it. */
export function batchResults(plan: BatchPlan, written: Array<{ id: number; created: boolean }>): RecordResult[] {
  if (written.length !== plan.rows.length) throw new Error(`delivery batch: ${plan.rows.length} rows written, ${written.length} answers`);
  return plan.callers.map(({ row, first }) => {
    const { id, created } = written[row]!;
    return { status: created && first ? "created" : "duplicate", id };
  });
}

interface Waiting {
  delivery: NewDelivery;
  resolve(result: RecordResult): void;
  reject(error: unknown): void;
}

export class DeliveryBatcher {
  private readonly waiting: Waiting[] = [];
  /**
   * One write at a time: ids follow the order of the calls, and the first caller of a delivery id
   * is the one that creates it. A second connection would not help: the next batch grows instead.
   */
  private writing = false;
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly write: WriteDeliveries,
    options: BatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
  }

  record(delivery: NewDelivery): Promise<RecordResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.writing || this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    // setImmediate, not a timer: it runs right after the I/O callbacks of this turn. Every request
    // read in it has called record() by then; writing at once would take them one by one, since
    // PGlite runs a statement to its end without yielding to the event loop.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.waiting.length === 0) return;
    this.writing = true;
    void this.commit(this.waiting.splice(0, this.maxBatch)).then(() => this.schedule());
  }

  private async commit(batch: Waiting[]): Promise<void> {
    const outcomes = await this.attempt(batch);
    // Free before any caller hears: one that records again at once finds no write in flight.
    this.writing = false;
    batch.forEach((waiting, i) => {
      const outcome = outcomes[i]!;
      if ("result" in outcome) waiting.resolve(outcome.result);
      else waiting.reject(outcome.error);
    });
  }

  private async attempt(batch: Waiting[]): Promise<Array<{ result: RecordResult } | { error: unknown }>> {
    const plan = planBatch(batch.map((waiting) => waiting.delivery));
    try {
      return batchResults(plan, await this.write(plan.rows)).map((result) => ({ result }));
    } catch (error) {
      // One bad row (a payload jsonb refuses, a repository deleted meanwhile) fails the whole
      // statement, which then stored nothing: each row alone again, so it fails only its own
      // callers. A database that is down fails them all at once.
      if (plan.rows.length === 1 || !isGustError(error) || error.retryable) return batch.map(() => ({ error }));
      const outcomes = new Array<{ result: RecordResult } | { error: unknown }>(batch.length);
      for (let row = 0; row < plan.rows.length; row++) {
        const indexes = plan.callers.flatMap((caller, i) => (caller.row === row ? [i] : []));
        const alone = await this.attempt(indexes.map((i) => batch[i]!));
        indexes.forEach((i, k) => (outcomes[i] = alone[k]!));
      }
      return outcomes;
    }
  }
}
