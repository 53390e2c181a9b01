import { describe, expect, it } from "vitest";
import type { Executor, ExecutorEventListener, JobHandle, JobOutcome, JobRun } from "../executors/executor";
import { parsePipeline, planPipeline, type Plan } from "../pipeline";
import { PipelineRunner, type RunnerEvent } from "./pipeline-runner";

/** An executor whose jobs end as a script says, and that records what ran at the same time. */
class ScriptedExecutor implements Executor {
  readonly name = "scripted";
  readonly started: JobRun[] = [];
  running = 0;
  maxRunning = 0;
  constructor(private readonly outcome: (job: JobRun) => { exitCode: number; delayMs?: number }) {}

  async start(job: JobRun, onEvent: ExecutorEventListener): Promise<JobHandle> {
    this.started.push(job);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const { exitCode, delayMs = 5 } = this.outcome(job);
    let cancel!: () => void;
    const cancelled = new Promise<"cancelled">((resolve) => (cancel = () => resolve("cancelled")));
    const result = Promise.race([new Promise<"done">((resolve) => setTimeout(() => resolve("done"), delayMs)), cancelled]).then((how): JobOutcome => {
      this.running--;
      const status = how === "cancelled" ? "cancelled" : exitCode === 0 ? "success" : "failure";
      const outcome: JobOutcome = { status, exitCode: how === "cancelled" ? null : exitCode, failedStep: status === "failure" ? 0 : null, steps: [], durationMs: delayMs };
      onEvent({ type: "job-finished", outcome, at: Date.now() });
      return outcome;
    });
    return { runId: job.runId, wait: () => result, cancel: async () => cancel(), cleanup: async () => undefined };
  }

  async reap(): Promise<"gone"> {
    return "gone";
  }

  async close(): Promise<void> {}
}

function plan(yaml: string): Plan {
  const parsed = parsePipeline(yaml, ".gust.yml");
  if (!parsed.ok) throw new Error(parsed.diagnostics.map((d) => d.message).join("\n"));
  const planned = planPipeline(parsed.pipeline, { event: "push", ref: "refs/heads/main", branch: "main", sha: "abc" });
  if (!planned.ok) throw new Error(planned.problems.map((p) => p.message).join("\n"));
  return planned.plan;
}

async function run(yaml: string, executor: ScriptedExecutor, parallel = 4) {
  const events: RunnerEvent[] = [];
  const runner = new PipelineRunner({ executor, plan: plan(yaml), pipelineRunId: "run1", workspace: { kind: "directory", path: "/tmp" }, secrets: { TOKEN: "t", OTHER: "o" }, parallel, onEvent: (e) => events.push(e) });
  const result = await runner.run();
  const status = Object.fromEntries(result.jobs.map((job) => [job.name, job.status]));
  return { result, status, events, runner };
}

describe("PipelineRunner", () => {
  it("runs jobs after their needs and reports success", async () => {
    const executor = new ScriptedExecutor(() => ({ exitCode: 0 }));
    const { result, status } = await run("jobs:\n  a: {steps: [{run: x}]}\n  b: {needs: a, steps: [{run: x}]}\n  c: {needs: [a, b], steps: [{run: x}]}\n", executor);
    expect(result.status).toBe("success");
    expect(executor.started.map((job) => job.jobKey)).toEqual(["a", "b", "c"]);
    expect(status).toEqual({ a: "success", b: "success", c: "success" });
  });

  it("skips dependents of a failed job, but runs failure() and always() jobs", async () => {
    const executor = new ScriptedExecutor((job) => ({ exitCode: job.jobKey === "build" ? 2 : 0 }));
    const { result, status } = await run(
      `jobs:
  build: {steps: [{run: x}]}
  deploy: {needs: build, steps: [{run: x}]}
  notify: {needs: build, if: failure(), steps: [{run: x}]}
  cleanup: {needs: [build], if: always(), steps: [{run: x}]}
  report: {needs: build, if: "needs.build.result == 'failure'", steps: [{run: x}]}
`,
      executor,
    );
    expect(result.status).toBe("failure");
    expect(status).toEqual({ build: "failure", deploy: "skipped", notify: "success", cleanup: "success", report: "skipped" });
    expect(result.jobs.find((job) => job.name === "build")!.detail).toBe("step 'x' exited with 2");
  });

  it("respects --parallel and matrix max-parallel", async () => {
    const executor = new ScriptedExecutor(() => ({ exitCode: 0, delayMs: 20 }));
    await run("jobs:\n  t:\n    matrix: {n: [1, 2, 3, 4, 5, 6], max-parallel: 2}\n    steps: [{run: x}]\n", executor, 8);
    expect(executor.maxRunning).toBe(2);
    const wide = new ScriptedExecutor(() => ({ exitCode: 0, delayMs: 20 }));
    await run("jobs:\n  t:\n    matrix: {n: [1, 2, 3, 4, 5, 6]}\n    steps: [{run: x}]\n", wide, 3);
    expect(wide.maxRunning).toBe(3);
  });

  it("retries only on the listed exit codes, with a new run id per attempt", async () => {
    let calls = 0;
    const executor = new ScriptedExecutor((job) => (job.jobKey === "flaky" ? { exitCode: ++calls < 3 ? 137 : 0 } : { exitCode: 1 }));
    const { status, result, events } = await run("jobs:\n  flaky: {retry: {count: 2, exit-codes: [137]}, steps: [{run: x}]}\n  firm: {retry: {count: 2, exit-codes: [137]}, steps: [{run: x}]}\n", executor);
    expect(status).toEqual({ flaky: "success", firm: "failure" });
    expect(result.jobs.find((job) => job.name === "flaky")!.attempts).toBe(3);
    expect(executor.started.filter((job) => job.jobKey === "flaky").map((job) => job.runId)).toEqual(["run1-flaky-1", "run1-flaky-2", "run1-flaky-3"]);
    expect(events.filter((event) => event.type === "job-retrying")).toHaveLength(2);
  });

  it("fail-fast cancels the other matrix jobs", async () => {
    const executor = new ScriptedExecutor((job) => (job.jobKey.endsWith("1") ? { exitCode: 1, delayMs: 5 } : { exitCode: 0, delayMs: 2_000 }));
    const { status } = await run("jobs:\n  t:\n    matrix: {n: [1, 2, 3], fail-fast: true}\n    steps: [{run: x}]\n", executor);
    expect(status).toEqual({ "t (n: 1)": "failure", "t (n: 2)": "cancelled", "t (n: 3)": "cancelled" });
  });

  it("cancel stops running jobs and does not start waiting ones", async () => {
    const executor = new ScriptedExecutor(() => ({ exitCode: 0, delayMs: 5_000 }));
    const events: RunnerEvent[] = [];
    const runner = new PipelineRunner({ executor, plan: plan("jobs:\n  a: {steps: [{run: x}]}\n  b: {needs: a, if: always(), steps: [{run: x}]}\n"), pipelineRunId: "r", workspace: { kind: "directory", path: "/tmp" }, secrets: {}, parallel: 2, onEvent: (e) => events.push(e) });
    const running = runner.run();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.cancel();
    await runner.cancel();
    const result = await running;
    expect(result.status).toBe("cancelled");
    expect(result.jobs.map((job) => job.status)).toEqual(["cancelled", "cancelled"]);
    expect(executor.started).toHaveLength(1);
  });

  it("gives a job only the secrets it names, and an executor failure becomes an error", async () => {
    const executor = new ScriptedExecutor(() => ({ exitCode: 0 }));
    await run("jobs:\n  a: {secrets: [TOKEN, MISSING], steps: [{run: x}]}\n", executor);
    expect(executor.started[0]!.secrets).toEqual({ TOKEN: "t" });
    const broken: Executor = { name: "broken", start: () => Promise.reject(Object.assign(new Error("no capacity"), { code: "quota", retryable: true })), reap: async () => "gone", close: async () => undefined };
    const runner = new PipelineRunner({ executor: broken, plan: plan("jobs:\n  a: {steps: [{run: x}]}\n"), pipelineRunId: "r", workspace: { kind: "directory", path: "/tmp" }, secrets: {}, parallel: 1, onEvent: () => undefined });
    const result = await runner.run();
    expect(result.jobs[0]).toMatchObject({ status: "error", detail: "executor error: no capacity" });
  });
});
