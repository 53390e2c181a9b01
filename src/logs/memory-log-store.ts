// LogStore in process memory: for `gust run` (no database) and tests. Lines are copied in and out,
// so callers can neither change what is stored nor see each other's objects.
import type { AppendResult, LogLine, LogStore, NumberedLine, ReadOptions } from "./log-store";

export class MemoryLogStore implements LogStore {
  private readonly logs = new Map<number, LogLine[]>();

  async append(jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    let log = this.logs.get(jobId);
    if (!log) {
      log = [];
      this.logs.set(jobId, log);
    }
    const firstLine = log.length + 1;
    for (const line of lines) log.push({ at: line.at, attempt: line.attempt, step: line.step, stream: line.stream, text: line.text });
    return { firstLine, lastLine: log.length };
  }

  async read(jobId: number, { afterLine, limit, maxBytes = Number.POSITIVE_INFINITY }: ReadOptions): Promise<NumberedLine[]> {
    const log = this.logs.get(jobId) ?? [];
    const out: NumberedLine[] = [];
    let bytes = 0;
    for (let i = Math.max(0, afterLine); i < log.length && out.length < limit && bytes < maxBytes; i++) {
      const line = log[i]!;
      out.push({ ...line, number: i + 1 });
      bytes += line.text.length;
    }
    return out;
  }

  async lineCount(jobId: number): Promise<number> {
    return this.logs.get(jobId)?.length ?? 0;
  }

  async delete(jobId: number): Promise<void> {
    this.logs.delete(jobId);
  }
}
