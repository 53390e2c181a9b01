// Run-time decisions: one result per matrix job id, and whether a job runs given its needs' results.
import { describe, expect, it } from "vitest";
import { aggregateResults, decideJob, type JobResult } from "./decide";
import type { JobCondition } from "./plan-types";

const DEFAULT: JobCondition = { usesStatus: false };
const variables = { branch: "main", event: "push", env: {}, inputs: {}, matrix: {} };

function decide(condition: JobCondition, needs: Record<string, JobResult> = {}, pipelineCancelled = false) {
  return decideJob({ condition, variables, needs, pipelineCancelled });
}

const when = (source: string, usesStatus = /\b(success|failure|always|cancelled)\(/.test(source)): JobCondition => ({ source, usesStatus });

describe("aggregateResults", () => {
  it.each<[JobResult[], JobResult]>([
    [["success", "success"], "success"],
    [["success", "failure", "cancelled"], "failure"],
    [["cancelled", "success"], "cancelled"],
    [["skipped", "cancelled"], "cancelled"],
    [["skipped", "skipped"], "skipped"],
    [["skipped"], "skipped"],
    [["success"], "success"],
    [[], "success"],
  ])("%j → %s", (results, expected) => {
    expect(aggregateResults(results)).toBe(expected);
  });

  it("counts combinations skipped by their own if as not holding the others back", () => {
    expect(aggregateResults(["success", "skipped"])).toBe("success");
    expect(aggregateResults(["skipped", "failure"])).toBe("failure");
  });
});

describe("decideJob without a status function", () => {
  it("runs when there is no condition and every need succeeded", () => {
    expect(decide(DEFAULT, { build: "success", lint: "success" })).toEqual({ run: true });
  });

  it("runs a job without needs", () => {
    expect(decide(DEFAULT)).toEqual({ run: true });
  });

  it("skips when a need failed, naming it", () => {
    expect(decide(DEFAULT, { build: "failure", lint: "success" })).toEqual({ run: false, result: "skipped", reason: "needs 'build' failed" });
  });

  it("skips when a need was cancelled or skipped", () => {
    expect(decide(DEFAULT, { build: "cancelled" })).toEqual({ run: false, result: "skipped", reason: "needs 'build' cancelled" });
    expect(decide(DEFAULT, { a: "skipped", b: "skipped" })).toEqual({ run: false, result: "skipped", reason: "needs 'a', 'b' skipped" });
  });

  it("reports failure before cancellation and skips", () => {
    expect(decide(DEFAULT, { a: "skipped", b: "cancelled", c: "failure" })).toMatchObject({ reason: "needs 'c' failed" });
  });

  it("is cancelled when the pipeline is cancelled", () => {
    expect(decide(DEFAULT, { build: "success" }, true)).toEqual({ run: false, result: "cancelled", reason: "the pipeline was cancelled" });
  });

  it("evaluates the condition once the needs succeeded", () => {
    expect(decide(when("branch == 'main'"), { build: "success" })).toEqual({ run: true });
    expect(decide(when("branch == 'dev'"), { build: "success" })).toEqual({ run: false, result: "skipped", reason: "if: branch == 'dev' is false" });
  });

  it("does not evaluate the condition when a need failed (implicit success())", () => {
    expect(decide(when("needs.build.result == 'failure'"), { build: "failure" })).toMatchObject({ run: false, reason: "needs 'build' failed" });
  });

  it("reads needs.<job>.result", () => {
    expect(decide(when("needs.build.result == 'success'"), { build: "success" })).toEqual({ run: true });
  });

  it("treats a condition of false as skipped", () => {
    expect(decide({ source: "false", usesStatus: false })).toEqual({ run: false, result: "skipped", reason: "if: false is false" });
  });

  it("skips with the error when the condition does not compile", () => {
    const decision = decide({ source: "branch ==", usesStatus: false });
    expect(decision.run).toBe(false);
    if (!decision.run) expect(decision.reason).toMatch(/^if: /);
  });
});

describe("decideJob with status functions", () => {
  it("always() runs after failure, cancellation and skips", () => {
    expect(decide(when("always()"), { build: "failure" })).toEqual({ run: true });
    expect(decide(when("always()"), { build: "cancelled" })).toEqual({ run: true });
    expect(decide(when("always()"), { build: "skipped" })).toEqual({ run: true });
    expect(decide(when("always()"), {}, true)).toEqual({ run: true });
  });

  it("failure() runs only when a need failed", () => {
    expect(decide(when("failure()"), { build: "failure", lint: "success" })).toEqual({ run: true });
    expect(decide(when("failure()"), { build: "success" })).toEqual({ run: false, result: "skipped", reason: "if: failure() is false" });
    expect(decide(when("failure()"), { build: "skipped" })).toMatchObject({ run: false, result: "skipped" });
  });

  it("success() is false after a failure", () => {
    expect(decide(when("success()"), { build: "failure" })).toEqual({ run: false, result: "skipped", reason: "if: success() is false" });
    expect(decide(when("success()"), { build: "success" })).toEqual({ run: true });
  });

  it("cancelled() runs when a need was cancelled or the pipeline was", () => {
    expect(decide(when("cancelled()"), { build: "cancelled" })).toEqual({ run: true });
    expect(decide(when("cancelled()"), {}, true)).toEqual({ run: true });
    expect(decide(when("cancelled()"), { build: "success" })).toMatchObject({ run: false, result: "skipped" });
  });

  it("reports cancellation when the pipeline was cancelled and the condition is false", () => {
    expect(decide(when("failure()"), { build: "success" }, true)).toEqual({ run: false, result: "cancelled", reason: "the pipeline was cancelled" });
  });

  it("combines a status function with needs results", () => {
    const condition = when("always() && needs.build.result == 'failure'");
    expect(decide(condition, { build: "failure" })).toEqual({ run: true });
    expect(decide(condition, { build: "success" })).toMatchObject({ run: false });
  });

  it("runs after skipped needs with failure() || success() only when not failed", () => {
    const condition = when("success() || failure()");
    expect(decide(condition, { build: "skipped" })).toEqual({ run: true });
    expect(decide(condition, { build: "failure" })).toEqual({ run: true });
    expect(decide(condition, { build: "cancelled" })).toMatchObject({ run: false });
  });
});
