// Turns one job's lines into durable, masked, numbered log lines. Every line is masked first (see
// piece-masker.ts), made well-formed, cut to maxLineLength, counted against the job's cap, and
// buffered; a batch goes to the store when it reaches batchBytes, when its oldest line has waited
// flushIntervalMs, when a producer waits in drain(), or at close. At most one append is in flight, so
// the store sees ordered, sizeable batches and never a pile of concurrent transactions. Lines that
// arrive while an append is in flight are taken together by the next one, up to maxAppendBytes: a
// slow store (a commit waiting on fsync) gets fewer, larger appends instead of falling behind.
//
// Backpressure: write() returns false once highWaterMark bytes are buffered; a producer that awaits
// drain() then keeps memory at about one append in flight plus one buffered, whatever it prints.
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
  /** Append once this many bytes are buffered. Default 256 KiB. */
  batchBytes?: number;
  /** One append takes at most this many bytes (when lines piled up during the last). Default 1 MiB. */
  maxAppendBytes?: number;
  /** Append lines that have waited this long. Default 50 ms. */
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
  private bufferedBytes = 0;
  /** Bytes counted against the cap: stored, in flight or buffered. */
  private acceptedBytes: number;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The buffer's oldest lines have waited long enough (or someone waits for them). */
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
    this.flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 50);
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
    if (text === "" && continues) return this.bufferedBytes < this.highWaterMark; // all held back for the next piece
    for (const piece of splitPieces(text, this.maxLineLength)) {
      this.accept({ at: line.at, attempt: line.attempt, step: line.step, stream: line.stream, text: piece });
    }
    return this.bufferedBytes < this.highWaterMark;
  }

  /** Resolves when write() may be called again without growing the buffer past highWaterMark. */
  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.bufferedBytes < this.highWaterMark) return Promise.resolve();
    this.due = true; // a producer is waiting: do not hold lines back for the timer
    this.pump();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** Stores everything written so far (held-back piece tails excepted) and resolves when durable. */
  async flush(): Promise<void> {
    while (!this.failure && (this.buffer.length > 0 || this.inFlight)) {
      this.due = true;
      this.pump();
      await this.inFlight;
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
    this.bufferedBytes += bytes;
    if (this.bufferedBytes >= this.batchBytes) this.pump();
    else this.startTimer();
  }

  private startTimer(): void {
    if (this.timer || this.due) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.due = true;
      this.pump();
    }, this.flushIntervalMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Starts the next append if none is in flight and the buffer should go now. */
  private pump(): void {
    if (this.inFlight || this.failure || this.buffer.length === 0) return;
    if (!this.due && this.bufferedBytes < this.batchBytes) {
      this.startTimer();
      return;
    }
    const { lines, bytes } = this.take();
    this.due = false;
    this.clearTimer();
    if (this.buffer.length > 0) {
      if (this.bufferedBytes >= this.batchBytes) this.due = true;
      else this.startTimer();
    }
    this.releaseDrainWaiters();
    this.inFlight = this.sink.append(this.jobId, lines).then(
      () => {
        this.counts.lines += lines.length;
        this.counts.bytes += bytes;
        this.inFlight = null;
        this.pump();
      },
      (error: unknown) => {
        this.inFlight = null;
        this.fail(error, lines.length, bytes);
      },
    );
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
    this.bufferedBytes -= bytes;
    return { lines, bytes };
  }

  private releaseDrainWaiters(): void {
    if (this.bufferedBytes >= this.highWaterMark || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private fail(error: unknown, lostLines: number, lostBytes: number): void {
    this.failure = { error };
    this.counts.discardedLines += lostLines + this.buffer.length;
    this.counts.discardedBytes += lostBytes + this.bufferedBytes;
    this.buffer = [];
    this.sizes = [];
    this.bufferedBytes = 0;
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
