// Probes and metrics. /healthz answers while the process runs (a liveness probe must not depend on
// the database, or a database outage restarts every replica); /readyz asks the dependencies.
import type { Hono } from "hono";
import type { Metrics } from "./metrics";
import type { Readiness, ReadinessProbe } from "./ports";
import type { AppEnv } from "./app-env";

export function registerHealthRoutes(app: Hono<AppEnv>, readiness: ReadinessProbe, metrics: Metrics, timeoutMs: number): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", async (c) => {
    const state = await checkWithin(readiness, timeoutMs);
    if (state.ready) return c.json({ status: "ready" });
    c.get("log").reason = state.reason;
    return c.json({ status: "not_ready", reason: state.reason }, 503);
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType });
  });
}

/** A probe that hangs (a database that does not answer) is as not-ready as one that fails. */
async function checkWithin(readiness: ReadinessProbe, timeoutMs: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, reason: `readiness check took longer than ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      readiness.check().catch((error: unknown): Readiness => ({ ready: false, reason: `readiness check failed: ${(error as Error)?.message ?? String(error)}` })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
