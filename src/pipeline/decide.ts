// Run-time decisions the planner could not make: does a job run, given how its needs ended?
// Pure; the local runner and the scheduler both use it so a pipeline behaves the same everywhere.
import { compileExpression, evaluate, isTruthy, type Value } from "./expressions";
import type { JobCondition } from "./plan-types";

export type JobResult = "success" | "failure" | "cancelled" | "skipped";

/**
 * One result for a job id whose matrix expanded into several jobs. Combinations skipped by their own
 * `if` (`matrix.os == 'linux'`) do not hold back the rest: success when some ran and none failed or
 * was cancelled; skipped only when none ran. The planner's skip propagation follows the same rule.
 */
export function aggregateResults(results: JobResult[]): JobResult {
  if (results.includes("failure")) return "failure";
  if (results.includes("cancelled")) return "cancelled";
  if (results.length > 0 && results.every((result) => result === "skipped")) return "skipped";
  return "success";
}

export type Decision = { run: true } | { run: false; result: "skipped" | "cancelled"; reason: string };

export interface DecideInput {
  condition: JobCondition;
  variables: Record<string, Value>;
  /** Aggregated result per needed job id. */
  needs: Record<string, JobResult>;
  pipelineCancelled: boolean;
}

export function decideJob(input: DecideInput): Decision {
  const needs = Object.entries(input.needs);
  const failed = needs.filter(([, result]) => result === "failure").map(([id]) => id);
  const cancelled = needs.filter(([, result]) => result === "cancelled").map(([id]) => id);
  const skipped = needs.filter(([, result]) => result === "skipped").map(([id]) => id);
  const context = {
    variables: { ...input.variables, needs: Object.fromEntries(needs.map(([id, result]) => [id, { result }])) },
    status: { failed: failed.length > 0, cancelled: input.pipelineCancelled || cancelled.length > 0 },
  };

  if (!input.condition.usesStatus) {
    // Without a status function the condition means `success() && (condition)`.
    if (input.pipelineCancelled) return { run: false, result: "cancelled", reason: "the pipeline was cancelled" };
    if (failed.length > 0) return { run: false, result: "skipped", reason: `needs ${quoteList(failed)} failed` };
    if (cancelled.length > 0) return { run: false, result: "skipped", reason: `needs ${quoteList(cancelled)} cancelled` };
    if (skipped.length > 0) return { run: false, result: "skipped", reason: `needs ${quoteList(skipped)} skipped` };
  }
  if (input.condition.source === undefined) return { run: true };
  const compiled = compileExpression(input.condition.source);
  if (!compiled.ok) return { run: false, result: "skipped", reason: `if: ${compiled.errors[0]!.message}` };
  if (isTruthy(evaluate(compiled.expr, context))) return { run: true };
  if (input.pipelineCancelled) return { run: false, result: "cancelled", reason: "the pipeline was cancelled" };
  return { run: false, result: "skipped", reason: `if: ${input.condition.source} is false` };
}

function quoteList(ids: string[]): string {
  return ids.map((id) => `'${id}'`).join(", ");
}
