// The outcome of a job the executor could not run at all (start() rejected, the context was
// missing): an infrastructure error, not a step failure.
import type { JobOutcome } from "./executor";

export function errorOutcome(error: unknown): JobOutcome {
  const record = error as { message?: string; code?: string; retryable?: boolean };
  return {
    status: "error",
    exitCode: null,
    failedStep: null,
    steps: [],
    durationMs: 0,
    error: { message: record.message ?? String(error), code: record.code ?? "executor_failed", retryable: record.retryable ?? false },
  };
}
