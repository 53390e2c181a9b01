// Small figures helpers shared by the benchmarks.

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The q-quantile (0..1) of already sorted values, nearest rank. */
export const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1], count: sorted.length };
}

export const fmt = (n, digits = 2) => n.toFixed(digits);
export const mark = (ok) => (ok ? "ok" : "MISSED");

/** Wall-clock milliseconds with sub-millisecond precision, comparable with `date +%s%N` / 1e6. */
export const wallMs = () => performance.timeOrigin + performance.now();
