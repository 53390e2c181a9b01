// Handing out the forge-updates outbox: only the head of each job's queue, coalesced to the newest
// state of its attempt; claims that expire; retries and giving up; report ids kept; and two
// senders on separate connections never sending one update twice nor a job's updates out of order.
import { asc, eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { ForgeUpdatesStore, type ClaimedUpdate } from "../../src/store/forge-updates-store";
import { JobQueue } from "../../src/store/job-queue";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { forgeUpdates, jobs, pipelines } from "../../src/store/schema";
import { rowsOf } from "../../src/store/transaction";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planWith, plannedJob } from "./fixtures";

const CLAIM_MS = 60_000;
const LEASE = { limit: 10, leaseMs: 60_000 };

describe.each(DATABASE_KINDS)("forge updates outbox: claims (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const outbox = () => new ForgeUpdatesStore(test.database);
  const queue = () => new JobQueue(test.database);
  beforeEach(() => test.reset());

  async function create(jobList = [plannedJob("build")], repositoryId?: number) {
    const repository = repositoryId ?? (await createRepository(test.database)).id;
    const pipeline = await new PipelinesStore(test.database).createPipeline({ repositoryId: repository, plan: planWith(jobList) });
    const rows = await test.database.db.select({ id: jobs.id, key: jobs.key }).from(jobs).where(eq(jobs.pipelineId, pipeline.id));
    const ids = new Map(rows.map((row) => [row.key, row.id]));
    const job = (key: string): number => {
      const id = ids.get(key);
      if (id === undefined) throw new Error(`no job ${key}`);
      return id;
    };
    return { pipelineId: pipeline.id, repositoryId: repository, job, jobIds: [...ids.values()] };
  }

  const claim = (owner: string, extra: Partial<Parameters<ForgeUpdatesStore["claim"]>[0]> = {}) => outbox().claim({ owner, limit: 100, claimMs: CLAIM_MS, ...extra });
  const brief = (updates: ClaimedUpdate[]) => updates.map((update) => [update.jobId, update.attempt, update.state]).sort((a, b) => Number(a[0] ?? 0) - Number(b[0] ?? 0));

  async function statusOf(): Promise<Array<[number | null, string, string]>> {
    const rows = await test.database.db.select().from(forgeUpdates).orderBy(asc(forgeUpdates.id));
    return rows.map((row) => [row.jobId, row.state, row.status]);
  }

  it("hands out the head of each job's queue, the next one only after it was sent", async () => {
    const { job } = await create([plannedJob("a"), plannedJob("b")]);
    const first = await claim("r1");
    expect(brief(first)).toEqual([
      [null, 1, "pending"],
      [job("a"), 1, "queued"],
      [job("b"), 1, "queued"],
    ]);
    // Every head is claimed: nothing more for anyone, even with new states behind them.
    await queue().leaseJobs({ owner: "q", ...LEASE });
    expect(await claim("r2")).toEqual([]);
    expect(await claim("r1")).toEqual([]);
    for (const update of first) expect(await outbox().markSent(update, "r1")).toBe(true);
    expect(brief(await claim("r2"))).toEqual([
      [null, 1, "running"],
      [job("a"), 1, "running"],
      [job("b"), 1, "running"],
    ]);
  });

  it("sends only the newest pending state of a job attempt, marking the older ones superseded", async () => {
    const { job } = await create([plannedJob("a")]);
    const [leased] = await queue().leaseJobs({ owner: "q", ...LEASE });
    await queue().finishJob(leased!.id, "q", { status: "success", exitCode: 0 });
    const claimed = await claim("r1");
    expect(brief(claimed)).toEqual([
      [null, 1, "success"],
      [job("a"), 1, "success"],
    ]);
    expect(claimed.find((update) => update.jobId === job("a"))!.superseded).toBe(2);
    expect(await statusOf()).toEqual([
      [null, "pending", "superseded"],
      [job("a"), "queued", "superseded"],
      [job("a"), "running", "superseded"],
      [null, "running", "superseded"],
      [job("a"), "success", "pending"],
      [null, "success", "pending"],
    ]);
  });

  it("never coalesces across check runs: a retried attempt is closed before the next one is shown", async () => {
    const { job } = await create([plannedJob("flaky", { retry: { count: 1 } })]);
    const [first] = await queue().leaseJobs({ owner: "q", ...LEASE });
    await queue().finishJob(first!.id, "q", { status: "failure", exitCode: 1, failedStep: 0 });
    const [second] = await queue().leaseJobs({ owner: "q", ...LEASE });
    await queue().finishJob(second!.id, "q", { status: "success", exitCode: 0 });
    const sent: Array<[number, number, string]> = [];
    for (let round = 0; round < 5; round++) {
      for (const update of await claim("r1")) {
        if (update.jobId === job("flaky")) sent.push([update.attempt, update.jobAttempt, update.state]);
        await outbox().markSent(update, "r1");
      }
    }
    expect(sent).toEqual([
      [1, 1, "requeued"],
      [2, 2, "success"],
    ]);
  });

  it("lets another owner take a claim once it expired; the first owner can then no longer finish it", async () => {
    await create([plannedJob("a")]);
    const [claimed] = (await claim("dead", { limit: 1 })) as [ClaimedUpdate];
    expect(await claim("alive", { now: new Date(Date.now() + CLAIM_MS / 2) })).not.toContainEqual(expect.objectContaining({ id: claimed.id }));
    const retaken = await claim("alive", { now: new Date(Date.now() + CLAIM_MS + 5_000) });
    expect(retaken.map((update) => update.id)).toContain(claimed.id);
    expect(await outbox().markSent(claimed, "dead")).toBe(false);
    expect(await outbox().markSent(retaken.find((update) => update.id === claimed.id)!, "alive")).toBe(true);
  });

  it("retries later with the failure recorded, and after giving up lets the job's next update go", async () => {
    const { job } = await create([plannedJob("a")]);
    const [update] = (await claim("r1")).filter((claimed) => claimed.jobId === job("a")) as [ClaimedUpdate];
    expect(await outbox().retryLater(update, "r1", { delayMs: 60_000, error: "GitHub answered 502" })).toBe(true);
    expect((await claim("r1")).filter((claimed) => claimed.jobId === job("a"))).toEqual([]);
    const due = await outbox().nextDueInMs();
    expect(due).toBeGreaterThan(50_000);
    expect(due).toBeLessThanOrEqual(60_000);

    const later = new Date(Date.now() + 61_000);
    const [again] = (await claim("r1", { now: later })).filter((claimed) => claimed.jobId === job("a")) as [ClaimedUpdate];
    expect(again).toMatchObject({ id: update.id, attempts: 1 });
    expect(again.failingSince).toBeInstanceOf(Date);
    await queue().leaseJobs({ owner: "q", ...LEASE });
    expect(await outbox().giveUp(again, "r1", "Resource not accessible by integration")).toBe(true);
    const [row] = await test.database.db.select().from(forgeUpdates).where(eq(forgeUpdates.id, update.id));
    expect(row).toMatchObject({ status: "failed", attempts: 2, lastError: "Resource not accessible by integration" });
    const [next] = (await claim("r1", { now: later })).filter((claimed) => claimed.jobId === job("a"));
    expect(next).toMatchObject({ state: "running" });
  });

  it("keeps the report id of the newest check run on the job and the pipeline", async () => {
    const { pipelineId, job } = await create([plannedJob("a")]);
    const claimed = await claim("r1");
    for (const update of claimed) await outbox().markSent(update, "r1", update.jobId === null ? "run-p1" : "run-a1");
    const [a] = await test.database.db.select({ reportId: jobs.reportId, reportAttempt: jobs.reportAttempt }).from(jobs).where(eq(jobs.id, job("a")));
    expect(a).toEqual({ reportId: "run-a1", reportAttempt: 1 });
    const [pipeline] = await test.database.db.select({ reportId: pipelines.reportId }).from(pipelines).where(eq(pipelines.id, pipelineId));
    expect(pipeline).toEqual({ reportId: "run-p1" });
    // A late report of an earlier check run never takes the place of a later one.
    await test.database.db.update(jobs).set({ reportId: "run-a2", reportAttempt: 2 }).where(eq(jobs.id, job("a")));
    await outbox().markSent({ id: -1, pipelineId, jobId: job("a"), attempt: 1 }, "r1", "run-a1-late");
    const [after] = await test.database.db.select({ reportId: jobs.reportId }).from(jobs).where(eq(jobs.id, job("a")));
    expect(after).toEqual({ reportId: "run-a2" });
  });

  it("leaves out paused repositories and keeps to the limit per repository", async () => {
    const one = await create([plannedJob("a"), plannedJob("b"), plannedJob("c")]);
    const two = await create([plannedJob("x")]);
    const skipped = await claim("r1", { skipRepositoryIds: [one.repositoryId] });
    expect(new Set(skipped.map((update) => update.pipelineId))).toEqual(new Set([two.pipelineId]));
    const limited = await claim("r1", { maxPerRepository: 3, inFlight: new Map([[one.repositoryId, 1]]) });
    expect(limited.filter((update) => update.repositoryId === one.repositoryId)).toHaveLength(2);
    expect(await outbox().nextDueInMs({ skipRepositoryIds: [one.repositoryId, two.repositoryId] })).toBeUndefined();
  });

  it("prunes updates done long ago, but keeps the newest of each job", async () => {
    const { job } = await create([plannedJob("a")]);
    const [leased] = await queue().leaseJobs({ owner: "q", ...LEASE });
    await queue().finishJob(leased!.id, "q", { status: "success", exitCode: 0 });
    for (const update of await claim("r1")) await outbox().markSent(update, "r1");
    expect(await outbox().prune(60_000)).toBe(0);
    const removed = await outbox().prune(60_000, new Date(Date.now() + 120_000));
    expect(removed).toBe(4);
    expect(await statusOf()).toEqual([
      [job("a"), "success", "sent"],
      [null, "success", "sent"],
    ]);
  });

  it("two senders on separate connections never send an update twice, nor a job's updates out of order", async () => {
    const { jobIds } = await create(Array.from({ length: 6 }, (_, i) => plannedJob(`j${i}`)));
    // Each job moves through every state while the senders run.
    const states = (async () => {
      for (let round = 0; round < 6; round++) {
        const leased = await queue().leaseJobs({ owner: "q", ...LEASE, limit: 1 });
        for (const leasedJob of leased) await queue().finishJob(leasedJob.id, "q", { status: "success", exitCode: 0 });
      }
    })();
    const sent: Array<{ owner: string; id: number; jobId: number | null; state: string }> = [];
    const sender = async (owner: string) => {
      const store = new ForgeUpdatesStore(await test.connect());
      for (let idle = 0; idle < 3; ) {
        const claimed = await store.claim({ owner, limit: 3, claimMs: CLAIM_MS });
        if (claimed.length === 0) {
          idle++;
          await new Promise((resolve) => setTimeout(resolve, 30));
          continue;
        }
        idle = 0;
        await Promise.all(
          claimed.map(async (update) => {
            sent.push({ owner, id: update.id, jobId: update.jobId, state: update.state });
            expect(await store.markSent(update, owner)).toBe(true);
          }),
        );
      }
    };
    await Promise.all([states, sender("r1"), sender("r2")]);
    for (let round = 0; round < 3; round++) await sender("r3");

    const ids = sent.map((update) => update.id);
    expect(new Set(ids).size).toBe(ids.length);
    const [row] = await rowsOf<{ pending: number }>(test.database.db, sql`select count(*)::int as pending from forge_updates where status = 'pending'`);
    expect(row!.pending).toBe(0);
    for (const jobId of jobIds) {
      const order = sent.filter((update) => update.jobId === jobId).map((update) => update.state);
      // Whatever was coalesced away, what was sent is in order and ends with the final state.
      const rank = ["queued", "running", "success"];
      expect(order.map((state) => rank.indexOf(state))).toEqual([...order.map((state) => rank.indexOf(state))].sort());
      expect(order.at(-1)).toBe("success");
    }
  });
});
