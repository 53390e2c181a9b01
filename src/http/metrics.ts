// One Prometheus registry per process (not prom-client's global one, so tests and several apps in
// one process never collide), with the metrics Gust's modules report. main/ hands the named metrics
// to the scheduler and executors; /metrics serves everything registered here.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export type WebhookResult =
  | "created"
  | "duplicate"
  | "ignored"
  | "pong"
  | "unauthorized"
  | "bad_request"
  | "too_large"
  | "unavailable"
  | "error";

export interface Metrics {
  registry: Registry;
  /** Webhook deliveries by forge and outcome. */
  webhooks: Counter<"forge" | "result">;
  /** Time from request to answer of a webhook, in seconds. */
  webhookDuration: Histogram<"forge" | "result">;
  /** Jobs runnable and waiting for a lease; the scheduler sets it. */
  queueDepth: Gauge;
  /** Time a job ran on its executor, in seconds, by executor and result. */
  jobDuration: Histogram<"executor" | "result">;
  /** Failures of the executor itself (not of the job's steps), by executor and error code. */
  executorErrors: Counter<"executor" | "code">;
  /** Kubernetes API requests of the Kubernetes executor, by kind (create-pod, log, watch…): no polling means flat per job. */
  kubernetesRequests: Counter<"kind">;
}

export interface CreateMetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC); default true. */
  defaultMetrics?: boolean;
  /** Read at each scrape for gust_queue_depth (the queue lives in the database, shared by replicas). */
  queueDepth?: () => Promise<number>;
}

export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "gust_" });
  const registers = [registry];
  return {
    registry,
    webhooks: new Counter({
      name: "gust_webhooks_total",
      help: "Webhook deliveries received, by forge and result.",
      labelNames: ["forge", "result"] as const,
      registers,
    }),
    webhookDuration: new Histogram({
      name: "gust_webhook_duration_seconds",
      help: "Time to answer a webhook delivery, in seconds.",
      labelNames: ["forge", "result"] as const,
      // Around the 25 ms p99 target, where the detail matters.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    queueDepth: new Gauge({
      name: "gust_queue_depth",
      help: "Jobs runnable and waiting for a lease.",
      registers,
      ...(options.queueDepth ? { collect: collectFrom(options.queueDepth) } : {}),
    }),
    jobDuration: new Histogram({
      name: "gust_job_duration_seconds",
      help: "Time a job ran on its executor, in seconds.",
      labelNames: ["executor", "result"] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers,
    }),
    executorErrors: new Counter({
      name: "gust_executor_errors_total",
      help: "Executor failures (not failing steps), by executor and error code.",
      labelNames: ["executor", "code"] as const,
      registers,
    }),
    kubernetesRequests: new Counter({
      name: "gust_kubernetes_api_requests_total",
      help: "Kubernetes API requests made by the Kubernetes executor, by kind.",
      labelNames: ["kind"] as const,
      registers,
    }),
  };
}

/** A Gauge's collect(): sets the value read at scrape time; a failed read leaves the last one. */
function collectFrom(read: () => Promise<number>) {
  return async function (this: Gauge): Promise<void> {
    try {
      this.set(await read());
    } catch {
      // The scrape still answers; readiness reports a database that is down.
    }
  };
}
