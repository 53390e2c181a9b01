// Turns one job's lines into durable, masked, numbered log lines. Every line is masked first (see
// piece-masker.ts), made well-formed, cut to maxLineLength, counted against the job's cap, and
// buffered for the store. How big a batch is adapts to the load:
//  - idle (nothing in flight): buffered lines go at once — at the next turn of the event loop, so a
//    burst written in one go is one batch — and a lone line is never held back;
//  - busy: lines that arrive while an append is in flight go together when it completes, up to
//    maxAppendBytes, so a slow store (a commit waiting on fsync, PGlite's WebAssembly) gets fewer,
//    larger appends instead of falling behind, and fast producers get large batches;
//  - trickling: a partial batch goes at most once per flushIntervalMs, so a chatty but slow step
//    costs one append per interval rather than one per line (a full batch, batchBytes, never waits).
// A second append starts while one is in flight only for a full batch: then the store prepares
// (encodes, deflates) one batch while it writes the other. Never more than two, and the store
// numbers a job's appends in the order they were made (log-store.ts), so lines stay in order.
//
// Backpressure: write() returns false once highWaterMark bytes are buffered; a producer that awaits
// drain() then keeps memory at about two appends in flight plus one buffered, whatever it prints.
// (Executors call back synchronously and cannot wait; for them the buffer simply grows while the
// store is slower than the step, bounded in practice by the cap.)
//
// The cap: past maxBytes, one system line says the log was truncated and nothing more is stored;
// what is discarded is still counted (stats) so the caller can say how much was lost.
//
// A failed append is not retried here (the lines may or may not have been committed): the writer
// stops storing, drain() and close() reject with the error, later lines are counted as discarded.
import { SecretMasker } from "./secret-masker";
import { PieceMasker } from "./piece-masker";
import { lineBytes, splitPieces } from "./line-text";
import type { LogAppender, LogLine } from "./log-store";

export interface WriterLine extends LogLine {
  /**
   * This line is a piece of a longer line, continued by the next line of the same attempt, step and
   * stream. Default: guessed from its length (at least pieceLength - 1, where executors cut).
   */
  continues?: boolean;
}

export interface JobLogWriterOptions {
  /** Values to mask (or a SecretMasker built from them). */
  secrets?: SecretMasker | Iterable<string>;
  /** Stored lines are at most this many characters; longer ones become several. Default 16 KiB. */
  maxLineLength?: number;
  /** Length at which executors cut long lines into pieces. Default 64 KiB (the local executor's). */
  pieceLength?: number;
  /** A buffer this full is appended as soon as no append is in flight, interval or not. Default 256 KiB. */
  batchBytes?: number;
  /** One append takes at most this many bytes (when lines piled up during the last). Default 1 MiB. */
  maxAppendBytes?: number;
  /**
   * Partial batches start at least this long after the previous append started: lines wait at most
   * this long (plus the append in flight). A line after a quiet spell goes at once. Default 20 ms.
   */
  flushIntervalMs?: number;
  /** write() returns false from this many buffered bytes on. Default maxAppendBytes. */
  highWaterMark?: number;
  /** Bytes stored per job at most. Default 100 MiB. */
  maxBytes?: number;
  /** Bytes the job's log already holds (an earlier attempt), counted against maxBytes. */
  startBytes?: number;
  /** Told once when an append fails. */
  onError?: (error: unknown) => void;
}

export interface JobLogStats {
  /** Lines and bytes (UTF-8 text plus newline) stored durably by this writer. */
  lines: number;
  bytes: number;
  /** Lines and bytes not stored: past the cap, or after a failed append. */
  discardedLines: number;
  discardedBytes: number;
  truncated: boolean;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** One being written, one being prepared. */
const MAX_IN_FLIGHT = 2;

export class JobLogWriter {
  private readonly masker: PieceMasker;
  private readonly maxLineLength: number;
  private readonly pieceLength: number;
  private readonly batchBytes: number;
  private readonly maxAppendBytes: number;
  private readonly flushIntervalMs: number;
  private readonly highWaterMark: number;
  private readonly maxBytes: number;
  private readonly onError: ((error: unknown) => void) | undefined;

  private buffer: LogLine[] = [];
  private sizes: number[] = [];
  private buffered = 0;
  /** Bytes counted against the cap: stored, in flight or buffered. */
  private acceptedBytes: number;
  /** Appends in flight, oldest first. */
  private readonly inFlight: Array<Promise<void>> = [];
  /** A pump scheduled for the next turn of the event loop, or for the end of the interval. */
  private timer: { kind: "immediate"; handle: NodeJS.Immediate } | { kind: "timeout"; handle: NodeJS.Timeout } | null = null;
  /** Date.now() when the last append started. */
  private lastAppendAt = Number.NEGATIVE_INFINITY;
  /** Someone waits for the buffer (drain, flush, close): no interval applies. */
  private due = false;
  private closing: Promise<JobLogStats> | null = null;
  private failure: { error: unknown } | null = null;
  private drainWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private readonly counts: JobLogStats = { lines: 0, bytes: 0, discardedLines: 0, discardedBytes: 0, truncated: false };

  constructor(
    readonly jobId: number,
    private readonly sink: LogAppender,
    options: JobLogWriterOptions = {},
  ) {
    const secrets = options.secrets ?? [];
    this.masker = new PieceMasker(secrets instanceof SecretMasker ? secrets : new SecretMasker(secrets));
    this.maxLineLength = Math.max(2, options.maxLineLength ?? 16 * KiB);
    this.pieceLength = Math.max(2, options.pieceLength ?? 64 * KiB);
    this.batchBytes = Math.max(1, options.batchBytes ?? 256 * KiB);
    this.maxAppendBytes = Math.max(this.batchBytes, options.maxAppendBytes ?? MiB);
    this.flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 20);
    this.highWaterMark = Math.max(1, options.highWaterMark ?? this.maxAppendBytes);
    this.maxBytes = options.maxBytes ?? 100 * MiB;
    this.acceptedBytes = options.startBytes ?? 0;
    this.onError = options.onError;
  }

  /** Takes one line. `false`: the buffer is full, await drain() before writing more. */
  write(line: WriterLine): boolean {
    if (this.closing) throw new Error(`log writer of job ${this.jobId}: write after close`);
    if (this.counts.truncated || this.failure) {
      this.discard(lineBytes(line.text)); // nothing more is stored: spare the masking
      return true;
    }
    if (this.masker.holding) for (const tail of this.masker.release(line)) this.accept(tail);
    const continues = line.continues ?? line.text.length >= this.pieceLength - 1;
    const text = this.masker.mask(line, continues);
    if (text.length <= this.maxLineLength) {
      // The common case, without the array of pieces; an empty piece was all held back for the next.
      if (text !== "" || !continues) this.accept({ at: line.at, attempt: line.attempt, step: line.step, stream: line.stream, text });
    } else {
      for (const piece of splitPieces(text, this.maxLineLength)) {
        this.accept({ at: line.at, attempt: line.attempt, step: line.step, stream: line.stream, text: piece });
      }
    }
    return this.buffered < this.highWaterMark;
  }

  /** Bytes written but not yet handed to the store. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Resolves when write() may be called again without growing the buffer past highWaterMark. */
  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.buffered < this.highWaterMark) return Promise.resolve();
    this.due = true; // a producer is waiting: do not hold lines back for the timer
    this.pump();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** Stores everything written so far (held-back piece tails excepted) and resolves when durable. */
  async flush(): Promise<void> {
    while (!this.failure && (this.buffer.length > 0 || this.inFlight.length > 0)) {
      this.due = true;
      this.pump();
      await this.inFlight[0];
    }
    if (this.failure) throw this.failure.error;
  }

  /** Stores everything, held-back tails included; resolves with the totals. Idempotent. */
  close(): Promise<JobLogStats> {
    this.closing ??= (async () => {
      for (const tail of this.masker.release()) this.accept(tail);
      try {
        await this.flush();
      } finally {
        this.clearTimer();
      }
      return this.stats;
    })();
    return this.closing;
  }

  get stats(): JobLogStats {
    return { ...this.counts };
  }

  private accept(line: LogLine): void {
    const bytes = lineBytes(line.text);
    if (this.counts.truncated || this.failure) {
      this.discard(bytes);
      return;
    }
    if (this.acceptedBytes + bytes > this.maxBytes) {
      this.counts.truncated = true;
      this.discard(bytes);
      const notice = `log truncated: ${formatMiB(this.maxBytes)} MB limit reached; further output discarded`;
      this.enqueue({ at: line.at, attempt: line.attempt, step: line.step, stream: "system", text: notice }, lineBytes(notice));
      return;
    }
    this.acceptedBytes += bytes;
    this.enqueue(line, bytes);
  }

  private discard(bytes: number): void {
    this.counts.discardedLines++;
    this.counts.discardedBytes += bytes;
  }

  private enqueue(line: LogLine, bytes: number): void {
    this.buffer.push(line);
    this.sizes.push(bytes);
    this.buffered += bytes;
    if (this.buffered >= this.batchBytes) this.pump();
    else if (this.inFlight.length === 0 && !this.timer) this.schedule(); // in flight: its completion pumps
  }

  /** Pumps at the next turn of the event loop, or when the interval since the last append ends. */
  private schedule(): void {
    if (this.timer) return;
    // At most the interval, and the timer sends whatever the clock says then: a clock set back
    // must not hold lines any longer.
    const wait = Math.min(this.flushIntervalMs, this.lastAppendAt + this.flushIntervalMs - Date.now());
    const fire = (): void => {
      this.timer = null;
      this.pump(true);
    };
    this.timer = wait > 0 ? { kind: "timeout", handle: setTimeout(fire, wait) } : { kind: "immediate", handle: setImmediate(fire) };
  }

  private clearTimer(): void {
    if (this.timer?.kind === "timeout") clearTimeout(this.timer.handle);
    else if (this.timer?.kind === "immediate") clearImmediate(this.timer.handle);
    this.timer = null;
  }

  /**
   * Starts appends while the buffer should go now and fewer than MAX_IN_FLIGHT are in flight.
   * `waited`: called by the timer, so the interval is over whatever the clock says now.
   */
  private pump(waited = false): void {
    while (!this.failure && this.buffer.length > 0 && this.inFlight.length < MAX_IN_FLIGHT) {
      const now = Date.now();
      if (!this.due && this.buffered < this.batchBytes) {
        if (this.inFlight.length > 0) return; // its completion pumps again
        if (!waited && now - this.lastAppendAt < this.flushIntervalMs) {
          this.schedule();
          return;
        }
      }
      this.start(now);
    }
  }

  private start(now: number): void {
    const { lines, bytes } = this.take();
    this.due = false;
    this.lastAppendAt = now;
    this.clearTimer();
    this.releaseDrainWaiters();
    const append: Promise<void> = this.sink.append(this.jobId, lines).then(
      () => {
        this.counts.lines += lines.length;
        this.counts.bytes += bytes;
        this.landed(append);
        this.pump();
      },
      (error: unknown) => {
        this.landed(append);
        this.fail(error, lines.length, bytes);
      },
    );
    this.inFlight.push(append);
  }

  private landed(append: Promise<void>): void {
    const index = this.inFlight.indexOf(append);
    if (index !== -1) this.inFlight.splice(index, 1);
  }

  /** The oldest buffered lines, up to maxAppendBytes (at least one line). */
  private take(): { lines: LogLine[]; bytes: number } {
    let count = 0;
    let bytes = 0;
    while (count < this.buffer.length && (count === 0 || bytes + this.sizes[count]! <= this.maxAppendBytes)) {
      bytes += this.sizes[count]!;
      count++;
    }
    let lines: LogLine[];
    if (count === this.buffer.length) {
      lines = this.buffer;
      this.buffer = [];
      this.sizes = [];
    } else {
      lines = this.buffer.splice(0, count);
      this.sizes.splice(0, count);
    }
    this.buffered -= bytes;
    return { lines, bytes };
  }

  private releaseDrainWaiters(): void {
    if (this.buffered >= this.highWaterMark || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private fail(error: unknown, lostLines: number, lostBytes: number): void {
    if (this.failure) {
      // The other append in flight failed too (the store fails those queued behind a failure).
      this.counts.discardedLines += lostLines;
      this.counts.discardedBytes += lostBytes;
      return;
    }
    this.failure = { error };
    this.counts.discardedLines += lostLines + this.buffer.length;
    this.counts.discardedBytes += lostBytes + this.buffered;
    this.buffer = [];
    this.sizes = [];
    this.buffered = 0;
    this.clearTimer();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    this.onError?.(error);
  }
}

function formatMiB(bytes: number): string {
  const mib = bytes / MiB;
  return Number.isInteger(mib) ? String(mib) : mib.toFixed(1).replace(/\.0$/, "");
}
