// Judges one analysis measurement against the release's thresholds. No data is inconclusive,
// never a pass: a canary nobody calls has proven nothing.
import type { AnalysisDef, MetricDef } from "../pipeline/model";
import type { VersionMetrics } from "./deploy-provider";
import type { Measurement } from "./release-state";

export interface MetricReading {
  name: string;
  /** Undefined: the source had no data for the window. */
  value?: number;
  /** Requests behind the value, when the source knows (builtin metrics). */
  requests?: number;
  /** Why there is no value (the source's words). */
  problem?: string;
}

export function judgeMeasurement(analysis: AnalysisDef, readings: MetricReading[], at: number): Measurement {
  const metrics = analysis.metrics.map((metric) => judgeMetric(metric, readings.find((reading) => reading.name === metric.name), analysis.minRequests));
  const outcome = metrics.some((metric) => metric.verdict === "fail") ? "fail" : metrics.some((metric) => metric.verdict === "inconclusive") ? "inconclusive" : "pass";
  return { at, outcome, metrics };
}

function judgeMetric(metric: MetricDef, reading: MetricReading | undefined, minRequests: number): Measurement["metrics"][number] {
  const name = metric.name;
  if (reading === undefined || reading.value === undefined || Number.isNaN(reading.value)) {
    return { name, verdict: "inconclusive", reason: reading?.problem ?? (reading?.requests !== undefined ? `${reading.requests} requests, no figure` : "no data") };
  }
  const value = reading.value;
  if (reading.requests !== undefined && reading.requests < minRequests) {
    return { name, value, verdict: "inconclusive", reason: `only ${reading.requests} requests (min-requests ${minRequests})` };
  }
  const shown = formatValue(metric, value);
  if (metric.max !== undefined && value > metric.max) return { name, value, verdict: "fail", reason: `${shown} > max ${formatValue(metric, metric.max)}` };
  if (metric.min !== undefined && value < metric.min) return { name, value, verdict: "fail", reason: `${shown} < min ${formatValue(metric, metric.min)}` };
  return { name, value, verdict: "pass", reason: shown };
}

/** The builtin metric's value from a version's figures over a window of `windowMs`. */
export function builtinValue(metric: string, figures: VersionMetrics, windowMs: number): MetricReading["value"] {
  switch (metric) {
    case "error-rate":
      return figures.requests === 0 ? undefined : figures.errors / figures.requests;
    case "latency-p50":
      return figures.latencyMs?.p50;
    case "latency-p95":
      return figures.latencyMs?.p95;
    case "latency-p99":
      return figures.latencyMs?.p99;
    case "request-rate":
      return windowMs <= 0 ? undefined : figures.requests / (windowMs / 1000);
    default:
      return undefined;
  }
}

function formatValue(metric: MetricDef, value: number): string {
  // A Prometheus metric named like a builtin one (error-rate, latency-p95) is shown in its unit too.
  const kind = metric.source.kind === "builtin" ? metric.source.metric : metric.name;
  if (kind === "error-rate") return `${round(value * 100)}%`;
  if (kind.startsWith("latency-")) return `${round(value)}ms`;
  if (kind === "request-rate") return `${round(value)}/s`;
  return String(round(value));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
