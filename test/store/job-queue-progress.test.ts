// A pipeline moving on in the database: waiting jobs decided as their needs finish (failure(),
// always(), skipped needs, matrix results aggregated), retries, fail-fast, cancellation and
// concurrency groups, and two jobs of one pipeline finishing at once.
import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database";
import { JobQueue, type LeasedJob } from "../../src/store/job-queue";
import { CANCEL_CHANNEL } from "../../src/store/job-progress";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planOf, planWith, plannedJob, runJobs, statuses } from "./fixtures";

const LEASE_MS = 60_000;

describe.each(DATABASE_KINDS)("job queue: pipeline progress (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const queue = () => new JobQueue(test.database);
  const pipelinesStore = () => new PipelinesStore(test.database);
  beforeEach(() => test.reset());

  async function create(lines: string[]): Promise<number> {
    const repository = await createRepository(test.database);
    return (await pipelinesStore().createPipeline({ repositoryId: repository.id, plan: planOf(lines) })).id;
  }
  const pipelineStatus = async (id: number) => (await pipelinesStore().getPipeline(id))!.status;
  const detailOf = async (id: number, key: string) => (await pipelinesStore().getPipeline(id))!.jobs.find((job) => job.key === key)!.detail;

  it("runs a chain to success and marks the pipeline running, then finished", async () => {
    const id = await create(["jobs:", "  a: {steps: [{run: a}]}", "  b: {needs: a, steps: [{run: b}]}", "  c: {needs: b, steps: [{run: c}]}"]);
    expect(await pipelineStatus(id)).toBe("pending");
    await runJobs(queue(), "r", { a: "success" });
    expect(await pipelineStatus(id)).toBe("running");
    expect(await statuses(test.database, id)).toEqual({ a: "success", b: "queued", c: "waiting" });
    await runJobs(queue(), "r", { b: "success" });
    const [c] = (await queue().leaseJobs({ owner: "r", limit: 5, leaseMs: LEASE_MS })) as [LeasedJob];
    const result = await queue().finishJob(c.id, "r", { status: "success", exitCode: 0 });
    expect(result).toMatchObject({ accepted: true, retried: false, pipelineStatus: "success" });
    const pipeline = await pipelinesStore().getPipeline(id);
    expect(pipeline).toMatchObject({ status: "success" });
    expect(pipeline!.finishedAt).toBeInstanceOf(Date);
  });

  it("after a failure skips dependents, runs failure() and always() jobs, and fails the pipeline", async () => {
    const id = await create([
      "jobs:",
      "  lint: {steps: [{run: lint}]}",
      "  test:",
      "    matrix: {node: [20, 24]}",
      "    steps: [{run: test}]",
      "  build: {needs: [lint, test], steps: [{run: build}]}",
      "  deploy: {needs: build, steps: [{run: deploy}]}",
      "  report: {needs: test, if: failure(), steps: [{run: report}]}",
      "  cleanup: {needs: [build], if: always(), steps: [{run: cleanup}]}",
      "  celebrate: {needs: test, if: success(), steps: [{run: party}]}",
    ]);
    await runJobs(queue(), "r", { lint: "success", "test-node-20": { status: "failure", exitCode: 2, failedStep: 0, detail: "step 'run' exited with 2" }, "test-node-24": "success" });
    expect(await statuses(test.database, id)).toEqual({
      lint: "success",
      "test-node-20": "failure",
      "test-node-24": "success",
      build: "skipped",
      deploy: "skipped",
      report: "queued",
      cleanup: "queued",
      celebrate: "skipped",
    });
    expect(await detailOf(id, "build")).toBe("needs 'test' failed");
    expect(await detailOf(id, "deploy")).toBe("needs 'build' skipped");
    expect(await detailOf(id, "test-node-20")).toBe("step 'run' exited with 2");
    expect(await pipelineStatus(id)).toBe("running");
    await runJobs(queue(), "r", { report: "success", cleanup: "success" });
    expect(await pipelineStatus(id)).toBe("failure");
  });

  it("does not hold dependents back for matrix combinations skipped by their own if", async () => {
    const id = await create([
      "jobs:",
      "  test:",
      "    matrix: {os: [linux, mac]}",
      "    if: matrix.os == 'linux'",
      "    steps: [{run: test}]",
      "  package: {needs: test, steps: [{run: package}]}",
    ]);
    expect(await statuses(test.database, id)).toEqual({ "test-os-linux": "queued", "test-os-mac": "skipped", package: "waiting" });
    await runJobs(queue(), "r", { "test-os-linux": "success" });
    expect(await statuses(test.database, id)).toMatchObject({ package: "queued" });
    await runJobs(queue(), "r", { package: "success" });
    expect(await pipelineStatus(id)).toBe("success");
  });

  it("counts timeouts and executor errors as failures for dependents", async () => {
    const id = await create(["jobs:", "  a: {steps: [{run: a}]}", "  b: {steps: [{run: b}]}", "  after-a: {needs: a, steps: [{run: x}]}", "  after-b: {needs: b, if: failure(), steps: [{run: y}]}"]);
    await runJobs(queue(), "r", { a: "timed_out", b: { status: "error", detail: "executor error: pod evicted" } });
    expect(await statuses(test.database, id)).toEqual({ a: "timed_out", b: "error", "after-a": "skipped", "after-b": "queued" });
  });

  it("retries a failed job as its retry says: count and exit codes", async () => {
    const id = await create(["jobs:", "  flaky:", "    retry: {count: 2, exit-codes: [137]}", "    steps: [{run: flaky}]", "  next: {needs: flaky, steps: [{run: next}]}"]);
    const lease = async () => (await queue().leaseJobs({ owner: "r", limit: 5, leaseMs: LEASE_MS }))[0]!;

    const first = await lease();
    expect(await queue().finishJob(first.id, "r", { status: "failure", exitCode: 137 })).toMatchObject({ accepted: true, retried: true });
    expect(await statuses(test.database, id)).toEqual({ flaky: "queued", next: "waiting" });
    expect(await detailOf(id, "flaky")).toBe("attempt 1 failed (exit code 137); retrying");

    const second = await lease();
    expect(second).toMatchObject({ id: first.id, attempt: 2, runId: `${first.id}-2` });
    // Exit code 1 is not one to retry.
    expect(await queue().finishJob(second.id, "r", { status: "failure", exitCode: 1 })).toMatchObject({ accepted: true, retried: false, pipelineStatus: "failure" });
    expect(await statuses(test.database, id)).toEqual({ flaky: "failure", next: "skipped" });
  });

  it("stops retrying after count more attempts, and retries timeouts when no exit codes are listed", async () => {
    const id = await create(["jobs:", "  slow:", "    retry: {count: 1}", "    steps: [{run: slow}]"]);
    const lease = async () => (await queue().leaseJobs({ owner: "r", limit: 5, leaseMs: LEASE_MS }))[0]!;
    const first = await lease();
    expect(await queue().finishJob(first.id, "r", { status: "timed_out" })).toMatchObject({ retried: true });
    const second = await lease();
    expect(second.attempt).toBe(2);
    expect(await queue().finishJob(second.id, "r", { status: "timed_out" })).toMatchObject({ retried: false, pipelineStatus: "failure" });
    expect(await statuses(test.database, id)).toEqual({ slow: "timed_out" });
  });

  it("fail-fast: cancels the matrix siblings not started and asks the running ones to stop", async () => {
    const id = await create(["jobs:", "  test:", "    matrix: {n: [1, 2, 3, 4], max-parallel: 3, fail-fast: true}", "    steps: [{run: test}]"]);
    const stops: string[] = [];
    const unlisten = await test.database.listen(CANCEL_CHANNEL, (payload) => stops.push(payload));
    const leased = await queue().leaseJobs({ owner: "r", limit: 5, leaseMs: LEASE_MS });
    expect(leased.map((job) => job.key)).toEqual(["test-n-1", "test-n-2", "test-n-3"]);
    const result = await queue().finishJob(leased[0]!.id, "r", { status: "failure", exitCode: 1 });
    expect(result).toMatchObject({ accepted: true, stop: [{ jobId: leased[1]!.id, leaseOwner: "r" }, { jobId: leased[2]!.id, leaseOwner: "r" }] });
    expect(await statuses(test.database, id)).toEqual({ "test-n-1": "failure", "test-n-2": "running", "test-n-3": "running", "test-n-4": "cancelled" });
    expect(await detailOf(id, "test-n-4")).toBe("fail-fast: test (n: 1) failed");
    expect(await queue().heartbeat("r", [leased[1]!.id, leased[2]!.id], LEASE_MS)).toEqual({ lost: [], cancelRequested: [leased[1]!.id, leased[2]!.id] });

    const deadline = Date.now() + 5_000;
    while (stops.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(JSON.parse(stops[0]!)).toEqual([leased[1]!.id, leased[2]!.id]);
    await unlisten();

    await queue().finishJob(leased[1]!.id, "r", { status: "cancelled" });
    expect((await queue().finishJob(leased[2]!.id, "r", { status: "cancelled" })) as { pipelineStatus?: string }).toMatchObject({ pipelineStatus: "failure" });
  });

  it("cancels a pipeline: queued jobs end, running ones are returned to stop, always() jobs still run", async () => {
    const id = await create([
      "jobs:",
      "  long: {steps: [{run: sleep 100}]}",
      "  other: {steps: [{run: other}]}",
      "  queued-too: {steps: [{run: x}]}",
      "  after: {needs: long, steps: [{run: after}]}",
      "  teardown: {needs: long, if: always(), steps: [{run: teardown}]}",
      "  on-cancel: {needs: [long], if: cancelled(), steps: [{run: notify}]}",
      "  on-success: {needs: [other], if: success(), steps: [{run: fine}]}",
    ]);
    const [long, other] = (await queue().leaseJobs({ owner: "r", limit: 2, leaseMs: LEASE_MS })) as [LeasedJob, LeasedJob];
    expect([long.key, other.key]).toEqual(["long", "other"]);
    await queue().finishJob(other.id, "r", { status: "success" });
    // Decided before the cancel arrives: it is queued, then ends with the other queued jobs.
    expect(await statuses(test.database, id)).toMatchObject({ "on-success": "queued" });

    const cancelled = await queue().cancelPipeline(id);
    expect(cancelled).toMatchObject({ outcome: "cancelled", stop: [{ jobId: long.id, runId: `${long.id}-1`, leaseOwner: "r" }] });
    expect(cancelled.pipelineStatus).toBeUndefined();
    expect(await statuses(test.database, id)).toEqual({
      long: "running",
      other: "success",
      "queued-too": "cancelled",
      after: "waiting",
      teardown: "waiting",
      "on-cancel": "waiting",
      "on-success": "cancelled",
    });
    expect(await detailOf(id, "queued-too")).toBe("the pipeline was cancelled");
    expect(await queue().heartbeat("r", [long.id], LEASE_MS)).toEqual({ lost: [], cancelRequested: [long.id] });

    // The running job ends cancelled: no retry, `after` is cancelled, `teardown` (always()) runs.
    const finished = await queue().finishJob(long.id, "r", { status: "cancelled", detail: "cancelled" });
    expect(finished).toMatchObject({ accepted: true, retried: false });
    expect(await statuses(test.database, id)).toMatchObject({ long: "cancelled", after: "cancelled", teardown: "queued", "on-cancel": "queued" });
    expect(await detailOf(id, "after")).toBe("the pipeline was cancelled");

    const rest = await queue().leaseJobs({ owner: "r", limit: 5, leaseMs: LEASE_MS });
    expect(rest.map((job) => job.key).sort()).toEqual(["on-cancel", "teardown"]);
    expect(await queue().heartbeat("r", rest.map((job) => job.id), LEASE_MS)).toEqual({ lost: [], cancelRequested: [] });
    for (const job of rest) await queue().finishJob(job.id, "r", { status: "success" });
    expect(await pipelineStatus(id)).toBe("cancelled");
    expect(await queue().cancelPipeline(id)).toMatchObject({ outcome: "already_finished", stop: [] });
    expect(await queue().cancelPipeline(999_999_999)).toMatchObject({ outcome: "not_found" });
  });

  it("finishes a cancelled pipeline at once when nothing runs, and never retries after a cancel", async () => {
    const waiting = await create(["jobs:", "  a: {steps: [{run: a}]}", "  b: {needs: a, steps: [{run: b}]}"]);
    expect(await queue().cancelPipeline(waiting)).toMatchObject({ outcome: "cancelled", stop: [], pipelineStatus: "cancelled" });
    expect(await statuses(test.database, waiting)).toEqual({ a: "cancelled", b: "cancelled" });

    const retrying = await create(["jobs:", "  flaky:", "    retry: {count: 3}", "    steps: [{run: flaky}]"]);
    const [job] = (await queue().leaseJobs({ owner: "r", limit: 1, leaseMs: LEASE_MS })) as [LeasedJob];
    await queue().cancelPipeline(retrying);
    expect(await queue().finishJob(job.id, "r", { status: "failure", exitCode: 1 })).toMatchObject({ retried: false, pipelineStatus: "cancelled" });
  });

  it("finishes a job as cancelled instead of requeueing it when its runner is lost after a cancel", async () => {
    const id = await create(["jobs:", "  a: {steps: [{run: a}]}"]);
    const [job] = (await queue().leaseJobs({ owner: "gone", limit: 1, leaseMs: LEASE_MS })) as [LeasedJob];
    await queue().cancelPipeline(id);
    expect(await queue().requeue(job.id)).toBe("cancelled");
    expect(await pipelineStatus(id)).toBe("cancelled");
  });

  it("finds and cancels older runs of the same concurrency group in the same repository", async () => {
    const repository = await createRepository(test.database);
    const otherRepository = await createRepository(test.database);
    const grouped = (group: string) => planWith([plannedJob("deploy")], { concurrency: { group, cancelInProgress: true } });
    const make = (repositoryId: number, group: string) => pipelinesStore().createPipeline({ repositoryId, plan: grouped(group) }).then((created) => created.id);
    const oldest = await make(repository.id, "deploy-main");
    const [running] = (await queue().leaseJobs({ owner: "r", limit: 1, leaseMs: LEASE_MS })) as [LeasedJob];
    expect(running.pipelineId).toBe(oldest);
    const older = await make(repository.id, "deploy-main");
    const elsewhere = await make(otherRepository.id, "deploy-main");
    const otherGroup = await make(repository.id, "deploy-dev");
    const newest = await make(repository.id, "deploy-main");

    expect(await queue().olderInGroup(newest)).toEqual([oldest, older]);
    expect(await queue().olderInGroup(oldest)).toEqual([]);
    const result = await queue().cancelInProgress(newest);
    expect(result).toEqual({ pipelineIds: [oldest, older], stop: [{ jobId: running.id, runId: running.runId, leaseOwner: "r" }] });
    expect(await pipelineStatus(older)).toBe("cancelled");
    expect(await pipelineStatus(oldest)).toBe("running");
    for (const id of [elsewhere, otherGroup, newest]) expect(await pipelineStatus(id)).toBe("pending");
    expect(await queue().olderInGroup(newest)).toEqual([oldest]);
  });

  it("queues a job once when the jobs it needs finish at the same moment on different replicas", async () => {
    const repository = await createRepository(test.database);
    const clients: Database[] = await Promise.all(Array.from({ length: 6 }, () => test.connect({ maxConnections: 2 })));
    for (let round = 0; round < 5; round++) {
      const plan = planWith([...Array.from({ length: 6 }, (_, i) => plannedJob(`part-${i}`)), plannedJob("join", { needs: Array.from({ length: 6 }, (_, i) => `part-${i}`) })]);
      const { id } = await pipelinesStore().createPipeline({ repositoryId: repository.id, plan });
      const parts = await queue().leaseJobs({ owner: "r", limit: 10, leaseMs: LEASE_MS });
      expect(parts.map((job) => job.pipelineId)).toEqual(Array(6).fill(id));
      const results = await Promise.all(parts.map((job, i) => new JobQueue(clients[i]!).finishJob(job.id, "r", { status: "success" })));
      expect(results.every((result) => result.accepted)).toBe(true);
      const decidedJoin = results.flatMap((result) => (result.accepted ? result.decided : [])).filter((job) => job.key === "join");
      expect(decidedJoin).toEqual([expect.objectContaining({ status: "queued" })]);
      expect((await statuses(test.database, id)).join).toBe("queued");
      await runJobs(queue(), "r", { join: "success" });
      expect(await pipelineStatus(id)).toBe("success");
    }
  });
});
