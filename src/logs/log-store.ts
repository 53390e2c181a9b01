// Where a job's log lines are kept. Two implementations: database-log-store.ts (log_chunks in
// PGlite or PostgreSQL) and memory-log-store.ts (`gust run`, tests); both pass
// test/logs/log-store-contract.ts.
//
// Contract:
//  1. append(jobId, lines) numbers the lines after the job's last line (the first line of a job is 1)
//     and resolves with the numbers given, once the lines are durable: a read after that, from any
//     replica, sees them. Concurrent appends to one job get disjoint, gapless ranges, in the order
//     they were made through this store (a writer keeps two in flight and relies on it); one made
//     while an earlier one of the job is pending may wait for it, and fail with it. An empty batch
//     stores nothing and resolves with lastLine = the current count and firstLine = lastLine + 1.
//  2. Lines come back exactly as appended (text, stream, step, attempt, time), already masked: a
//     store never sees a secret, so it does no masking of its own. Text is well-formed UTF-16 (the
//     writer makes it so); a lone surrogate may come back as U+FFFD.
//  3. read(jobId, { afterLine, limit, maxBytes }) returns the lines numbered afterLine+1 … in order,
//     at most `limit`, fewer only when the log has no more yet or when their text reached maxBytes
//     (at least one line is returned if there is one). Starting in the middle of a stored batch works.
//  4. lineCount(jobId) is the number of the last line (0 for a job without lines).
//  5. delete(jobId) removes the lines; afterwards the job reads as empty and numbering starts again.

export type LogStream = "stdout" | "stderr" | "system";

export interface LogLine {
  /** Milliseconds since the epoch when the line was read. */
  at: number;
  attempt: number;
  /** Index of the step, or null for the executor's own lines. */
  step: number | null;
  stream: LogStream;
  text: string;
}

export interface NumberedLine extends LogLine {
  /** 1-based, per job. */
  number: number;
}

export interface AppendResult {
  firstLine: number;
  lastLine: number;
}

export interface ReadOptions {
  afterLine: number;
  limit: number;
  /** Stop adding lines once their text holds this many characters (roughly bytes). */
  maxBytes?: number;
}

export interface LogStore {
  append(jobId: number, lines: readonly LogLine[]): Promise<AppendResult>;
  read(jobId: number, options: ReadOptions): Promise<NumberedLine[]>;
  lineCount(jobId: number): Promise<number>;
  delete(jobId: number): Promise<void>;
}

/** What a writer needs: a LogStore, or a LogHub that stores and then fans out. */
export type LogAppender = Pick<LogStore, "append">;
