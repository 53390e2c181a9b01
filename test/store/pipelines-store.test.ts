// Creating pipelines (one transaction: pipeline, jobs, NOTIFY), numbering under concurrency, broken
// pipeline files, and the read side the API uses.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { JOBS_CHANNEL } from "../../src/store/job-progress";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { pipelines } from "../../src/store/schema";
import { StepsStore } from "../../src/store/steps-store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { PUSH_MAIN, createRepository, planOf, planWith, plannedJob, statuses } from "./fixtures";

const PIPELINE = [
  "jobs:",
  "  lint:",
  "    steps: [{run: make lint}]",
  "  test:",
  "    matrix: {node: [20, 24]}",
  "    steps: [{run: make test}]",
  "  build:",
  "    needs: [lint, test]",
  "    steps: [{run: make build}]",
  "  docs:",
  "    if: branch == 'gh-pages'",
  "    steps: [{run: make docs}]",
];

describe.each(DATABASE_KINDS)("pipelines store (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const store = () => new PipelinesStore(test.database);

  it("creates the pipeline and its jobs from a plan and wakes the dispatchers", async () => {
    const repository = await createRepository(test.database);
    const notified: string[] = [];
    const stop = await test.database.listen(JOBS_CHANNEL, (payload) => notified.push(payload));
    const plan = planOf(PIPELINE);
    const created = await store().createPipeline({ repositoryId: repository.id, plan });
    expect(created).toMatchObject({ number: 1, status: "pending", queued: 3 });

    expect(await statuses(test.database, created.id)).toEqual({
      lint: "queued",
      "test-node-20": "queued",
      "test-node-24": "queued",
      build: "waiting",
      docs: "skipped",
    });
    const detail = await store().getPipeline(created.id);
    expect(detail).toMatchObject({ repositoryId: repository.id, number: 1, event: "push", ref: "refs/heads/main", branch: "main", sha: "abc123", status: "pending", fromFork: false });
    expect(detail!.plan).toEqual(JSON.parse(JSON.stringify(plan)));
    const docs = detail!.jobs.find((job) => job.key === "docs")!;
    expect(docs.detail).toMatch(/branch == 'gh-pages'/);
    expect(docs.finishedAt).toBeInstanceOf(Date);
    const build = detail!.jobs.find((job) => job.key === "build")!;
    expect(build).toMatchObject({ name: "build", needs: ["lint", "test-node-20", "test-node-24"], attempt: 0 });
    expect(build).not.toHaveProperty("spec");
    expect(detail!.jobs.find((job) => job.key === "lint")!.queuedAt).toBeInstanceOf(Date);

    const deadline = Date.now() + 5_000;
    while (!notified.includes(String(created.id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(notified).toContain(String(created.id));
    await stop();
  });

  it("stores a pipeline whose file is broken as an error with its message and no jobs", async () => {
    const repository = await createRepository(test.database);
    const created = await store().createPipeline({
      repositoryId: repository.id,
      error: ".gust.yml:3:5 jobs.build.steps: expected a list",
      file: ".gust.yml",
      event: PUSH_MAIN,
    });
    expect(created).toMatchObject({ number: 1, status: "error", queued: 0 });
    const detail = await store().getPipeline(created.id);
    expect(detail).toMatchObject({ status: "error", error: ".gust.yml:3:5 jobs.build.steps: expected a list", name: ".gust.yml", plan: null, jobs: [] });
    expect(detail!.finishedAt).toBeInstanceOf(Date);
  });

  it("keeps a plan that does not trigger as skipped, with no jobs", async () => {
    const repository = await createRepository(test.database);
    const plan = planOf(["on: {push: {branches: [release]}}", ...PIPELINE]);
    expect(plan.triggered).toBe(false);
    const created = await store().createPipeline({ repositoryId: repository.id, plan });
    expect(created.status).toBe("skipped");
    expect((await store().getPipeline(created.id))!.jobs).toEqual([]);
  });

  it("decides at creation a job whose needs the plan already skipped", async () => {
    const repository = await createRepository(test.database);
    const plan = planWith([
      plannedJob("a", { state: "skipped", skipReason: "if: false" }),
      plannedJob("notify", { needs: ["a"], condition: { source: "always()", usesStatus: true } }),
      plannedJob("after", { needs: ["a"] }),
    ]);
    const created = await store().createPipeline({ repositoryId: repository.id, plan });
    expect(await statuses(test.database, created.id)).toEqual({ a: "skipped", notify: "queued", after: "skipped" });
    expect(created.queued).toBe(1);
    expect(created.decided.map((job) => [job.key, job.status, job.detail])).toEqual([
      ["notify", "queued", null],
      ["after", "skipped", "needs 'a' skipped"],
    ]);
  });

  it("finishes at creation a pipeline whose jobs are all skipped", async () => {
    const repository = await createRepository(test.database);
    const created = await store().createPipeline({ repositoryId: repository.id, plan: planWith([plannedJob("a", { state: "skipped", skipReason: "no" })]) });
    expect(created.status).toBe("skipped");
    expect((await store().getPipeline(created.id))!.status).toBe("skipped");
  });

  it("numbers pipelines per repository without gaps or repeats under 20 concurrent creations", async () => {
    const repository = await createRepository(test.database);
    const other = await createRepository(test.database);
    const clients = [test.database, await test.connect(), await test.connect()];
    const plan = planWith([plannedJob("a"), plannedJob("b", { needs: ["a"] })]);
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => new PipelinesStore(clients[i % clients.length]!).createPipeline({ repositoryId: repository.id, plan })),
    );
    expect(created.map((pipeline) => pipeline.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await store().createPipeline({ repositoryId: other.id, plan })).number).toBe(1);
  });

  it("creates nothing when any part fails", async () => {
    const repository = await createRepository(test.database);
    // PostgreSQL refuses NUL in text: the second job's insert fails after the pipeline's.
    const plan = planWith([plannedJob("a"), plannedJob("b", { name: "bad\u0000name" })]);
    await expect(store().createPipeline({ repositoryId: repository.id, plan })).rejects.toThrow();
    expect(await test.database.db.select().from(pipelines).where(eq(pipelines.repositoryId, repository.id))).toEqual([]);
    await expect(store().createPipeline({ repositoryId: 999_999_999, plan: planWith([plannedJob("a")]) })).rejects.toMatchObject({ code: "repository_not_found" });
    await expect(store().createPipeline({ repositoryId: repository.id, plan: planWith([plannedJob("b", { needs: ["a"] }), plannedJob("a")]) })).rejects.toMatchObject({
      code: "invalid_plan",
    });
  });

  it("lists pipelines newest first, filtered, a page at a time", async () => {
    const repository = await createRepository(test.database);
    const other = await createRepository(test.database);
    const onBranch = (branch: string) => planOf(PIPELINE, { event: "push", ref: `refs/heads/${branch}`, sha: "def456", branch });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store().createPipeline({ repositoryId: repository.id, plan: onBranch(i % 2 ? "dev" : "main") })).id);
    await store().createPipeline({ repositoryId: other.id, plan: onBranch("main") });
    await store().createPipeline({ repositoryId: repository.id, error: "broken", file: ".gust.yml", event: PUSH_MAIN });

    const first = await store().listPipelines({ repositoryId: repository.id, status: "pending", limit: 2 });
    expect(first.pipelines.map((pipeline) => pipeline.id)).toEqual([ids[4], ids[3]]);
    expect(first.pipelines[0]).not.toHaveProperty("plan");
    const second = await store().listPipelines({ repositoryId: repository.id, status: "pending", limit: 2, cursor: first.nextCursor! });
    expect(second.pipelines.map((pipeline) => pipeline.id)).toEqual([ids[2], ids[1]]);
    const third = await store().listPipelines({ repositoryId: repository.id, status: "pending", limit: 2, cursor: second.nextCursor! });
    expect(third).toEqual({ pipelines: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

    const dev = await store().listPipelines({ repositoryId: repository.id, branch: "dev" });
    expect(dev.pipelines.map((pipeline) => pipeline.id)).toEqual([ids[3], ids[1]]);
    const errors = await store().listPipelines({ repositoryId: repository.id, status: ["error", "failure"] });
    expect(errors.pipelines).toHaveLength(1);
    await expect(store().listPipelines({ cursor: "abc" })).rejects.toMatchObject({ code: "invalid_cursor" });
  });

  it("reads a pipeline by number and a job with its spec and steps", async () => {
    const repository = await createRepository(test.database);
    const created = await store().createPipeline({ repositoryId: repository.id, plan: planOf(PIPELINE) });
    const byNumber = await store().getPipelineByNumber(repository.id, created.number);
    expect(byNumber?.id).toBe(created.id);
    expect(await store().getPipelineByNumber(repository.id, 99)).toBeUndefined();
    expect(await store().getPipeline(999_999_999)).toBeUndefined();

    const lint = byNumber!.jobs.find((job) => job.key === "lint")!;
    const steps = new StepsStore(test.database);
    const t0 = new Date("2030-01-01T00:00:00Z");
    await steps.recordStep({ jobId: lint.id, attempt: 1, index: 0, name: "make lint", status: "running", startedAt: t0 });
    await steps.recordStep({ jobId: lint.id, attempt: 1, index: 0, name: "make lint", status: "success", exitCode: 0, finishedAt: new Date(t0.getTime() + 1000) });
    await steps.recordStep({ jobId: lint.id, attempt: 1, index: 1, name: "after", status: "skipped", reason: "earlier step failed" });

    const job = await store().getJob(lint.id);
    expect(job?.spec).toMatchObject({ key: "lint", jobId: "lint", steps: [expect.objectContaining({ script: "make lint" })] });
    expect(job?.steps.map((step) => [step.index, step.status, step.exitCode])).toEqual([
      [0, "success", 0],
      [1, "skipped", null],
    ]);
    expect(job?.steps[0]).toMatchObject({ startedAt: t0, finishedAt: new Date(t0.getTime() + 1000) });
    expect(await store().getJob(999_999_999)).toBeUndefined();
  });
});
