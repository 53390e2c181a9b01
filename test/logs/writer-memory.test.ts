// A producer printing 200 MB through JobLogWriter, waiting on drain() as told, keeps the heap flat:
// the writer holds about one batch in flight and one buffered, never the log.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { JobLogWriter } from "../../src/logs/job-log-writer";
import type { AppendResult, LogAppender, LogLine } from "../../src/logs/log-store";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Takes its time (a few turns of the event loop) and keeps only counts. */
class CountingSink implements LogAppender {
  lines = 0;
  bytes = 0;
  async append(_jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    await new Promise((resolve) => setImmediate(resolve));
    const firstLine = this.lines + 1;
    this.lines += lines.length;
    for (const line of lines) this.bytes += line.text.length + 1;
    return { firstLine, lastLine: this.lines };
  }
}

describe("JobLogWriter memory", () => {
  it("keeps heap growth bounded while 200 MB of lines go through", async () => {
    const sink = new CountingSink();
    const writer = new JobLogWriter(1, sink, { secrets: ["hunter2", "s3cr3t-t0ken"], maxBytes: Number.POSITIVE_INFINITY });
    const total = 200 * 1024 * 1024;
    const filler = "0123456789abcdef".repeat(12); // 192 characters
    const before = heapUsed();
    let peak = 0;
    let written = 0;
    let n = 0;
    while (written < total) {
      // A fresh string per line, as a process's output would be.
      const text = `${n++} ${filler}`;
      written += text.length + 1;
      if (!writer.write({ at: n, attempt: 1, step: 0, stream: "stdout", text })) await writer.drain();
      if (n % 100_000 === 0) peak = Math.max(peak, heapUsed() - before);
    }
    const stats = await writer.close();
    expect(stats.lines).toBe(n);
    expect(sink.bytes).toBe(written);
    // Loose bound: the buffered and in-flight batches are ~0.5 MB; 200 MB went through.
    expect(peak).toBeLessThan(32 * 1024 * 1024);
  }, 120_000);
});
