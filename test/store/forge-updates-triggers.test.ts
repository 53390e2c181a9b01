// The forge-updates outbox is written by triggers in the transaction of every status change, on
// every code path: creating a pipeline (also a broken one), leasing, finishing, retrying an attempt,
// requeueing after a lost runner, cancelling, and retrying failed jobs; with a NOTIFY for senders.
import { asc, eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { FORGE_UPDATES_CHANNEL } from "../../src/store/forge-updates-store";
import { JobQueue } from "../../src/store/job-queue";
import { PipelineRetry } from "../../src/store/pipeline-retry";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { forgeUpdates, jobs } from "../../src/store/schema";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { PUSH_MAIN, createRepository, planWith, plannedJob } from "./fixtures";

const LEASE = { limit: 10, leaseMs: 60_000 };

describe.each(DATABASE_KINDS)("forge updates outbox: triggers (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const queue = () => new JobQueue(test.database);
  const pipelinesStore = () => new PipelinesStore(test.database);
  beforeEach(() => test.reset());

  /** The outbox of a pipeline as [job key or "pipeline", check run, job attempt, state], in order. */
  async function outbox(pipelineId: number): Promise<Array<[string, number, number, string]>> {
    const rows = await test.database.db
      .select({ key: jobs.key, attempt: forgeUpdates.attempt, jobAttempt: forgeUpdates.jobAttempt, state: forgeUpdates.state })
      .from(forgeUpdates)
      .leftJoin(jobs, eq(jobs.id, forgeUpdates.jobId))
      .where(eq(forgeUpdates.pipelineId, pipelineId))
      .orderBy(asc(forgeUpdates.id));
    return rows.map((row) => [row.key ?? "pipeline", row.attempt, row.jobAttempt, row.state]);
  }

  function bySubject(rows: Array<[string, number, number, string]>): Record<string, Array<[number, number, string]>> {
    const grouped: Record<string, Array<[number, number, string]>> = {};
    for (const [key, ...rest] of rows) (grouped[key] ??= []).push(rest);
    return grouped;
  }

  async function create(jobList = [plannedJob("build"), plannedJob("deploy", { needs: ["build"] })]) {
    const repository = await createRepository(test.database);
    return pipelinesStore().createPipeline({ repositoryId: repository.id, plan: planWith(jobList) });
  }

  it("records a created pipeline and its jobs, then leasing, finishing and the next job queued", async () => {
    const notified: string[] = [];
    const stop = await test.database.listen(FORGE_UPDATES_CHANNEL, (payload) => notified.push(payload));
    const pipeline = await create([plannedJob("build"), plannedJob("deploy", { needs: ["build"] }), plannedJob("docs", { state: "skipped", skipReason: "if: false" })]);
    expect(await outbox(pipeline.id)).toEqual([
      ["pipeline", 1, 0, "pending"],
      ["build", 1, 0, "queued"],
      ["deploy", 1, 0, "waiting"],
      ["docs", 1, 0, "skipped"],
    ]);
    const [build] = await queue().leaseJobs({ owner: "r", ...LEASE });
    await queue().finishJob(build!.id, "r", { status: "success", exitCode: 0 });
    expect((await outbox(pipeline.id)).slice(4)).toEqual([
      ["build", 1, 1, "running"],
      ["pipeline", 1, 0, "running"],
      ["build", 1, 1, "success"],
      ["deploy", 1, 0, "queued"],
    ]);
    const [deploy] = await queue().leaseJobs({ owner: "r", ...LEASE });
    await queue().finishJob(deploy!.id, "r", { status: "failure", exitCode: 1, failedStep: 0 });
    expect((await outbox(pipeline.id)).slice(8)).toEqual([
      ["deploy", 1, 1, "running"],
      ["deploy", 1, 1, "failure"],
      ["pipeline", 1, 0, "failure"],
    ]);
    for (let i = 0; i < 50 && notified.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await stop();
    expect(notified).toContain(String(pipeline.id));
  });

  it("records a broken pipeline file as an error, and nothing for a pipeline that was not triggered", async () => {
    const repository = await createRepository(test.database);
    const broken = await pipelinesStore().createPipeline({ repositoryId: repository.id, error: ".gust.yml:2:3: error: unknown key 'jbos'", file: ".gust.yml", name: "ci", event: PUSH_MAIN });
    expect(await outbox(broken.id)).toEqual([["pipeline", 1, 0, "error"]]);
    const untriggered = await pipelinesStore().createPipeline({ repositoryId: repository.id, plan: planWith([plannedJob("build")], { triggered: false, reason: "branch not matched" }) });
    expect(await outbox(untriggered.id)).toEqual([]);
  });

  it("closes an attempt that is retried and shows the next attempt on a check run of its own", async () => {
    const pipeline = await create([plannedJob("flaky", { retry: { count: 1 } })]);
    const [first] = await queue().leaseJobs({ owner: "r", ...LEASE });
    expect(await queue().finishJob(first!.id, "r", { status: "failure", exitCode: 2, failedStep: 0 })).toMatchObject({ retried: true });
    const [second] = await queue().leaseJobs({ owner: "r", ...LEASE });
    await queue().finishJob(second!.id, "r", { status: "success", exitCode: 0 });
    expect(await outbox(pipeline.id)).toEqual([
      ["pipeline", 1, 0, "pending"],
      ["flaky", 1, 0, "queued"],
      ["flaky", 1, 1, "running"],
      ["pipeline", 1, 0, "running"],
      ["flaky", 1, 1, "requeued"],
      ["flaky", 2, 1, "queued"],
      ["flaky", 2, 2, "running"],
      ["flaky", 2, 2, "success"],
      ["pipeline", 1, 0, "success"],
    ]);
  });

  it("closes the attempt of a job whose runner was lost, and records cancellation", async () => {
    const pipeline = await create([plannedJob("build"), plannedJob("test"), plannedJob("deploy", { needs: ["build", "test"] })]);
    const leased = await queue().leaseJobs({ owner: "r", ...LEASE, limit: 1 });
    expect(await queue().requeue(leased[0]!.id, { owner: "r" })).toBe("requeued");
    const cancelled = await queue().cancelPipeline(pipeline.id);
    expect(cancelled.outcome).toBe("cancelled");
    // One statement cancels several jobs: the order among jobs is the database's, within a job it is fixed.
    expect(bySubject(await outbox(pipeline.id))).toEqual({
      pipeline: [[1, 0, "pending"], [1, 0, "running"], [1, 0, "cancelled"]],
      build: [[1, 0, "queued"], [1, 1, "running"], [1, 1, "requeued"], [2, 1, "queued"], [2, 1, "cancelled"]],
      test: [[1, 0, "queued"], [1, 0, "cancelled"]],
      deploy: [[1, 0, "waiting"], [1, 0, "cancelled"]],
    });
  });

  it("gives failed jobs retried in the same pipeline, and the reopened pipeline, new check runs", async () => {
    const pipeline = await create([plannedJob("build"), plannedJob("deploy", { needs: ["build"] })]);
    const [build] = await queue().leaseJobs({ owner: "r", ...LEASE });
    await queue().finishJob(build!.id, "r", { status: "failure", exitCode: 1, failedStep: 0 });
    const before = (await outbox(pipeline.id)).length;
    expect(await new PipelineRetry(test.database).retry(pipeline.id, { failedOnly: true })).toMatchObject({ outcome: "retried" });
    expect((await outbox(pipeline.id)).slice(before)).toEqual([
      ["build", 2, 1, "queued"],
      ["deploy", 2, 0, "waiting"],
      ["pipeline", 2, 0, "pending"],
      ["pipeline", 2, 0, "running"],
    ]);
  });

  it("writes nothing for changes other than status and attempt", async () => {
    const pipeline = await create([plannedJob("build")]);
    const before = await outbox(pipeline.id);
    await test.database.db.execute(sql`update jobs set log_lines = log_lines + 10, cancel_requested = true, detail = 'x' where pipeline_id = ${pipeline.id}`);
    await test.database.db.execute(sql`update jobs set status = status where pipeline_id = ${pipeline.id}`);
    await test.database.db.execute(sql`update pipelines set cancel_requested = true, status = status where id = ${pipeline.id}`);
    expect(await outbox(pipeline.id)).toEqual(before);
  });
});
