// Per-version figures of one router: requests, errors and a latency histogram in one-second
// buckets, kept for a bounded time (an hour by default) so memory stays bounded whatever the load.
// metrics(version, window) sums the buckets that overlap the window.
import type { MetricsWindow, VersionMetrics } from "../deploy-provider";
import { LATENCY_BUCKETS, latencyBucket, latencyQuantile } from "./latency-histogram";

interface Second {
  second: number;
  requests: number;
  errors: number;
  minMs: number;
  maxMs: number;
  histogram: Uint32Array;
}

export interface RequestOutcome {
  latencyMs: number;
  /** A 5xx answer or an upstream that failed. */
  error: boolean;
}

export class VersionMetricsRecorder {
  /** Per version, seconds in ascending order. */
  private readonly byVersion = new Map<string, Second[]>();
  private lastPrunedSecond = 0;

  constructor(
    private readonly retentionSeconds = 3600,
    private readonly now: () => number = Date.now,
  ) {}

  record(version: string, outcome: RequestOutcome): void {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.lastPrunedSecond) this.prune(second);
    let seconds = this.byVersion.get(version);
    if (!seconds) {
      seconds = [];
      this.byVersion.set(version, seconds);
    }
    const bucket = findOrInsert(seconds, second);
    bucket.requests += 1;
    if (outcome.error) bucket.errors += 1;
    bucket.minMs = Math.min(bucket.minMs, outcome.latencyMs);
    bucket.maxMs = Math.max(bucket.maxMs, outcome.latencyMs);
    const index = latencyBucket(outcome.latencyMs);
    bucket.histogram[index] = (bucket.histogram[index] ?? 0) + 1;
  }

  figures(version: string, window: MetricsWindow): VersionMetrics {
    const from = window.from.getTime();
    const to = window.to.getTime();
    const histogram = new Uint32Array(LATENCY_BUCKETS);
    let requests = 0;
    let errors = 0;
    let minMs = Infinity;
    let maxMs = 0;
    for (const bucket of this.byVersion.get(version) ?? []) {
      // A bucket counts when the second it covers overlaps the window.
      if ((bucket.second + 1) * 1000 <= from || bucket.second * 1000 > to) continue;
      requests += bucket.requests;
      errors += bucket.errors;
      minMs = Math.min(minMs, bucket.minMs);
      maxMs = Math.max(maxMs, bucket.maxMs);
      for (let index = 0; index < LATENCY_BUCKETS; index++) histogram[index]! += bucket.histogram[index]!;
    }
    if (requests === 0) return { requests: 0, errors: 0 };
    const quantile = (q: number) => round(latencyQuantile(histogram, requests, q, minMs, maxMs));
    return { requests, errors, latencyMs: { p50: quantile(0.5), p95: quantile(0.95), p99: quantile(0.99) } };
  }

  /** Drops a version's figures (it was deleted). */
  forget(version: string): void {
    this.byVersion.delete(version);
  }

  private prune(nowSecond: number): void {
    this.lastPrunedSecond = nowSecond;
    const oldest = nowSecond - this.retentionSeconds;
    for (const [version, seconds] of this.byVersion) {
      let keep = 0;
      while (keep < seconds.length && seconds[keep]!.second < oldest) keep++;
      if (keep > 0) seconds.splice(0, keep);
      if (seconds.length === 0) this.byVersion.delete(version);
    }
  }
}

/** The clock normally moves forward, so the bucket is the last one or a new one at the end. */
function findOrInsert(seconds: Second[], second: number): Second {
  let index = seconds.length;
  while (index > 0 && seconds[index - 1]!.second > second) index--;
  const previous = seconds[index - 1];
  if (previous?.second === second) return previous;
  const bucket: Second = { second, requests: 0, errors: 0, minMs: Infinity, maxMs: 0, histogram: new Uint32Array(LATENCY_BUCKETS) };
  seconds.splice(index, 0, bucket);
  return bucket;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
