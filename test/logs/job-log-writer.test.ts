import { afterEach, describe, expect, it, vi } from "vitest";
import { JobLogWriter } from "../../src/logs/job-log-writer";
import type { AppendResult, LogAppender, LogLine } from "../../src/logs/log-store";
import { MemoryLogStore } from "../../src/logs/memory-log-store";
import { line } from "./log-store-contract";

/** A sink whose appends complete only when the test says so. */
class ManualSink implements LogAppender {
  readonly calls: Array<{ lines: readonly LogLine[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  inFlight = 0;
  maxInFlight = 0;
  private count = 0;

  append(_jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      this.calls.push({
        lines,
        resolve: () => {
          this.inFlight--;
          const firstLine = this.count + 1;
          this.count += lines.length;
          resolve({ firstLine, lastLine: this.count });
        },
        reject: (error) => {
          this.inFlight--;
          reject(error);
        },
      });
    });
  }

  /** Completes the oldest pending append and lets the writer react. */
  async complete(): Promise<void> {
    const call = this.calls.find((c) => c.resolve !== noop);
    if (!call) throw new Error("no pending append");
    const resolve = call.resolve;
    call.resolve = noop;
    resolve();
    await settle();
  }
}

const noop = (): void => {};
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe("JobLogWriter", () => {
  it("masks, stores and numbers lines; close() flushes everything", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { secrets: ["hunter2"] });
    writer.write(line("password=hunter2"));
    writer.write(line("fine", { stream: "stderr", step: null }));
    expect(await writer.close()).toEqual({ lines: 2, bytes: 13 + 5, discardedLines: 0, discardedBytes: 0, truncated: false });
    const lines = await store.read(1, { afterLine: 0, limit: 10 });
    expect(lines.map((l) => [l.number, l.text, l.stream, l.step])).toEqual([
      [1, "password=***", "stdout", 0],
      [2, "fine", "stderr", null],
    ]);
    await expect(writer.close()).resolves.toMatchObject({ lines: 2 }); // idempotent
    expect(() => writer.write(line("late"))).toThrow(/after close/);
  });

  it("appends when the batch is full, with at most two appends in flight, in order", async () => {
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { batchBytes: 100, maxAppendBytes: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 50; i++) writer.write(line(`${i}`.padStart(9, "0"))); // 10 bytes each
    // One batch being written, the next prepared meanwhile; the rest waits.
    expect(sink.calls.map((c) => c.lines.length)).toEqual([10, 10]);
    await sink.complete();
    expect(sink.calls.length).toBe(3);
    while (sink.calls.some((c) => c.resolve !== noop)) await sink.complete();
    const closed = writer.close();
    await settle();
    while (sink.calls.some((c) => c.resolve !== noop)) await sink.complete();
    expect((await closed).lines).toBe(50);
    expect(sink.maxInFlight).toBe(2);
    for (const call of sink.calls) expect(call.lines.length).toBeLessThanOrEqual(10);
    expect(sink.calls.flatMap((c) => c.lines.map((l) => Number(l.text)))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("starts a second append only for a full batch", async () => {
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { batchBytes: 100, flushIntervalMs: 0 });
    writer.write(line("first"));
    await settle();
    writer.write(line("second"));
    await settle();
    expect(sink.calls.length).toBe(1); // a partial batch waits for the append in flight
    await sink.complete();
    expect(sink.calls.map((c) => c.lines.map((l) => l.text))).toEqual([["first"], ["second"]]);
    await sink.complete();
    await expect(writer.close()).resolves.toMatchObject({ lines: 2 });
  });

  it("takes what piled up during a slow append in one larger append, up to maxAppendBytes", async () => {
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { batchBytes: 100, maxAppendBytes: 300, highWaterMark: 1000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 60; i++) writer.write(line("123456789"));
    expect(sink.calls.map((c) => c.lines.length)).toEqual([10, 10]);
    await sink.complete();
    expect(sink.calls.map((c) => c.lines.length)).toEqual([10, 10, 30]);
    await sink.complete();
    expect(sink.calls.map((c) => c.lines.length)).toEqual([10, 10, 30, 10]);
    await sink.complete();
    await sink.complete();
    await expect(writer.close()).resolves.toMatchObject({ lines: 60 });
  });

  it("appends a lone line at the next turn of the event loop, and a burst written at once as one batch", async () => {
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { flushIntervalMs: 0 });
    writer.write(line("lone"));
    expect(sink.calls.length).toBe(0); // not before the writer's caller is done with this turn
    await settle();
    expect(sink.calls.map((c) => c.lines.map((l) => l.text))).toEqual([["lone"]]);
    // While that append is in flight, lines pile up and go together when it completes.
    for (let i = 0; i < 5; i++) writer.write(line(`burst ${i}`));
    await settle();
    expect(sink.calls.length).toBe(1);
    await sink.complete();
    expect(sink.calls.map((c) => c.lines.length)).toEqual([1, 5]);
    await sink.complete();
    await expect(writer.close()).resolves.toMatchObject({ lines: 6 });
  });

  it("spaces partial batches by flushIntervalMs, but never holds back a full batch or a line after a quiet spell", async () => {
    vi.useFakeTimers();
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { flushIntervalMs: 50, batchBytes: 100 });
    writer.write(line("one"));
    vi.advanceTimersByTime(0);
    expect(sink.calls.length).toBe(1);
    sink.calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    // The first append started at 0: a partial batch waits until 50.
    writer.write(line("two"));
    await vi.advanceTimersByTimeAsync(49);
    expect(sink.calls.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.calls.map((c) => c.lines.map((l) => l.text))).toEqual([["one"], ["two"]]);
    // A line written while that append is in flight: the append completes at once, the line still
    // waits for the interval since "two" started.
    writer.write(line("three"));
    sink.calls[1]!.resolve();
    await vi.advanceTimersByTimeAsync(49);
    expect(sink.calls.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.calls.map((c) => c.lines.map((l) => l.text))).toEqual([["one"], ["two"], ["three"]]);
    sink.calls[2]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    // A full batch goes at once, interval or not.
    for (let i = 0; i < 10; i++) writer.write(line("123456789"));
    expect(sink.calls.length).toBe(4);
    sink.calls[3]!.resolve();
    // After a quiet spell a line goes at the next turn again.
    await vi.advanceTimersByTimeAsync(60);
    writer.write(line("late"));
    vi.advanceTimersByTime(0);
    expect(sink.calls.map((c) => c.lines.length)).toEqual([1, 1, 1, 10, 1]);
    sink.calls[4]!.resolve();
    await expect(writer.close()).resolves.toMatchObject({ lines: 14 });
  });

  it("holds a line no longer than flushIntervalMs when the clock is set back", async () => {
    vi.useFakeTimers();
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { flushIntervalMs: 50 });
    writer.write(line("one"));
    vi.advanceTimersByTime(0);
    sink.calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    vi.setSystemTime(Date.now() - 3_600_000);
    writer.write(line("two"));
    await vi.advanceTimersByTimeAsync(50);
    expect(sink.calls.map((c) => c.lines.map((l) => l.text))).toEqual([["one"], ["two"]]);
    sink.calls[1]!.resolve();
    await expect(writer.close()).resolves.toMatchObject({ lines: 2 });
  });

  it("signals backpressure and resolves drain() once the buffer was taken", async () => {
    const sink = new ManualSink();
    const writer = new JobLogWriter(1, sink, { batchBytes: 100, maxAppendBytes: 100, highWaterMark: 100, flushIntervalMs: 60_000 });
    let accepted = 0;
    while (writer.write(line("123456789"))) accepted++;
    // Two batches of 100 bytes went to the sink at once; the next 100 fill the buffer.
    expect(accepted).toBe(29);
    expect(sink.calls.length).toBe(2);
    let drained = false;
    const drain = writer.drain().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    await sink.complete();
    await drain;
    expect(drained).toBe(true);
    expect(sink.calls.length).toBe(3);
    while (sink.calls.some((c) => c.resolve !== noop)) await sink.complete();
    const closed = writer.close();
    await settle();
    while (sink.calls.some((c) => c.resolve !== noop)) await sink.complete();
    expect((await closed).lines).toBe(30);
  });

  it("keeps a drain()-awaiting producer within highWaterMark of a slow store, in batches that grow to maxAppendBytes", async () => {
    const batches: number[] = [];
    let stored = 0;
    // Each append takes a few turns of the event loop, like a database round trip.
    const slow: LogAppender = {
      async append(_jobId, lines) {
        for (let i = 0; i < 3; i++) await settle();
        batches.push(lines.reduce((sum, l) => sum + l.text.length + 1, 0));
        const firstLine = stored + 1;
        stored += lines.length;
        return { firstLine, lastLine: stored };
      },
    };
    const options = { batchBytes: 16 * 1024, maxAppendBytes: 64 * 1024, highWaterMark: 64 * 1024, flushIntervalMs: 0 };
    const writer = new JobLogWriter(1, slow, options);
    let peak = 0;
    let written = 0;
    for (let i = 0; written < 4 * 1024 * 1024; i++) {
      const text = `line ${i} ${"x".repeat(i % 150)}`;
      written += text.length + 1;
      if (!writer.write(line(text))) await writer.drain();
      peak = Math.max(peak, writer.bufferedBytes);
    }
    const stats = await writer.close();
    expect(stats.bytes).toBe(written);
    expect(peak).toBeLessThan(options.highWaterMark + 200);
    expect(Math.max(...batches)).toBeLessThanOrEqual(options.maxAppendBytes);
    // Under load the batches are far larger than a full batch's threshold.
    const large = batches.filter((bytes) => bytes > options.maxAppendBytes / 2).length;
    expect(large / batches.length).toBeGreaterThan(0.9);
  });

  it("cuts long lines at maxLineLength, never inside a surrogate pair", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { maxLineLength: 4 });
    writer.write(line("abcdefghij"));
    writer.write(line("abc🚀def"));
    await writer.close();
    const texts = (await store.read(1, { afterLine: 0, limit: 100 })).map((l) => l.text);
    expect(texts).toEqual(["abcd", "efgh", "ij", "abc", "🚀de", "f"]);
  });

  it("cuts a 1 MiB line into 16 KiB lines by default", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store);
    writer.write(line("x".repeat(1024 * 1024)));
    await writer.close();
    const lines = await store.read(1, { afterLine: 0, limit: 1000 });
    expect(lines.length).toBe(64);
    expect(lines.every((l) => l.text.length === 16 * 1024)).toBe(true);
  });

  it("stops at the cap with one system line, and keeps counting what it discards", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { maxBytes: 2 * 1024 * 1024, batchBytes: 64 * 1024 });
    const text = "y".repeat(1023); // 1 KiB with the newline
    for (let i = 0; i < 3000; i++) {
      if (!writer.write(line(text, { step: 2 }))) await writer.drain();
    }
    const stats = await writer.close();
    expect(stats).toEqual({ lines: 2049, bytes: 2048 * 1024 + 60, discardedLines: 952, discardedBytes: 952 * 1024, truncated: true });
    const last = await store.read(1, { afterLine: 2047, limit: 10 });
    expect(last.map((l) => [l.number, l.stream, l.text.slice(0, 20)])).toEqual([
      [2048, "stdout", "yyyyyyyyyyyyyyyyyyyy"],
      [2049, "system", "log truncated: 2 MB "],
    ]);
    expect(last[1]!.text).toBe("log truncated: 2 MB limit reached; further output discarded");
    expect(last[1]!.step).toBe(2);
    expect(await store.lineCount(1)).toBe(2049);
  });

  it("counts an earlier attempt's bytes against the cap", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { maxBytes: 1000, startBytes: 995 });
    writer.write(line("abc")); // 4 bytes: fits
    writer.write(line("d")); // 2 bytes: over
    writer.write(line("e"));
    const stats = await writer.close();
    expect(stats).toMatchObject({ lines: 2, discardedLines: 2, truncated: true });
    expect((await store.read(1, { afterLine: 0, limit: 10 })).map((l) => l.text)).toEqual([
      "abc",
      "log truncated: 0 MB limit reached; further output discarded",
    ]);
  });

  it("replaces lone surrogates with U+FFFD and keeps valid pairs", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { secrets: ["s3cret"] });
    writer.write(line("lone high \uD83D here"));
    writer.write(line("lone low \uDE80 here"));
    writer.write(line("pair 🚀 and \uD83D\uD83D\uDE80 s3cret\uDE80"));
    writer.write(line(Buffer.from([0x66, 0xff, 0xfe, 0xc3, 0x28, 0x6f]).toString("utf8")));
    await writer.close();
    const texts = (await store.read(1, { afterLine: 0, limit: 10 })).map((l) => l.text);
    expect(texts).toEqual(["lone high \uFFFD here", "lone low \uFFFD here", "pair 🚀 and \uFFFD🚀 ***\uFFFD", "f\uFFFD\uFFFD\uFFFD(o"]);
    for (const text of texts) expect(Buffer.from(text, "utf8").toString("utf8")).toBe(text);
  });

  it("joins a surrogate pair split between two pieces", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store);
    writer.write({ ...line("ab\uD83D"), continues: true });
    writer.write(line("\uDE80cd"));
    await writer.close();
    expect((await store.read(1, { afterLine: 0, limit: 10 })).map((l) => l.text)).toEqual(["ab", "🚀cd"]);
  });

  it("releases a held piece tail when the next step starts, and at close", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { secrets: ["hunter2"] });
    writer.write({ ...line("step zero says hun", { step: 0 }), continues: true });
    writer.write(line("executor line", { step: null, stream: "system" })); // does not end step 0's line
    writer.write({ ...line("ter2 and more", { step: 0 }) });
    writer.write({ ...line("again hunt", { step: 0 }), continues: true });
    writer.write(line("step one", { step: 1 }));
    writer.write({ ...line("last hu", { step: 1 }), continues: true });
    await writer.close();
    const texts = (await store.read(1, { afterLine: 0, limit: 10 })).map((l) => [l.step, l.text]);
    expect(texts).toEqual([
      [0, "step zero says "],
      [null, "executor line"],
      [0, "*** and more"],
      [0, "again "],
      [0, "hunt"],
      [1, "step one"],
      [1, "last "],
      [1, "hu"],
    ]);
  });

  it("guesses that lines as long as executor pieces continue", async () => {
    const store = new MemoryLogStore();
    const writer = new JobLogWriter(1, store, { secrets: ["hunter2"], pieceLength: 10, maxLineLength: 100 });
    writer.write(line("123456hunt")); // 10 characters: may continue
    writer.write(line("er2 done"));
    writer.write(line("12345hunt")); // 9: may continue too (a cut before a surrogate pair)
    writer.write(line("er2"));
    writer.write(line("1234hunt")); // 8: a whole line
    writer.write(line("er2"));
    await writer.close();
    expect((await store.read(1, { afterLine: 0, limit: 10 })).map((l) => l.text)).toEqual(["123456", "*** done", "12345", "***", "1234hunt", "er2"]);
  });

  it("stops storing after a failed append; drain() and close() report the error", async () => {
    const sink = new ManualSink();
    const errors: unknown[] = [];
    const writer = new JobLogWriter(1, sink, { batchBytes: 20, maxAppendBytes: 20, highWaterMark: 20, onError: (error) => errors.push(error) });
    for (let i = 0; i < 6; i++) writer.write(line("123456789")); // two appends of 20 bytes, 20 buffered
    expect(sink.calls.length).toBe(2);
    const drain = writer.drain();
    const boom = new Error("database went away");
    sink.calls[0]!.reject(boom);
    await expect(drain).rejects.toBe(boom);
    sink.calls[1]!.reject(boom); // as the database store fails an append queued behind a failed one
    expect(writer.write(line("more"))).toBe(true);
    await expect(writer.close()).rejects.toBe(boom);
    expect(errors).toEqual([boom]);
    expect(writer.stats).toEqual({ lines: 0, bytes: 0, discardedLines: 7, discardedBytes: 65, truncated: false });
  });
});
