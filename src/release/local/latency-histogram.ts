// Fixed log-scale latency buckets. Every second's figures use the same bounds, so summing buckets
// over a window is exact and a percentile costs one walk over a few dozen counters. Bucket i holds
// latencies in (BASE·2^((i-1)/STEPS), BASE·2^(i/STEPS)]: about 19% wide, from 50 µs to 105 s (the
// last bucket also takes everything above).
const BASE_MS = 0.05;
const STEPS_PER_DOUBLING = 4;
export const LATENCY_BUCKETS = 21 * STEPS_PER_DOUBLING + 1;

export function latencyBucket(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  const index = Math.ceil(Math.log2(ms / BASE_MS) * STEPS_PER_DOUBLING);
  return Math.min(index, LATENCY_BUCKETS - 1);
}

function lowerBound(index: number): number {
  return index === 0 ? 0 : BASE_MS * 2 ** ((index - 1) / STEPS_PER_DOUBLING);
}

function upperBound(index: number): number {
  return BASE_MS * 2 ** (index / STEPS_PER_DOUBLING);
}

/**
 * The q-quantile (0 < q ≤ 1, nearest rank) of `total` latencies counted in `counts`: the geometric
 * middle of the bucket holding that rank, kept within the smallest and largest latency seen.
 */
export function latencyQuantile(counts: ArrayLike<number>, total: number, q: number, minMs: number, maxMs: number): number {
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let index = 0; index < counts.length; index++) {
    seen += counts[index] ?? 0;
    if (seen >= rank) {
      const low = lowerBound(index);
      const middle = low === 0 ? upperBound(index) / 2 : Math.sqrt(low * upperBound(index));
      return Math.min(maxMs, Math.max(minMs, middle));
    }
  }
  return maxMs;
}
