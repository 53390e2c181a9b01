// Retrying pipelines: a whole new pipeline from the stored plan, or the failed jobs (and those they
// held back) of the same pipeline, run again through the real queue to the end.
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { JOBS_CHANNEL } from "../../src/store/job-progress";
import { JobQueue } from "../../src/store/job-queue";
import { PipelineRetry, planFailedRetry, type RetryJobState } from "../../src/store/pipeline-retry";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { jobs } from "../../src/store/schema";
import { StepsStore } from "../../src/store/steps-store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planOf, runJobs, statuses } from "./fixtures";

const LEASE_MS = 60_000;

/** lint and a matrix of tests; build after both; deploy after build; report only when something failed. */
const PIPELINE = [
  "concurrency: ci-main",
  "on: {manual: {inputs: {level: {type: string, default: low}}}}",
  "jobs:",
  "  lint: {steps: [{run: lint}]}",
  "  test:",
  "    matrix: {node: [20, 24]}",
  "    steps: [{run: test}]",
  "  build: {needs: [lint, test], steps: [{run: build}]}",
  "  deploy: {needs: build, steps: [{run: deploy}]}",
  "  report: {needs: test, if: failure(), steps: [{run: report}]}",
];

function state(key: string, status: string, needs: string[] = [], plannedSkip = false): RetryJobState {
  return { id: key.length, key, status, needs, plannedSkip };
}

describe("planFailedRetry", () => {
  it("resets failed jobs and what they held back, transitively, and nothing else", () => {
    const resets = planFailedRetry([
      state("lint", "success"),
      state("test", "failure"),
      state("slow", "timed_out"),
      state("flaky", "error"),
      state("build", "skipped", ["lint", "test"]),
      state("deploy", "skipped", ["build"]),
      state("report", "success", ["test"]),
      state("docs", "skipped", ["lint"]),
      state("pages", "skipped", ["test"], true),
      state("notify", "cancelled", ["deploy"]),
    ]);
    expect(resets.map((reset) => [reset.key, reset.status])).toEqual([
      ["test", "queued"],
      ["slow", "queued"],
      ["flaky", "queued"],
      ["build", "waiting"],
      ["deploy", "waiting"],
      ["notify", "waiting"],
    ]);
  });

  it("resets nothing when nothing failed", () => {
    expect(planFailedRetry([state("a", "success"), state("b", "skipped", ["a"]), state("c", "skipped", [], true)])).toEqual([]);
  });
});

describe.each(DATABASE_KINDS)("pipeline retry (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const queue = () => new JobQueue(test.database);
  const pipelinesStore = () => new PipelinesStore(test.database);
  const retries = () => new PipelineRetry(test.database);
  beforeEach(() => test.reset());

  async function create(lines: string[], options: { fromFork?: boolean } = {}) {
    const repository = await createRepository(test.database);
    const inputs = lines === PIPELINE ? { inputs: { level: "high" } } : {};
    const plan = planOf(lines, { event: "manual", ref: "refs/heads/main", sha: "c0ffee", branch: "main", ...inputs });
    const created = await pipelinesStore().createPipeline({ repositoryId: repository.id, plan, ...options });
    return { repositoryId: repository.id, id: created.id };
  }

  /** Runs the pipeline once: lint passes, test-node-20 fails, so build and deploy are skipped and report runs. */
  async function failedRun(): Promise<number> {
    const { id } = await create(PIPELINE);
    await runJobs(queue(), "r", { lint: "success", "test-node-20": { status: "failure", exitCode: 3, failedStep: 0, detail: "step 'run' exited with 3" }, "test-node-24": "success" });
    await runJobs(queue(), "r", { report: "success" });
    expect(await statuses(test.database, id)).toEqual({
      lint: "success",
      "test-node-20": "failure",
      "test-node-24": "success",
      build: "skipped",
      deploy: "skipped",
      report: "success",
    });
    expect((await pipelinesStore().getPipeline(id))!.status).toBe("failure");
    return id;
  }

  /** Leases and finishes every queued job with success until nothing is queued; returns the keys run, in order. */
  async function runToEnd(owner = "r2"): Promise<Array<{ key: string; attempt: number }>> {
    const ran: Array<{ key: string; attempt: number }> = [];
    for (;;) {
      const leased = await queue().leaseJobs({ owner, limit: 100, leaseMs: LEASE_MS });
      if (leased.length === 0) return ran;
      for (const job of leased) {
        ran.push({ key: job.key, attempt: job.attempt });
        const result = await queue().finishJob(job.id, owner, { status: "success", exitCode: 0 });
        expect(result.accepted).toBe(true);
      }
    }
  }

  it("whole: creates the next pipeline from the same plan at the same commit, and leaves the old one alone", async () => {
    const id = await failedRun();
    const before = await pipelinesStore().getPipeline(id);
    const result = await retries().retry(id);
    expect(result).toMatchObject({ outcome: "retried", pipeline: { number: 2, status: "pending" } });
    if (result.outcome !== "retried") throw new Error("not retried");
    expect(result.pipeline.id).not.toBe(id);

    const retried = (await pipelinesStore().getPipeline(result.pipeline.id))!;
    const original = (await pipelinesStore().getPipeline(id))!;
    for (const column of ["repositoryId", "name", "file", "event", "ref", "branch", "tag", "sha", "plan", "inputs", "fromFork", "concurrencyGroup"] as const) {
      expect(retried[column], column).toEqual(original[column]);
    }
    expect(retried.inputs).toEqual({ level: "high" });
    expect(retried.concurrencyGroup).toBe("ci-main");
    expect(retried.jobs.map((job) => [job.key, job.status, job.attempt])).toEqual([
      ["lint", "queued", 0],
      ["test-node-20", "queued", 0],
      ["test-node-24", "queued", 0],
      ["build", "waiting", 0],
      ["report", "waiting", 0],
      ["deploy", "waiting", 0],
    ]);
    expect(original).toEqual(before);

    const ran = await runToEnd();
    expect(ran.map((job) => job.key).sort()).toEqual(["build", "deploy", "lint", "test-node-20", "test-node-24"]);
    expect((await pipelinesStore().getPipeline(result.pipeline.id))!.status).toBe("success");
    expect(await statuses(test.database, result.pipeline.id)).toMatchObject({ report: "skipped" });
  });

  it("whole: keeps a pull request from a fork a fork's", async () => {
    const { id } = await create(PIPELINE, { fromFork: true });
    const result = await retries().retry(id);
    if (result.outcome !== "retried") throw new Error(JSON.stringify(result));
    expect((await pipelinesStore().getPipeline(result.pipeline.id))!.fromFork).toBe(true);
  });

  it("whole: refuses a pipeline without a plan, or one that never triggered; unknown ids are not found", async () => {
    const repository = await createRepository(test.database);
    const broken = await pipelinesStore().createPipeline({ repositoryId: repository.id, error: "1:1 jobs: required", file: ".gust.yml", event: { event: "push", ref: "refs/heads/main", sha: "abc", branch: "main" } });
    expect(await retries().retry(broken.id)).toEqual({ outcome: "conflict", reason: expect.stringMatching(/no plan to run again/) });
    const untriggered = await pipelinesStore().createPipeline({
      repositoryId: repository.id,
      plan: planOf(["on: {push: {branches: [release]}}", "jobs:", "  a: {steps: [{run: a}]}"], { event: "push", ref: "refs/heads/main", sha: "abc", branch: "main" }),
    });
    expect(await retries().retry(untriggered.id)).toEqual({ outcome: "conflict", reason: expect.stringMatching(/was not triggered/) });
    expect(await retries().retry(987_654)).toEqual({ outcome: "not_found" });
    expect(await retries().retry(987_654, { failedOnly: true })).toEqual({ outcome: "not_found" });
  });

  it("failed only: resets the failed job and the jobs it held back, runs them as new attempts, and the pipeline succeeds", async () => {
    const id = await failedRun();
    const failedJob = (await pipelinesStore().getPipeline(id))!.jobs.find((job) => job.key === "test-node-20")!;
    const notified: string[] = [];
    const unlisten = await test.database.listen(JOBS_CHANNEL, (payload) => notified.push(payload));

    const result = await retries().retry(id, { failedOnly: true });
    expect(result).toEqual({ outcome: "retried", pipeline: { id, number: 1, status: "running" } });
    expect(await statuses(test.database, id)).toEqual({
      lint: "success",
      "test-node-20": "queued",
      "test-node-24": "success",
      build: "waiting",
      deploy: "waiting",
      report: "success",
    });
    const pipeline = (await pipelinesStore().getPipeline(id))!;
    expect(pipeline).toMatchObject({ status: "running", finishedAt: null, cancelRequested: false });
    const reset = pipeline.jobs.find((job) => job.key === "test-node-20")!;
    expect(reset).toMatchObject({ attempt: 1, exitCode: null, failedStep: null, detail: null, finishedAt: null, leaseOwner: null, runId: null });
    expect(reset.queuedAt).toBeInstanceOf(Date);
    expect(pipeline.jobs.find((job) => job.key === "build")).toMatchObject({ detail: null, finishedAt: null, queuedAt: null });

    const deadline = Date.now() + 5_000;
    while (!notified.includes(String(id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(notified).toContain(String(id));
    await unlisten();

    const [leased] = await queue().leaseJobs({ owner: "r2", limit: 10, leaseMs: LEASE_MS });
    expect(leased).toMatchObject({ id: failedJob.id, key: "test-node-20", attempt: 2, runId: `${failedJob.id}-2` });
    // The new attempt's steps are rows of their own; the old attempt's stay.
    const steps = new StepsStore(test.database);
    await steps.recordStep({ jobId: failedJob.id, attempt: 1, index: 0, name: "run", status: "failure", exitCode: 3 });
    await steps.recordStep({ jobId: failedJob.id, attempt: 2, index: 0, name: "run", status: "success", exitCode: 0 });
    expect((await pipelinesStore().getJob(failedJob.id))!.steps.map((step) => [step.attempt, step.status])).toEqual([
      [1, "failure"],
      [2, "success"],
    ]);
    expect(await queue().finishJob(leased!.id, "r2", { status: "success", exitCode: 0 })).toMatchObject({ accepted: true, decided: [{ key: "build", status: "queued" }] });

    const ran = await runToEnd();
    expect(ran).toEqual([
      { key: "build", attempt: 1 },
      { key: "deploy", attempt: 1 },
    ]);
    const finished = (await pipelinesStore().getPipeline(id))!;
    expect(finished.status).toBe("success");
    expect(finished.finishedAt).toBeInstanceOf(Date);
    expect(await statuses(test.database, id)).toEqual({
      lint: "success",
      "test-node-20": "success",
      "test-node-24": "success",
      build: "success",
      deploy: "success",
      report: "success",
    });
  });

  it("failed only: a failure again fails the pipeline again, and it can be retried once more", async () => {
    const id = await failedRun();
    await retries().retry(id, { failedOnly: true });
    await runJobs(queue(), "r", { "test-node-20": { status: "timed_out" } });
    expect((await pipelinesStore().getPipeline(id))!.status).toBe("failure");
    expect(await statuses(test.database, id)).toMatchObject({ "test-node-20": "timed_out", build: "skipped", deploy: "skipped" });
    expect(await retries().retry(id, { failedOnly: true })).toMatchObject({ outcome: "retried" });
    const [leased] = await queue().leaseJobs({ owner: "r", limit: 10, leaseMs: LEASE_MS });
    expect(leased).toMatchObject({ key: "test-node-20", attempt: 3 });
  });

  it("failed only: refuses while the pipeline runs, and when nothing failed", async () => {
    const { id } = await create(PIPELINE);
    expect(await retries().retry(id, { failedOnly: true })).toEqual({ outcome: "conflict", reason: expect.stringMatching(/still pending/) });
    await runJobs(queue(), "r", { lint: "success", "test-node-20": "success", "test-node-24": "success" });
    expect(await retries().retry(id, { failedOnly: true })).toEqual({ outcome: "conflict", reason: expect.stringMatching(/still running/) });
    await runToEnd();
    expect((await pipelinesStore().getPipeline(id))!.status).toBe("success");
    expect(await retries().retry(id, { failedOnly: true })).toEqual({ outcome: "conflict", reason: expect.stringMatching(/no failed, timed-out, cancelled or errored job/) });
    expect(await statuses(test.database, id)).toMatchObject({ lint: "success", build: "success", report: "skipped" });
  });

  it("failed only: two retries at once reset the jobs once", async () => {
    const id = await failedRun();
    const elsewhere = new PipelineRetry(await test.connect());
    const results = await Promise.all([retries().retry(id, { failedOnly: true }), elsewhere.retry(id, { failedOnly: true })]);
    expect(results.map((result) => result.outcome).sort()).toEqual(["conflict", "retried"]);
    const leased = await queue().leaseJobs({ owner: "r", limit: 10, leaseMs: LEASE_MS });
    expect(leased.map((job) => [job.key, job.attempt])).toEqual([["test-node-20", 2]]);
  });

  it("failed only: a cancelled pipeline runs its cancelled jobs again, and a failure() job stays skipped", async () => {
    const { id } = await create([
      "on: manual",
      "jobs:",
      "  long: {steps: [{run: sleep}]}",
      "  other: {steps: [{run: other}]}",
      "  after: {needs: long, steps: [{run: after}]}",
      "  on-failure: {needs: after, if: failure(), steps: [{run: notify}]}",
    ]);
    const leased = await queue().leaseJobs({ owner: "r", limit: 1, leaseMs: LEASE_MS });
    expect(leased.map((job) => job.key)).toEqual(["long"]);
    await queue().cancelPipeline(id);
    await queue().finishJob(leased[0]!.id, "r", { status: "cancelled" });
    expect(await statuses(test.database, id)).toEqual({ long: "cancelled", other: "cancelled", after: "cancelled", "on-failure": "cancelled" });
    expect((await pipelinesStore().getPipeline(id))!).toMatchObject({ status: "cancelled", cancelRequested: true });

    expect(await retries().retry(id, { failedOnly: true })).toEqual({ outcome: "retried", pipeline: { id, number: 1, status: "running" } });
    expect(await statuses(test.database, id)).toEqual({ long: "queued", other: "queued", after: "waiting", "on-failure": "waiting" });
    const [row] = await test.database.db.select({ cancelRequested: jobs.cancelRequested }).from(jobs).where(eq(jobs.id, leased[0]!.id));
    expect(row!.cancelRequested).toBe(false);

    const ran = await runToEnd();
    expect(ran.map((job) => job.key)).toEqual(["long", "other", "after"]);
    expect(await statuses(test.database, id)).toEqual({ long: "success", other: "success", after: "success", "on-failure": "skipped" });
    expect((await pipelinesStore().getPipeline(id))!.status).toBe("success");
  });
});
