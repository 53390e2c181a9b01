import { describe, expect, it } from "vitest";
import { latencyBucket, latencyQuantile, LATENCY_BUCKETS } from "./latency-histogram";
import { VersionMetricsRecorder } from "./version-metrics";

const at = (seconds: number) => new Date(1_700_000_000_000 + seconds * 1000);

function recorder(retentionSeconds = 3600) {
  let now = at(0).getTime();
  const metrics = new VersionMetricsRecorder(retentionSeconds, () => now);
  return { metrics, setNow: (seconds: number) => (now = at(seconds).getTime()) };
}

describe("latency histogram", () => {
  it("puts latencies in increasing buckets, everything huge in the last", () => {
    const buckets = [0, 0.01, 0.05, 0.06, 1, 1.1, 10, 100, 1_000, 60_000].map(latencyBucket);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(latencyBucket(1)).toBeLessThan(latencyBucket(1.3));
    expect(latencyBucket(10 * 60_000)).toBe(LATENCY_BUCKETS - 1);
  });

  it("estimates quantiles within a bucket's width (about 19%)", () => {
    const latencies = Array.from({ length: 1000 }, (_, i) => 1 + i * 0.1); // 1 ms … 100.9 ms
    const counts = new Uint32Array(LATENCY_BUCKETS);
    for (const ms of latencies) counts[latencyBucket(ms)]! += 1;
    for (const [q, exact] of [
      [0.5, 50.9],
      [0.95, 95.9],
      [0.99, 99.9],
    ] as const) {
      const estimate = latencyQuantile(counts, latencies.length, q, 1, 100.9);
      expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.1);
    }
    expect(latencyQuantile(counts, latencies.length, 1, 1, 100.9)).toBeLessThanOrEqual(100.9);
  });
});

describe("version metrics", () => {
  it("sums requests, errors and latencies of one version over the seconds overlapping the window", () => {
    const { metrics, setNow } = recorder();
    setNow(10);
    for (let i = 0; i < 90; i++) metrics.record("2", { latencyMs: 5, error: false });
    for (let i = 0; i < 10; i++) metrics.record("2", { latencyMs: 200, error: true });
    metrics.record("1", { latencyMs: 1, error: false });
    setNow(20);
    metrics.record("2", { latencyMs: 7, error: false });

    const first = metrics.figures("2", { from: at(9.5), to: at(15) });
    expect(first).toMatchObject({ requests: 100, errors: 10 });
    expect(first.latencyMs!.p50).toBeGreaterThan(4);
    expect(first.latencyMs!.p50).toBeLessThan(6);
    expect(first.latencyMs!.p95).toBeGreaterThan(160);
    expect(first.latencyMs!.p99).toBeLessThanOrEqual(200);
    expect(metrics.figures("2", { from: at(9.5), to: at(25) })).toMatchObject({ requests: 101, errors: 10 });
    expect(metrics.figures("1", { from: at(0), to: at(30) })).toMatchObject({ requests: 1, errors: 0 });
  });

  it("gives zero requests and no latencies for a window without requests, or an unknown version", () => {
    const { metrics, setNow } = recorder();
    setNow(10);
    metrics.record("1", { latencyMs: 3, error: false });
    expect(metrics.figures("1", { from: at(11), to: at(20) })).toEqual({ requests: 0, errors: 0 });
    expect(metrics.figures("7", { from: at(0), to: at(20) })).toEqual({ requests: 0, errors: 0 });
  });

  it("forgets seconds older than the retention, and versions it was told to forget", () => {
    const { metrics, setNow } = recorder(60);
    setNow(0);
    metrics.record("1", { latencyMs: 3, error: false });
    metrics.record("2", { latencyMs: 3, error: false });
    setNow(30);
    metrics.record("1", { latencyMs: 3, error: false });
    setNow(61);
    metrics.record("1", { latencyMs: 3, error: false });
    expect(metrics.figures("1", { from: at(0), to: at(100) }).requests).toBe(2);
    expect(metrics.figures("2", { from: at(0), to: at(100) }).requests).toBe(0);
    metrics.forget("1");
    expect(metrics.figures("1", { from: at(0), to: at(100) }).requests).toBe(0);
  });

  it("keeps a second the clock stepped back into in order", () => {
    const { metrics, setNow } = recorder();
    setNow(10);
    metrics.record("1", { latencyMs: 3, error: false });
    setNow(8);
    metrics.record("1", { latencyMs: 3, error: true });
    expect(metrics.figures("1", { from: at(8), to: at(8.5) })).toMatchObject({ requests: 1, errors: 1 });
    expect(metrics.figures("1", { from: at(7), to: at(11) })).toMatchObject({ requests: 2, errors: 1 });
  });
});
